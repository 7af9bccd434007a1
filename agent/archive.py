"""Checking an uploaded archive completely, then extracting it into a staging directory.

Nothing here touches the workspace: `workspace.replace_contents` swaps the staged tree in.
"""

import errno
import os
import stat
import tarfile
import time
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass

from .errors import AgentError, bad_request
from .paths import split_relative

ZIP, TAR, TAR_GZ = "zip", "tar", "tar.gz"
FORMAT_NAMES = {"zip": ZIP, "tar": TAR, "tar.gz": TAR_GZ, "tgz": TAR_GZ}
CONTENT_TYPES = {
    "application/zip": ZIP,
    "application/x-zip-compressed": ZIP,
    "application/x-tar": TAR,
    "application/gzip": TAR_GZ,
    "application/x-gzip": TAR_GZ,
    "application/x-gtar": TAR_GZ,
    "application/x-compressed-tar": TAR_GZ,
}
# Small members have meaningless compression ratios (a kilobyte of spaces compresses 100-fold).
RATIO_CHECK_MIN_BYTES = 1024 * 1024
COPY_CHUNK = 1024 * 1024
_ZIP_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}


@dataclass
class Limits:
    max_total_bytes: int
    max_entries: int
    max_ratio: float


@dataclass
class Member:
    parts: list[str]
    is_dir: bool
    size: int
    executable: bool
    mtime: float
    source: object  # ZipInfo, or the member's index in the tar stream

    @property
    def name(self) -> str:
        return "/".join(self.parts)


def detect_format(path: str, declared: str | None, content_type: str | None) -> str:
    """The archive format: ?format= if given, else the file's magic bytes, else the Content-Type."""
    if declared:
        try:
            return FORMAT_NAMES[declared.lower()]
        except KeyError:
            raise bad_request(f"Unknown archive format {declared!r}; use zip, tar or tar.gz.",
                              "unsupported_archive") from None
    with open(path, "rb") as f:
        head = f.read(512)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return ZIP
    if head.startswith(b"\x1f\x8b"):
        return TAR_GZ
    if head[257:262] == b"ustar":
        return TAR
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime in CONTENT_TYPES:
        return CONTENT_TYPES[mime]
    raise bad_request("The upload is not a zip, tar or tar.gz archive (its first bytes match none of "
                      "them). Create it with `zip -r` or `tar czf`.", "unsupported_archive")


