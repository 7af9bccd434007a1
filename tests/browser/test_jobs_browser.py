"""Submitting a Volcano job from the form in chromium and watching its phase change live."""

import re
import threading

import pytest
from playwright.sync_api import expect

from jobs.models import JobSubmission
from jobs.tasks import sync_job_phases
from tests.conftest import browser_login
from tests.support.k8s_seed import seed_kind_cluster

VCJOB = ("batch.volcano.sh/v1alpha1", "Job")


def beat(task):
    """Run a beat task's body in a thread of its own: Playwright's event loop owns this one."""
    thread = threading.Thread(target=task)
    thread.start()
    thread.join(30)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_submit_a_job_from_the_form_and_see_its_phase_change_live(page, celery_worker, make_user, make_cluster,
                                                                  fresh_kube_api):
    seed_kind_cluster(fresh_kube_api, workers=2)
    make_cluster(fresh_kube_api)
    make_user("oscar", "operator")
    page.add_init_script("document.addEventListener('htmx:wsOpen', () => { window.liveSocketOpen = true; })")
    browser_login(page, "oscar")
    page.goto("/jobs/new/")
    page.fill("input[name=name]", "browser-job")
    page.fill("input[name=image]", "busybox")
    page.fill("input[name=command]", "sleep 60")
    page.fill("input[name=replicas]", "2")
    page.fill("input[name=min_available]", "2")
    page.select_option("select[name=restart_policy]", "Never")
    # The YAML it will submit follows the form.
    preview = page.get_by_test_id("preview-yaml")
    for text in ("name: browser-job", "minAvailable: 2", "- sleep", "restartPolicy: Never"):
        expect(preview).to_contain_text(text)
    page.click("text=Submit job")
    page.wait_for_url(re.compile(r"/jobs/submissions/"))
    row = JobSubmission.objects.get()
    page.locator(f"#submission-{row.pk}-result[data-result=created]").wait_for()  # the worker sent it
    job = fresh_kube_api.get(*VCJOB, "browser-job", "default")
    assert job["spec"]["minAvailable"] == 2

    page.get_by_role("link", name="default/browser-job").click()  # a link once the job exists
    page.wait_for_url(re.compile(r"/jobs/\d+/default/browser-job/"))
    uid = job["metadata"]["uid"]
    phase = page.locator(f"#job-{uid}-phase")
    assert phase.inner_text() == "not reported yet"
    page.wait_for_function("window.liveSocketOpen === true")  # nothing pushed before is lost
    fresh_kube_api.patch_status(*VCJOB, "browser-job", {"state": {"phase": "Running"}, "running": 2}, "default")
    beat(sync_job_phases)  # what Celery beat runs every few seconds
    page.locator(f"#job-{uid}-phase[data-phase=Running]").wait_for()
    assert page.locator(f"#job-{uid}-tasks").inner_text().startswith("2 / 0 / 0")
    fresh_kube_api.patch_status(*VCJOB, "browser-job", {"state": {"phase": "Completed"}, "running": 0,
                                                         "succeeded": 2}, "default")
    beat(sync_job_phases)
    page.locator(f"#job-{uid}-phase[data-phase=Completed]").wait_for()
