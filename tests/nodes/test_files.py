"""The workspace file browser: listing, paging, preview, streamed download and upload, folders,
clearing with a keep-list, and what a viewer may not do."""

import io
import os
import zipfile

import pytest

from portal.models import AuditEvent


def zip_bytes(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def put(client, url, data, content_type="application/octet-stream"):
    return client.generic("PUT", url, data, content_type=content_type)


def test_upload_list_preview_download_and_delete_a_file(lab, login, operator):
    client = login(operator)
    node = lab.worker1
    body = b"print('hello')\n" * 1000
    response = put(client, f"/nodes/{node.pk}/files/upload/?path=code/hello.py", body)
    assert response.status_code == 200, response.content
    assert response.json()["ok"]
    workspace = lab.agents["lab-worker"].workspace
    assert open(os.path.join(workspace, "code", "hello.py"), "rb").read() == body

    listing = client.get(f"/nodes/{node.pk}/files/?path=code").content.decode()
    assert 'data-name="hello.py"' in listing and "14.6\xa0KB" in listing or "KB" in listing
    preview = client.get(f"/nodes/{node.pk}/files/preview/?path=code/hello.py").content.decode()
    assert "print(&#x27;hello&#x27;)" in preview

    download = client.get(f"/nodes/{node.pk}/files/download/?path=code/hello.py")
    assert download.status_code == 200 and download.streaming
    assert b"".join(download.streaming_content) == body
    assert 'filename="hello.py"' in download["Content-Disposition"]

    client.post(f"/nodes/{node.pk}/files/delete/", {"path": "code/hello.py"})
    assert not os.path.exists(os.path.join(workspace, "code", "hello.py"))
    actions = set(AuditEvent.objects.filter(outcome="ok").values_list("action", flat=True))
    assert {"node.upload", "node.download", "node.delete"} <= actions


def test_big_folders_page(lab, login, viewer):
    workspace = lab.agents["lab-worker"].workspace
    os.makedirs(os.path.join(workspace, "many"))
    for i in range(230):
        open(os.path.join(workspace, "many", f"f{i:03d}.txt"), "w").close()
    client = login(viewer)
    first = client.get(f"/nodes/{lab.worker1.pk}/files/?path=many").content.decode()
    second = client.get(f"/nodes/{lab.worker1.pk}/files/?path=many&page=2").content.decode()
    assert 'data-name="f000.txt"' in first and 'data-name="f199.txt"' in first and 'data-name="f200.txt"' not in first
    assert 'data-name="f229.txt"' in second and "Page 2 of 2" in second


def test_archive_upload_replaces_the_workspace_but_keeps_the_keep_list(lab, login, operator):
    workspace = lab.agents["lab-worker"].workspace
    for name in ("main.py", "old.txt"):
        open(os.path.join(workspace, name), "w").write("old")
    client = login(operator)
    archive = zip_bytes({"train.py": "print(1)\n", "data/x.csv": "a,b\n"})
    response = put(client, f"/nodes/{lab.worker1.pk}/files/upload/?archive=1&keep=main.py", archive, "application/zip")
    assert response.status_code == 200, response.content
    assert sorted(os.listdir(workspace)) == ["data", "main.py", "train.py"]
    assert open(os.path.join(workspace, "main.py")).read() == "old"


def test_a_corrupt_archive_is_refused_and_nothing_changes(lab, login, operator):
    workspace = lab.agents["lab-worker"].workspace
    open(os.path.join(workspace, "keep.txt"), "w").write("x")
    response = put(login(operator), f"/nodes/{lab.worker1.pk}/files/upload/?archive=1&format=zip", b"not a zip" * 100)
    assert response.status_code == 400
    assert "lab-worker" in response.json()["error"]
    assert os.listdir(workspace) == ["keep.txt"]
    assert AuditEvent.objects.filter(action="node.upload_archive", outcome="error").exists()


def test_mkdir_and_clear_with_an_edited_keep_list(lab, login, operator):
    workspace = lab.agents["lab-worker"].workspace
    client = login(operator)
    client.post(f"/nodes/{lab.worker1.pk}/files/mkdir/", {"parent": "", "name": "results"})
    assert os.path.isdir(os.path.join(workspace, "results"))
    for name in ("a.txt", "b.txt"):
        open(os.path.join(workspace, name), "w").close()
    page = client.get(f"/nodes/{lab.worker1.pk}/files/").content.decode()
    assert "main.py\nrequirements.txt\ndata/" in page  # the default keep-list, shown and editable
    client.post(f"/nodes/{lab.worker1.pk}/files/clear/", {"keep": "a.txt\nresults"})
    assert sorted(os.listdir(workspace)) == ["a.txt", "results"]


def test_paths_that_leave_the_workspace_are_refused(lab, login, operator):
    response = put(login(operator), f"/nodes/{lab.worker1.pk}/files/upload/?path=../escape.txt", b"x")
    assert response.status_code == 400 and ".." in response.json()["error"]
    assert not os.path.exists(os.path.join(lab.agents["lab-worker"].workspace, "..", "escape.txt"))


def test_viewer_can_browse_and_download_but_not_change_anything(lab, login, viewer):
    workspace = lab.agents["lab-worker"].workspace
    open(os.path.join(workspace, "results.txt"), "w").write("42")
    client = login(viewer)
    node = lab.worker1
    page = client.get(f"/nodes/{node.pk}/files/").content.decode()
    assert 'data-name="results.txt"' in page and "Upload archive" not in page and "Clear workspace" not in page
    assert b"".join(client.get(f"/nodes/{node.pk}/files/download/?path=results.txt").streaming_content) == b"42"
    assert put(client, f"/nodes/{node.pk}/files/upload/?path=x.txt", b"x").status_code == 403
    assert client.post(f"/nodes/{node.pk}/files/delete/", {"path": "results.txt"}).status_code == 403
    assert client.post(f"/nodes/{node.pk}/files/mkdir/", {"name": "d"}).status_code == 403
    assert client.post(f"/nodes/{node.pk}/files/clear/", {"keep": ""}).status_code == 403
    assert client.post(f"/nodes/{node.pk}/files/copy/", {"path": "results.txt",
                                                         "destination": lab.worker2.pk}).status_code == 403
    assert client.post(f"/nodes/{node.pk}/run/", {"command": "rm -rf ."}).status_code == 403
    assert os.listdir(workspace) == ["results.txt"]
    denied = set(AuditEvent.objects.filter(outcome="denied").values_list("action", flat=True))
    assert {"node.upload", "node.delete", "node.mkdir", "node.clear", "node.copy", "node.run"} <= denied


@pytest.mark.parametrize("path", ["", "nope/missing.txt"])
def test_downloads_of_nothing_say_so(lab, login, viewer, path):
    response = login(viewer).get(f"/nodes/{lab.worker1.pk}/files/download/?path={path}", follow=True)
    assert response.status_code == 200 and 'class="alert alert-error"' in response.content.decode()
