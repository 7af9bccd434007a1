import io
import os
import stat
import tarfile
import zipfile

import pytest

from .conftest import LIMITS, tree_digest


def make_zip(entries, compression=zipfile.ZIP_DEFLATED) -> bytes:
    """entries: (name, bytes) for files, (name, None) for directories, (name, bytes, mode) to set Unix mode bits."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as zf:
        for entry in entries:
            name, data = entry[0], entry[1]
            info = zipfile.ZipInfo(name, (2024, 1, 2, 3, 4, 6))
            info.filename = name  # ZipInfo cuts names at NUL; the bad-input tests need the raw name
            info.compress_type = compression
            if len(entry) > 2:
                info.external_attr = entry[2] << 16
                info.create_system = 3
            zf.writestr(info, b"" if data is None else data)
    return buffer.getvalue()


def make_tar(entries, gz=False) -> bytes:
    """entries: (name, bytes) for files, (name, None) for directories, or ready TarInfo objects."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if gz else "w") as tf:
        for entry in entries:
            if isinstance(entry, tarfile.TarInfo):
                tf.addfile(entry)
                continue
            name, data = entry
            info = tarfile.TarInfo(name)
            info.mtime = 1_700_000_000
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tf.addfile(info)
            else:
                info.size, info.mode = len(data), 0o644
                tf.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def upload(api, body, **params):
    return api.post("/v1/workspace/archive", params=params, data=body)


def seed_workspace(ws):
    os.makedirs(os.path.join(ws, "data", "mnist"))
    files = {"main.py": b"print('agent')\n", "requirements.txt": b"numpy\n", "data/mnist/train.bin": b"\x00" * 100,
             "old_train.py": b"old", "results/log.txt": b"log"}
    for rel, data in files.items():
        os.makedirs(os.path.dirname(os.path.join(ws, rel)), exist_ok=True)
        with open(os.path.join(ws, rel), "wb") as f:
            f.write(data)
    os.symlink("results", os.path.join(ws, "results-link"))


def read(ws, rel):
    with open(os.path.join(ws, rel), "rb") as f:
        return f.read()


def test_zip_replaces_workspace_except_default_keep_list(api, ws):
    seed_workspace(ws)
    body = make_zip([("train.py", b"print('train')\n"), ("mnist/", None), ("mnist/a.bin", b"A" * 10),
                     ("main.py", b"from the archive"), ("run.sh", b"#!/bin/sh\n", 0o100755)])
    response = upload(api, body)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["format"] == "zip" and result["files"] == 4 and result["directories"] == 1
    assert sorted(result["kept"]) == ["data", "main.py", "requirements.txt"]
    assert result["skipped_from_archive"] == ["main.py"]
    assert sorted(os.listdir(ws)) == ["data", "main.py", "mnist", "requirements.txt", "run.sh", "train.py"]
    assert read(ws, "main.py") == b"print('agent')\n"  # kept entries win over the archive
    assert read(ws, "data/mnist/train.bin") == b"\x00" * 100
    assert read(ws, "mnist/a.bin") == b"A" * 10
    assert os.stat(os.path.join(ws, "run.sh")).st_mode & 0o111
    assert not os.stat(os.path.join(ws, "train.py")).st_mode & 0o111


def test_keep_list_per_request_and_nested(api, ws):
    seed_workspace(ws)
    response = upload(api, make_zip([("results/new.txt", b"new"), ("x.py", b"x")]), keep=["results/log.txt"])
    assert response.status_code == 200, response.text
    assert sorted(os.listdir(ws)) == ["results", "x.py"]
    assert sorted(os.listdir(os.path.join(ws, "results"))) == ["log.txt", "new.txt"]
    assert read(ws, "results/log.txt") == b"log"


def test_empty_keep_replaces_everything(api, ws):
    seed_workspace(ws)
    assert upload(api, make_zip([("only.txt", b"1")]), keep="").status_code == 200
    assert os.listdir(ws) == ["only.txt"]


