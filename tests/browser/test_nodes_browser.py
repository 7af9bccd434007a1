"""Upload an archive with the progress bar, start a run, watch its log arrive live, interrupt it and
see the state change — in Debian's chromium against a real web server (uvicorn), Celery worker and agents."""

import os
import zipfile

import pytest
from django.core.files.storage import default_storage

from nodes.models import Run
from tests.conftest import browser_login
from tests.nodes.conftest import agent_env, lab, wait_for  # noqa: F401 - fixtures

LOOP = "import time\ni = 0\nwhile True:\n    print(f'\\x1b[33mtick {i}\\x1b[0m', flush=True)\n    i += 1\n    time.sleep(0.1)\n"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_upload_run_watch_and_interrupt(page, lab, celery_worker, operator, settings, tmp_path):  # noqa: F811
    settings.RUN_SYNC_SECONDS = 0.3
    archive = tmp_path / "code.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("loop.py", LOOP)
        z.writestr("data/blob.bin", os.urandom(24 * 1024 * 1024))  # big enough to show progress
    browser_login(page, operator.username)
    page.on("dialog", lambda dialog: dialog.accept())

    page.goto(f"/nodes/{lab.worker1.pk}/files/")
    page.set_input_files("#upload-archive", str(archive))
    page.get_by_role("button", name="Upload archive").click()
    page.wait_for_selector(".upload-status[data-state=done]", timeout=30_000)
    assert page.get_by_test_id("upload-progress").get_attribute("value") == "100"
    page.wait_for_selector("tr[data-name='loop.py']")  # the page reloads with the new listing

    page.goto(f"/nodes/{lab.worker1.pk}/")
    page.fill("#id_command", "python loop.py")
    page.get_by_test_id("run-form").get_by_role("button", name="Run").click()
    page.wait_for_url("**/nodes/runs/*/")
    run = Run.objects.get()
    log = page.get_by_test_id("log")
    page.wait_for_function("document.querySelector('[data-testid=log]').textContent.includes('tick 3')")
    assert log.locator(".ansi-fg-3").first.inner_text().startswith("tick")  # ANSI yellow, as a span
    page.get_by_test_id("interrupt").click()
    page.wait_for_selector(f"#run-{run.pk}-state[data-state=interrupted]", timeout=20_000)
    page.wait_for_selector("#run-log[data-ended=interrupted]", timeout=20_000)
    run.refresh_from_db()
    assert run.state == "interrupted"
    assert "tick 3" in default_storage.open(run.log_file).read().decode()