class _Checker:
    """Accumulates members and refuses duplicates, case collisions and file/directory clashes."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.members: list[Member] = []
        self.total = 0
        self.seen: dict[str, tuple[str, bool]] = {}  # folded path → (original path, is_dir)

    def add(self, raw_name: str, is_dir: bool, size: int, executable: bool, mtime: float, source) -> None:
        if len(self.members) >= self.limits.max_entries:
            raise bad_request(f"The archive has more than {self.limits.max_entries} entries, the limit of "
                              "this agent.", "archive_too_many_entries")
        parts = split_relative(raw_name, archive_entry=True)
        if not parts:
            return  # the archive's root directory, such as "./"
        for depth in range(1, len(parts)):
            self._claim(parts[:depth], True, raw_name)
        self._claim(parts, is_dir, raw_name)
        self.total += size
        if self.total > self.limits.max_total_bytes:
            raise bad_request(f"The archive expands to more than {self.limits.max_total_bytes} bytes, the "
                              "limit of this agent.", "archive_too_large")
        self.members.append(Member(parts, is_dir, size, executable, mtime, source))

    def _claim(self, parts: list[str], is_dir: bool, raw_name: str) -> None:
        original = "/".join(parts)
        key = unicodedata.normalize("NFC", original).casefold()
        previous = self.seen.get(key)
        if previous is None:
            self.seen[key] = (original, is_dir)
            return
        prev_name, prev_is_dir = previous
        if prev_name != original:
            raise bad_request(f"The archive has both {prev_name!r} and {original!r}, names that differ only "
                              "in case; they would collide on many filesystems.", "archive_name_collision")
        if prev_is_dir and is_dir:
            return
        if prev_is_dir != is_dir:
            raise bad_request(f"The archive has {original!r} both as a file and as a directory.",
                              "archive_name_collision")
        raise bad_request(f"The archive has the entry {raw_name!r} more than once.", "archive_duplicate_entry")


def _refuse_type(name: str, kind: str) -> AgentError:
    return bad_request(f"The archive entry {name!r} is a {kind}; archives may only contain regular files "
                       "and directories.", "archive_bad_entry")


def _check_ratio(what: str, size: int, compressed: int, limits: Limits) -> None:
    if size > RATIO_CHECK_MIN_BYTES and size > limits.max_ratio * max(compressed, 1):
        raise bad_request(f"{what} expands {size / max(compressed, 1):.0f} times when unpacked (this agent's "
                          f"limit is {limits.max_ratio:.0f}); this looks like a zip bomb.", "archive_ratio")


def _zip_members(path: str, limits: Limits) -> list[Member]:
    checker = _Checker(limits)
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        if len(infos) > limits.max_entries:
            raise bad_request(f"The archive has {len(infos)} entries; this agent accepts at most "
                              f"{limits.max_entries}.", "archive_too_many_entries")
        for info in infos:
            name = info.orig_filename
            split_relative(name, archive_entry=True)  # NUL is only visible in orig_filename
            if info.flag_bits & 0x1:
                raise bad_request(f"The archive entry {name!r} is encrypted; upload an unencrypted archive.",
                                  "unsupported_archive")
            if info.compress_type not in _ZIP_METHODS:
                raise bad_request(f"The archive entry {name!r} uses a compression method this agent cannot "
                                  "read; use deflate (the default of `zip`).", "unsupported_archive")
            mode = info.external_attr >> 16 if info.create_system == 3 else 0
            file_type = stat.S_IFMT(mode)
            if file_type == stat.S_IFLNK:
                raise _refuse_type(name, "symbolic link")
            if file_type not in (0, stat.S_IFREG, stat.S_IFDIR):
                raise _refuse_type(name, "device, pipe or socket")
            is_dir = info.is_dir() or file_type == stat.S_IFDIR
            if not is_dir:
                _check_ratio(f"The archive entry {name!r}", info.file_size, info.compress_size, limits)
            mtime = time.mktime(info.date_time + (0, 0, -1))
            checker.add(name, is_dir, 0 if is_dir else info.file_size, bool(mode & 0o111), mtime, info)
    return checker.members


def _tar_members(path: str, gz: bool, limits: Limits) -> list[Member]:
    checker = _Checker(limits)
    compressed = os.path.getsize(path)
    with tarfile.open(path, "r|gz" if gz else "r|") as tf:
        for index, m in enumerate(tf):
            if m.issym() or m.islnk():
                raise _refuse_type(m.name, "symbolic link" if m.issym() else "hard link")
            if m.ischr() or m.isblk() or m.isfifo():
                raise _refuse_type(m.name, "device or pipe")
            if m.issparse() or not (m.isreg() or m.isdir()):
                raise _refuse_type(m.name, "special entry")
            checker.add(m.name, m.isdir(), m.size if m.isreg() else 0, bool(m.mode & 0o111), m.mtime, index)
            if gz:
                _check_ratio("The archive", checker.total, compressed, limits)
    return checker.members


def read_members(path: str, fmt: str, limits: Limits) -> list[Member]:
    """Check every entry of the archive; raise a 400 AgentError on the first problem."""
    try:
        if fmt == ZIP:
            return _zip_members(path, limits)
        return _tar_members(path, fmt == TAR_GZ, limits)
    except AgentError:
        raise
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, ValueError, OSError) as exc:
        raise _corrupt(fmt, exc) from None


def _corrupt(fmt: str, exc: Exception) -> AgentError:
    return bad_request(f"The {fmt} archive is corrupt or truncated ({exc}); check that the upload is "
                       "complete and that the file opens on your machine.", "corrupt_archive")


def _write_member(member: Member, reader, dest_root: str) -> None:
    target = os.path.join(dest_root, *member.parts)
    if member.is_dir:
        os.makedirs(target, exist_ok=True)
        return
    os.makedirs(os.path.dirname(target), exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                 0o755 if member.executable else 0o644)
    written = 0
    with os.fdopen(fd, "wb") as out:
        while chunk := reader.read(COPY_CHUNK):
            written += len(chunk)
            if written > member.size:
                raise ValueError(f"entry {member.name!r} holds more data than its header says")
            out.write(chunk)
    if written != member.size:
        raise ValueError(f"entry {member.name!r} holds less data than its header says")
    os.utime(target, (member.mtime, member.mtime))


def extract(path: str, fmt: str, members: list[Member], dest_root: str) -> None:
    """Write the checked members under dest_root (a new, empty staging directory)."""
    try:
        if fmt == ZIP:
            with zipfile.ZipFile(path) as zf:
                for member in members:
                    if member.is_dir:
                        _write_member(member, None, dest_root)
                    else:
                        with zf.open(member.source) as reader:
                            _write_member(member, reader, dest_root)
        else:
            by_index = {m.source: m for m in members}
            with tarfile.open(path, "r|gz" if fmt == TAR_GZ else "r|") as tf:
                for index, info in enumerate(tf):
                    member = by_index.get(index)
                    if member is None:
                        continue
                    reader = tf.extractfile(info) if not member.is_dir else None
                    _write_member(member, reader, dest_root)
        for member in reversed(members):  # directories last, so writing files does not bump their mtime
            if member.is_dir:
                os.utime(os.path.join(dest_root, *member.parts), (member.mtime, member.mtime))
    except AgentError:
        raise
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise AgentError(507, "no_space", "The node's workspace volume is full; free some space "
                             "(delete files or clear the workspace) and upload again.") from None
        if exc.filename is not None:  # creating something in the staging tree failed
            raise bad_request(f"An archive entry cannot be created on this filesystem: {exc.strerror}.",
                              "archive_bad_entry") from None
        raise _corrupt(fmt, exc) from None  # reading the archive failed
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, ValueError) as exc:
        raise _corrupt(fmt, exc) from None
