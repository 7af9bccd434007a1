"""The portal's durable copy of each run's log: a file in the default storage (MEDIA_ROOT), named in
Run.log_file, written at byte offsets so that copying the same bytes twice never duplicates them."""

import os

from django.conf import settings
from django.core.files.storage import default_storage


def storage_name(run):
    return f"{settings.RUN_LOG_DIR}/{run.pk}.log"


def local_path(run):
    return default_storage.path(run.log_file or storage_name(run))


def write_at(run, offset, data):
    """Write `data` at byte `offset` of the run's log copy (creating it), and name it in the row."""
    if not run.log_file:
        run.log_file = storage_name(run)
    path = local_path(run)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o640)
    try:
        os.pwrite(fd, data, offset)
    finally:
        os.close(fd)


def reset(run):
    """Start the run's log copy empty (a stale file of the same name, say after a database reset, goes)."""
    run.log_file = storage_name(run)
    path = local_path(run)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb"):
        pass


def size(run):
    try:
        return os.path.getsize(local_path(run)) if run.log_file else 0
    except OSError:
        return 0


def open_log(run):
    """The log copy opened for reading, or None."""
    if not run.log_file:
        return None
    try:
        return open(local_path(run), "rb")
    except OSError:
        return None