def test_multipart_upload_like_curl_form(api, ws):
    seed_workspace(ws)
    body = make_zip([("train.py", b"t")])
    response = api.post("/v1/workspace/archive", files={"file": ("train_files.zip", body, "application/zip")},
                        data={"keep": "data/"})
    assert response.status_code == 200, response.text
    assert sorted(os.listdir(ws)) == ["data", "train.py"]


def test_tar_gz_and_plain_tar(api, ws):
    body = make_tar([("./", None), ("./pkg/", None), ("./pkg/m.py", b"m" * 50), ("./README", b"r")], gz=True)
    response = upload(api, body)
    assert response.status_code == 200, response.text
    assert response.json()["format"] == "tar.gz"
    assert read(ws, "pkg/m.py") == b"m" * 50
    assert os.stat(os.path.join(ws, "pkg/m.py")).st_mtime == 1_700_000_000
    plain = upload(api, make_tar([("a.txt", b"a")]), format="tar")
    assert plain.json()["format"] == "tar" and os.listdir(ws) == ["a.txt"]


def test_clear_with_keep_list(api, ws):
    seed_workspace(ws)
    response = api.post("/v1/workspace/clear")
    assert response.status_code == 200 and sorted(response.json()["kept"]) == ["data", "main.py", "requirements.txt"]
    assert sorted(os.listdir(ws)) == ["data", "main.py", "requirements.txt"]
    api.post("/v1/workspace/clear", json={"keep": ["data/mnist/train.bin"]})
    assert sorted(os.listdir(ws)) == ["data"] and os.listdir(os.path.join(ws, "data/mnist")) == ["train.bin"]
    api.post("/v1/workspace/clear", json={"keep": []})
    assert os.listdir(ws) == []


def test_clear_does_not_follow_symlinked_keep_paths(api, ws, tmp_path):
    (tmp_path / "outside.txt").write_text("o")
    os.symlink(str(tmp_path), os.path.join(ws, "link"))
    response = api.post("/v1/workspace/clear", json={"keep": ["link/outside.txt"]})
    assert response.status_code == 200 and response.json()["kept"] == []
    assert os.listdir(ws) == [] and (tmp_path / "outside.txt").read_text() == "o"


def _symlink_zip():
    return make_zip([("ok.txt", b"ok"), ("evil", b"/etc/passwd", stat.S_IFLNK | 0o777)])


def _tar_with(info_type, name="special", linkname=""):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = info_type, linkname
    return make_tar([("ok.txt", b"ok"), info])


def _truncated_zip():
    body = make_zip([("a.txt", os.urandom(5000))], compression=zipfile.ZIP_STORED)
    return body[:200] + body[300:]


def _corrupt_data_zip():
    body = bytearray(make_zip([("a.txt", b"hello world" * 100)]))
    start = body.index(b"a.txt") + 5
    body[start + 5:start + 15] = b"\xff" * 10  # inside the deflated data: the CRC check fails on extraction
    return bytes(body)


def _bomb_zip():
    return make_zip([("zeros.bin", b"\0" * (2 * 1024 * 1024))])


