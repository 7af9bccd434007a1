"""Uploads through the real web server take nodes.streaming's path: the body is passed on to the
agent as it arrives, with the same login, CSRF, permission and audit as every other action."""

import io
import os
import zipfile

import pytest
import requests
from django.test import Client

from portal.models import AuditEvent


def archive_bytes(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buffer.getvalue()


def session_for(live_portal, user):
    client = Client()
    client.force_login(user)
    http = requests.Session()
    http.cookies.set("sessionid", client.cookies["sessionid"].value)
    http.get(f"{live_portal}/nodes/runs/", timeout=10)  # sets the CSRF cookie
    return http


@pytest.mark.django_db(transaction=True)
def test_an_archive_streams_through_the_web_server(live_portal, lab, make_user):
    http = session_for(live_portal, make_user("oscar", "operator"))
    body = archive_bytes({"train.py": "print('hi')\n", "data/blob.bin": os.urandom(3 * 1024 * 1024)})
    response = http.put(f"{live_portal}/nodes/{lab.worker1.pk}/files/upload/?archive=1", data=body, timeout=30,
                        headers={"X-CSRFToken": http.cookies["csrftoken"], "Content-Type": "application/zip"})
    assert response.status_code == 200, response.text
    assert response.json()["message"].startswith("Archive unpacked: 2 files")
    workspace = lab.agents["lab-worker"].workspace
    assert open(os.path.join(workspace, "train.py")).read() == "print('hi')\n"
    assert os.path.getsize(os.path.join(workspace, "data", "blob.bin")) == 3 * 1024 * 1024
    event = AuditEvent.objects.get(action="node.upload_archive")
    assert event.outcome == "ok" and event.actor_name == "oscar"


@pytest.mark.django_db(transaction=True)
def test_the_streamed_path_keeps_every_check(live_portal, lab, make_user):
    url = f"{live_portal}/nodes/{lab.worker1.pk}/files/upload/?path=x.txt"
    assert requests.put(url, data=b"x", timeout=10).status_code == 401  # not logged in
    viewer = session_for(live_portal, make_user("vera", "viewer"))
    missing_csrf = viewer.put(url, data=b"x", timeout=10)
    assert missing_csrf.status_code == 403 and "CSRF" in missing_csrf.json()["error"]
    denied = viewer.put(url, data=b"x", timeout=10, headers={"X-CSRFToken": viewer.cookies["csrftoken"]})
    assert denied.status_code == 403
    assert AuditEvent.objects.get(action="node.upload").outcome == "denied"
    unknown = viewer.put(f"{live_portal}/nodes/999/files/upload/?path=x", data=b"x", timeout=10,
                         headers={"X-CSRFToken": viewer.cookies["csrftoken"]})
    assert unknown.status_code == 404
    assert not os.path.exists(os.path.join(lab.agents["lab-worker"].workspace, "x.txt"))
