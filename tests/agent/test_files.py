import os

import pytest

from .conftest import tree_digest


def write(ws, rel, data=b"x"):
    path = os.path.join(ws, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


def test_list_directory_with_paging(api, ws):
    for i in range(25):
        write(ws, f"d/f{i:02}.txt", b"a" * i)
    os.mkdir(os.path.join(ws, "d", "sub"))
    first = api.get("/v1/files", params={"path": "d", "offset": 0, "limit": 10}).json()
    assert first["total"] == 26 and first["path"] == "d"
    assert [e["name"] for e in first["entries"]] == [f"f{i:02}.txt" for i in range(10)]
    assert first["entries"][3] == {"name": "f03.txt", "type": "file", "size": 3,
                                   "mtime": pytest.approx(os.stat(os.path.join(ws, "d/f03.txt")).st_mtime)}
    last = api.get("/v1/files", params={"path": "d", "offset": 20, "limit": 10}).json()
    assert [e["name"] for e in last["entries"]] == [f"f{i}.txt" for i in range(20, 25)] + ["sub"]
    assert last["entries"][-1]["type"] == "dir"
    root = api.get("/v1/files").json()
    assert root["path"] == "" and [e["name"] for e in root["entries"]] == ["d"]


def test_list_a_file_or_missing_path(api, ws):
    write(ws, "a.txt")
    assert api.get("/v1/files", params={"path": "a.txt"}).json()["error"] == "not_a_directory"
    response = api.get("/v1/files", params={"path": "missing"})
    assert response.status_code == 404 and response.json()["error"] == "not_found"
    assert api.get("/v1/files", params={"limit": 0}).status_code == 400


def test_download_whole_and_ranges(api, ws):
    data = bytes(range(256)) * 40
    write(ws, "model.pth", data)
    whole = api.get("/v1/files/content", params={"path": "model.pth"})
    assert whole.status_code == 200 and whole.content == data
    assert 'filename="model.pth"' in whole.headers["content-disposition"]
    part = api.get("/v1/files/content", params={"path": "model.pth"}, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == data[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    tail = api.get("/v1/files/content", params={"path": "model.pth"}, headers={"Range": "bytes=-10"})
    assert tail.content == data[-10:]
    beyond = api.get("/v1/files/content", params={"path": "model.pth"}, headers={"Range": "bytes=99999-"})
    assert beyond.status_code == 416


def test_download_a_directory_is_refused(api, ws):
    os.mkdir(os.path.join(ws, "d"))
    response = api.get("/v1/files/content", params={"path": "d"})
    assert response.status_code == 400 and response.json()["error"] == "is_a_directory"


def test_upload_single_file_creates_parents_and_replaces(api, ws):
    response = api.put("/v1/files/content", params={"path": "sub/dir/x.bin"}, data=b"first")
    assert response.status_code == 200, response.text
    assert response.json() == {"path": "sub/dir/x.bin", "size": 5}
    api.put("/v1/files/content", params={"path": "sub/dir/x.bin"}, data=iter([b"sec", b"ond"]))
    with open(os.path.join(ws, "sub/dir/x.bin"), "rb") as f:
        assert f.read() == b"second"
    assert [n for n in os.listdir(os.path.join(ws, "sub/dir"))] == ["x.bin"]  # no temp file left


def test_upload_over_a_directory_is_refused(api, ws):
    os.mkdir(os.path.join(ws, "d"))
    response = api.put("/v1/files/content", params={"path": "d"}, data=b"x")
    assert response.status_code == 409 and response.json()["error"] == "is_a_directory"


def test_upload_single_file_over_the_limit_is_413(api, ws, agent):
    from .conftest import LIMITS
    write(ws, "big.bin", b"old")
    body = b"z" * (LIMITS["max_upload_bytes"] + 1)
    response = api.put("/v1/files/content", params={"path": "big.bin"}, data=body)
    assert response.status_code == 413 and response.json()["error"] == "too_large"
    streamed = api.put("/v1/files/content", params={"path": "big.bin"}, data=iter([body[:1 << 20]] * 5))
    assert streamed.status_code == 413
    assert os.listdir(ws) == ["big.bin"] and open(os.path.join(ws, "big.bin"), "rb").read() == b"old"


def test_delete_file_directory_and_symlink(api, ws):
    write(ws, "d/x")
    write(ws, "f")
    os.symlink("d", os.path.join(ws, "link"))
    assert api.delete("/v1/files", params={"path": "link"}).status_code == 200
    assert os.path.exists(os.path.join(ws, "d/x"))  # the link went, not its target
    assert api.delete("/v1/files", params={"path": "d"}).json() == {"deleted": "d"}
    assert api.delete("/v1/files", params={"path": "f"}).status_code == 200
    assert os.listdir(ws) == []
    assert api.delete("/v1/files", params={"path": "f"}).status_code == 404
    assert api.delete("/v1/files", params={"path": ""}).status_code == 400


def test_mkdir(api, ws):
    assert api.post("/v1/files/mkdir", params={"path": "a/b/c"}).json() == {"path": "a/b/c"}
    assert os.path.isdir(os.path.join(ws, "a/b/c"))
    assert api.post("/v1/files/mkdir", params={"path": "a/b/c"}).status_code == 200  # already there is fine
    write(ws, "file")
    response = api.post("/v1/files/mkdir", params={"path": "file/sub"})
    assert response.status_code == 409 and response.json()["error"] == "not_a_directory"


def test_symlink_inside_the_workspace_can_be_followed(api, ws):
    write(ws, "real/data.txt", b"inside")
    os.symlink("real", os.path.join(ws, "alias"))
    assert api.get("/v1/files/content", params={"path": "alias/data.txt"}).content == b"inside"
    listing = api.get("/v1/files").json()["entries"]
    assert {"name": "alias", "type": "symlink"}.items() <= listing[0].items()


BAD_PATHS = [
    ("../etc/passwd", "'..'"),
    ("a/../../x", "'..'"),
    ("/etc/passwd", "absolute"),
    ("a\x00b", "NUL"),
    (".agent-tmp-x", "reserved"),
]


@pytest.mark.parametrize("path,words", BAD_PATHS)
def test_bad_paths_are_refused_everywhere(api, ws, path, words):
    write(ws, "keep.txt", b"keep")
    before = tree_digest(ws)
    calls = [
        ("GET", "/v1/files", {}), ("GET", "/v1/files/content", {}), ("PUT", "/v1/files/content", {"data": b"x"}),
        ("DELETE", "/v1/files", {}), ("POST", "/v1/files/mkdir", {}),
    ]
    for method, endpoint, extra in calls:
        response = api.request(method, endpoint, params={"path": path}, **extra)
        assert response.status_code == 400, (method, endpoint, response.text)
        body = response.json()
        assert body["error"] == "bad_path" and words in body["message"], body
    assert tree_digest(ws) == before


def test_symlink_pointing_outside_is_refused(api, ws, tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    os.symlink(str(outside), os.path.join(ws, "leak"))
    os.symlink(str(tmp_path), os.path.join(ws, "leakdir"))
    os.symlink("../../..", os.path.join(ws, "up"))
    before = tree_digest(ws)
    for method, endpoint, path in [("GET", "/v1/files/content", "leak"), ("GET", "/v1/files", "leakdir"),
                                   ("GET", "/v1/files/content", "leakdir/secret.txt"),
                                   ("PUT", "/v1/files/content", "leakdir/new.txt"),
                                   ("PUT", "/v1/files/content", "leak"),
                                   ("POST", "/v1/files/mkdir", "leakdir/newdir"),
                                   ("DELETE", "/v1/files", "leakdir/secret.txt"),
                                   ("GET", "/v1/files", "up")]:
        response = api.request(method, endpoint, params={"path": path}, data=b"x" if method == "PUT" else None)
        assert response.status_code == 400, (method, path, response.text)
        assert "outside the workspace" in response.json()["message"]
    assert outside.read_text() == "secret" and sorted(os.listdir(tmp_path)) == ["secret.txt"]
    assert tree_digest(ws) == before


def test_device_and_fifo_are_refused(api, ws):
    os.mkfifo(os.path.join(ws, "pipe"))
    os.symlink("/dev/zero", os.path.join(ws, "zero"))  # outside anyway, but a device either way
    response = api.get("/v1/files/content", params={"path": "pipe"})
    assert response.status_code == 400 and "device, pipe or socket" in response.json()["message"]
    assert api.get("/v1/files/content", params={"path": "zero"}).status_code == 400
    assert api.put("/v1/files/content", params={"path": "pipe"}, data=b"x").status_code == 400
