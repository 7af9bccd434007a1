"""Turning client-supplied relative paths into paths that are certainly inside the workspace."""

import os
import re
import stat

from .errors import bad_request, not_found

# Staging trees and partial uploads live in the workspace (same filesystem, so they can be renamed
# into place) under this prefix; they are hidden from listings and no request may name them.
RESERVED_PREFIX = ".agent-tmp-"

_DRIVE = re.compile(r"^[A-Za-z]:")


def split_relative(path: str, *, archive_entry: bool = False) -> list[str]:
    """Split a relative path into its components, refusing anything that could leave the workspace.

    '.' and empty components are dropped, so '' and '.' mean the workspace itself.
    """
    what = "archive entry" if archive_entry else "path"
    if "\x00" in path:
        raise bad_request(f"The {what} {path!r} contains a NUL character; file names cannot contain one.",
                          "bad_path")
    if path.startswith("/") or (archive_entry and (path.startswith("\\") or _DRIVE.match(path))):
        raise bad_request(f"The {what} {path!r} is absolute; give a path relative to the workspace.",
                          "bad_path")
    if archive_entry and "\\" in path:
        raise bad_request(f"The {what} {path!r} contains a backslash; archives must use '/' between "
                          "directories (re-create the archive with zip or tar on Linux or macOS).", "bad_path")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise bad_request(f"The {what} {path!r} contains '..'; paths must stay inside the workspace.",
                          "bad_path")
    if any(p.startswith(RESERVED_PREFIX) for p in parts):
        raise bad_request(f"The {what} {path!r} uses the reserved prefix {RESERVED_PREFIX!r}.", "bad_path")
    return parts


def check_inside(root: str, real: str, shown: str) -> None:
    if real != root and not real.startswith(root + os.sep):
        raise bad_request(f"The path {shown!r} leads outside the workspace (through a symbolic link).",
                          "bad_path")


def check_file_type(st: os.stat_result, shown: str) -> None:
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
        raise bad_request(f"The path {shown!r} is a device, pipe or socket; only regular files and "
                          "directories can be used.", "bad_path")


class Workspace:
    def __init__(self, root: str):
        self.root = os.path.realpath(root)

    def resolve(self, path: str, *, must_exist: bool = True) -> str:
        """The real absolute path of `path`, following symlinks only while they stay inside."""
        parts = split_relative(path)
        real = os.path.realpath(os.path.join(self.root, *parts))
        check_inside(self.root, real, path)
        try:
            st = os.stat(real)
        except FileNotFoundError:
            if must_exist:
                raise not_found(f"Nothing exists at {path!r} in the workspace.") from None
            return real
        check_file_type(st, path)
        return real

    def resolve_entry(self, path: str) -> tuple[str, str]:
        """(real parent directory, final name) for operations on an entry itself, such as delete,
        where a final symlink must be acted on rather than followed."""
        parts = split_relative(path)
        if not parts:
            raise bad_request("This operation needs a path inside the workspace, not the workspace itself.",
                              "bad_path")
        parent = os.path.realpath(os.path.join(self.root, *parts[:-1]))
        check_inside(self.root, parent, path)
        if not os.path.isdir(parent):
            raise not_found(f"The directory holding {path!r} does not exist.")
        return parent, parts[-1]

    def relative(self, real: str) -> str:
        rel = os.path.relpath(real, self.root)
        return "" if rel == "." else rel