BAD_ARCHIVES = {
    "dotdot entry": (make_zip([("ok.txt", b"ok"), ("../escape.txt", b"x")]), "bad_path", "'..'"),
    "nested dotdot": (make_tar([("a/../../escape.txt", b"x")]), "bad_path", "'..'"),
    "absolute entry": (make_tar([("/etc/cron.d/evil", b"x")]), "bad_path", "absolute"),
    "absolute zip entry": (make_zip([("/tmp/evil", b"x")]), "bad_path", "absolute"),
    "windows drive": (make_zip([("C:/evil", b"x")]), "bad_path", "absolute"),
    "backslash": (make_zip([("..\\evil", b"x")]), "bad_path", "backslash"),
    "NUL in name": (make_zip([("a\x00b.txt", b"x")]), "bad_path", "NUL"),
    "reserved name": (make_zip([(".agent-tmp-x/a", b"x")]), "bad_path", "reserved"),
    "zip symlink": (_symlink_zip(), "archive_bad_entry", "symbolic link"),
    "tar symlink": (_tar_with(tarfile.SYMTYPE, linkname="/etc/passwd"), "archive_bad_entry", "symbolic link"),
    "tar hard link": (_tar_with(tarfile.LNKTYPE, linkname="ok.txt"), "archive_bad_entry", "hard link"),
    "tar device": (_tar_with(tarfile.CHRTYPE), "archive_bad_entry", "device"),
    "tar fifo": (_tar_with(tarfile.FIFOTYPE), "archive_bad_entry", "device or pipe"),
    "case collision": (make_zip([("Train.py", b"1"), ("train.py", b"2")]), "archive_name_collision", "case"),
    "case collision in dirs": (make_tar([("Data/a", b"1"), ("data/b", b"2")]), "archive_name_collision", "case"),
    "duplicate": (make_tar([("a.txt", b"1"), ("a.txt", b"2")]), "archive_duplicate_entry", "more than once"),
    "file and dir": (make_zip([("a", b"1"), ("a/b", b"2")]), "archive_name_collision", "file and as a directory"),
    "corrupt zip": (_truncated_zip(), "corrupt_archive", "corrupt"),
    "corrupt data": (_corrupt_data_zip(), "corrupt_archive", "corrupt"),
    "truncated tar.gz": (make_tar([("a", os.urandom(20000))], gz=True)[:5000], "corrupt_archive", "corrupt"),
    "not an archive": (b"just some text, not an archive" * 10, "unsupported_archive", "not a zip"),
    "bzip2 tar": (b"BZh91AY&SY" + b"\0" * 600, "unsupported_archive", "not a zip"),
    "zip bomb": (_bomb_zip(), "archive_ratio", "zip bomb"),
    "tar.gz bomb": (make_tar([("zeros.bin", b"\0" * (2 * 1024 * 1024))], gz=True), "archive_ratio", "zip bomb"),
    "too many entries": (make_zip([(f"f{i}", b"") for i in range(LIMITS["max_archive_entries"] + 1)]),
                         "archive_too_many_entries", "entries"),
    # members of 1 MiB are below the ratio check, so only the total-size limit (8 MiB in tests) applies
    "too large unpacked": (make_zip([(f"f{i}", b"\0" * (1024 * 1024)) for i in range(9)]), "archive_too_large",
                           "expands"),
}


@pytest.mark.parametrize("case", list(BAD_ARCHIVES))
def test_bad_archive_is_refused_and_workspace_unchanged(api, ws, case):
    body, code, words = BAD_ARCHIVES[case]
    seed_workspace(ws)
    before = tree_digest(ws)
    response = upload(api, body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == code and words in response.json()["message"], response.json()
    assert tree_digest(ws) == before
    assert not os.path.exists(os.path.join(os.path.dirname(ws), "escape.txt"))


def test_archive_over_the_upload_limit_is_413_and_workspace_unchanged(api, ws):
    seed_workspace(ws)
    before = tree_digest(ws)
    body = make_zip([("big.bin", os.urandom(LIMITS["max_upload_bytes"] + 1000))], compression=zipfile.ZIP_STORED)
    response = upload(api, body)
    assert response.status_code == 413 and "--max-upload-bytes" in response.json()["message"]
    chunked = api.post("/v1/workspace/archive", data=iter([body[i:i + 65536] for i in range(0, len(body), 65536)]))
    assert chunked.status_code == 413
    multipart = api.post("/v1/workspace/archive", files={"file": ("big.zip", body)})
    assert multipart.status_code == 413
    assert tree_digest(ws) == before


def test_unknown_format_parameter(api, ws):
    response = upload(api, make_zip([("a", b"a")]), format="rar")
    assert response.status_code == 400 and response.json()["error"] == "unsupported_archive"


def test_keep_list_with_bad_path_is_refused(api, ws):
    seed_workspace(ws)
    before = tree_digest(ws)
    assert upload(api, make_zip([("a", b"a")]), keep="../x").status_code == 400
    assert api.post("/v1/workspace/clear", json={"keep": ["/etc"]}).status_code == 400
    assert tree_digest(ws) == before


def test_multipart_without_file(api, ws):
    response = api.post("/v1/workspace/archive", files={"other": (None, "text")})
    assert response.status_code == 400 and "-F file=@" in response.json()["message"]
