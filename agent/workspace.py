"""Workspace operations: listing, swapping in a new tree while keeping some paths, single files."""

import os
import shutil
import stat
import uuid

from .errors import bad_request, conflict
from .paths import RESERVED_PREFIX, Workspace, split_relative


def new_staging_dir(ws: Workspace) -> str:
    path = os.path.join(ws.root, f"{RESERVED_PREFIX}{uuid.uuid4().hex}")
    os.mkdir(path, 0o700)
    return path


def remove_leftovers(ws: Workspace) -> None:
    """Remove staging trees and partial files a crashed agent left at the top of the workspace."""
    for name in os.listdir(ws.root):
        if name.startswith(RESERVED_PREFIX):
            remove_path(os.path.join(ws.root, name))


def remove_path(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.unlink(path)


def entry_info(path: str, name: str) -> dict:
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        kind = "symlink"
    elif stat.S_ISDIR(st.st_mode):
        kind = "dir"
    elif stat.S_ISREG(st.st_mode):
        kind = "file"
    else:
        kind = "other"
    return {"name": name, "type": kind, "size": st.st_size if kind == "file" else 0, "mtime": st.st_mtime}


def list_dir(real_dir: str, offset: int, limit: int) -> tuple[list[dict], int]:
    names = sorted(n for n in os.listdir(real_dir) if not n.startswith(RESERVED_PREFIX))
    entries = []
    for name in names[offset:offset + limit]:
        try:
            entries.append(entry_info(os.path.join(real_dir, name), name))
        except FileNotFoundError:  # removed while we listed
            continue
    return entries, len(names)


def normalise_keep(keep: list[str]) -> list[list[str]]:
    """Keep paths as component lists, without entries nested under another kept entry."""
    paths = sorted({tuple(split_relative(k)) for k in keep if k.strip()})
    result: list[list[str]] = []
    for parts in paths:
        if not parts:
            raise bad_request("The keep-list names the whole workspace; nothing would be replaced.", "bad_keep")
        if not any(parts[:len(kept)] == tuple(kept) for kept in result):
            result.append(list(parts))
    return result


def _present_keep_paths(ws: Workspace, keep: list[list[str]]) -> list[list[str]]:
    """Kept paths that exist and are reached through real directories only (no symlinked parents)."""
    present = []
    for parts in keep:
        current = ws.root
        reachable = True
        for part in parts[:-1]:
            current = os.path.join(current, part)
            try:
                if not stat.S_ISDIR(os.lstat(current).st_mode):
                    reachable = False
                    break
            except FileNotFoundError:
                reachable = False
                break
        if reachable and os.path.lexists(os.path.join(current, parts[-1])):
            present.append(parts)
    return present


def replace_contents(ws: Workspace, new_tree: str, keep: list[list[str]], staging: str) -> dict:
    """Make the workspace hold exactly new_tree plus the kept paths it already had.

    new_tree and staging are inside the workspace (same filesystem), so every step is a rename; the
    renames are journalled and undone if any step fails, leaving the workspace as it was. The caller
    holds the workspace lock and removes `staging` afterwards.
    """
    present = _present_keep_paths(ws, keep)
    skipped = []
    for parts in present:  # all checks before the first rename
        target = os.path.join(new_tree, *parts)
        for depth in range(1, len(parts)):
            parent = os.path.join(new_tree, *parts[:depth])
            if os.path.lexists(parent) and not (os.path.isdir(parent) and not os.path.islink(parent)):
                raise bad_request(f"The archive has a file at {'/'.join(parts[:depth])!r}, where the kept path "
                                  f"{'/'.join(parts)!r} needs a directory.", "bad_keep")
        if os.path.lexists(target):
            skipped.append("/".join(parts))
    for name in skipped:
        remove_path(os.path.join(new_tree, name))

    old_tree = os.path.join(staging, "old")
    os.mkdir(old_tree)
    journal: list[tuple[str, str]] = []

    def move(src: str, dst: str) -> None:
        os.rename(src, dst)
        journal.append((src, dst))

    try:
        for parts in present:
            dst = os.path.join(new_tree, *parts)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            move(os.path.join(ws.root, *parts), dst)
        for name in os.listdir(ws.root):
            if not name.startswith(RESERVED_PREFIX):
                move(os.path.join(ws.root, name), os.path.join(old_tree, name))
        for name in os.listdir(new_tree):
            move(os.path.join(new_tree, name), os.path.join(ws.root, name))
    except OSError:
        for src, dst in reversed(journal):
            os.rename(dst, src)
        raise
    return {"kept": ["/".join(p) for p in present], "skipped_from_archive": skipped}


def write_file_atomically(source_tmp: str, target: str) -> None:
    """Move an uploaded temp file (already in the target's directory) over the target."""
    if os.path.isdir(target):  # made a directory while the body was uploading
        raise conflict(f"{os.path.basename(target)!r} is now a directory; delete it first or choose another "
                       "name.", "is_a_directory")
    os.chmod(source_tmp, 0o644)
    os.replace(source_tmp, target)


def make_dir(ws: Workspace, path: str) -> str:
    parts = split_relative(path)
    if not parts:
        raise bad_request("Give the path of the directory to create.", "bad_path")
    current = ws.root
    for part in parts:
        current = os.path.join(current, part)
        real = os.path.realpath(current)
        if real != ws.root and not real.startswith(ws.root + os.sep):
            raise bad_request(f"The path {path!r} leads outside the workspace (through a symbolic link).",
                              "bad_path")
        if os.path.lexists(real):
            if not os.path.isdir(real):
                raise conflict(f"{'/'.join(parts)!r} cannot be created: {part!r} exists and is not a directory.",
                               "not_a_directory")
        else:
            os.mkdir(real)
        current = real
    return ws.relative(current)


def delete_entry(parent: str, name: str) -> None:
    remove_path(os.path.join(parent, name))
