"""The Images page in Debian's chromium: search, load an image into a kind cluster, watch it finish.

The page lists images from the docker CLI, so this test serves the portal from a web server of its own
whose PATH starts with the docker/kind stand-ins (tests/support/bin); the Celery worker runs in this
process with the same PATH.
"""

import os
import sys

import pytest
from django.conf import settings

from tests.conftest import browser_login
from tests.images.conftest import IMAGES
from tests.support.bin import StandIns
from tests.support.web_server import env_sharing_test_settings, start_web_server, stop_web_server


@pytest.fixture
def images_portal(tmp_path, monkeypatch, celery_test_queue, django_db_blocker):
    tools = StandIns(tmp_path)
    tools.state = {"images": dict(IMAGES), "clusters": {"lab": {"workers": 3, "loaded": []}}}
    env = env_sharing_test_settings(settings, base=tools.env(), HOME=os.environ.get("HOME", "/"))
    env["PATH"] = f"{tools.path}:{os.path.dirname(sys.executable)}"
    for key in ("PATH", "STANDIN_STATE", "STANDIN_REAL_KUBECTL"):
        monkeypatch.setenv(key, env[key])
    process, url = start_web_server(env, tmp_path / "web.log")
    yield url, tools
    stop_web_server(process)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_search_and_load_an_image_into_a_kind_cluster(chromium, images_portal, make_user, make_cluster, kube_api,
                                                      celery_worker):
    url, tools = images_portal
    make_user("ada", "admin", is_staff=True)
    cluster = make_cluster(kube_api)
    cluster.kind_cluster = "lab"
    cluster.save()
    context = chromium.new_context(base_url=url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        browser_login(page, "ada")
        page.get_by_role("link", name="Images").click()
        page.locator("h1", has_text="Images").wait_for()
        rows = page.locator("#images-table tbody tr")
        assert rows.count() == 3
        assert page.locator('#kind-clusters tr[data-kind-cluster="lab"]').inner_text().endswith("lab")

        page.fill("#image-search", "busy")  # htmx swaps the table as you type
        page.wait_for_function("document.querySelectorAll('#images-table tbody tr').length === 1")
        assert "busybox:1.36" in rows.first.inner_text()
        assert "q=busy" in page.url
        page.fill("#image-search", "")
        page.wait_for_function("document.querySelectorAll('#images-table tbody tr').length === 3")

        row = page.locator('tr[data-image="myenv-image:latest"]')
        row.get_by_role("button", name="Load").click()
        page.locator(".alert-success", has_text="Loading myenv-image:latest into lab").wait_for()
        # The operation's badge turns "succeeded" when the task ends (live over the websocket, or
        # already on the page if the task was quicker than the redirect).
        page.locator('#image-operations [data-state="succeeded"]').wait_for(timeout=30_000)
        assert "is on every node of kind cluster lab" in page.locator("#image-operations").inner_text()
        assert ["load", "docker-image", "myenv-image:latest", "--name", "lab"] in tools.calls("kind")
    finally:
        context.close()
