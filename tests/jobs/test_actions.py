"""Suspend, resume, restart (Volcano Commands, the way vcctl makes them) and delete."""

import pytest

from jobs.models import JobAction, JobSubmission
from portal.models import AuditEvent
from tests.jobs.conftest import COMMAND, SEED_VCJOB, VCJOB
from tests.support.k8s_seed import make_vcjob


@pytest.fixture
def running_job(submit, operator, lab, lab_api):
    submit(operator, lab, SEED_VCJOB)
    lab_api.patch_status(*VCJOB, "test-job", {"state": {"phase": "Running"}, "running": 2}, "default")
    return lab_api.get(*VCJOB, "test-job", "default")


@pytest.fixture
def act(login, django_capture_on_commit_callbacks, eager_tasks, lab):
    def post(user, action, name="test-job", namespace="default", **headers):
        with django_capture_on_commit_callbacks(execute=True):
            return login(user).post(f"/jobs/{lab.pk}/{namespace}/{name}/{action}/", **headers)

    return post


@pytest.mark.django_db
@pytest.mark.parametrize("action,command_action", [
    ("suspend", "AbortJob"), ("resume", "ResumeJob"), ("restart", "RestartJob")])
def test_each_action_creates_the_command_vcctl_would(act, operator, running_job, lab_api, action, command_action):
    response = act(operator, action, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and f'data-action="{action}"' in response.content.decode()
    [command] = lab_api.list(*COMMAND, "default")
    uid = running_job["metadata"]["uid"]
    reference = {"apiVersion": "batch.volcano.sh/v1alpha1", "kind": "Job", "name": "test-job", "uid": uid,
                 "controller": True, "blockOwnerDeletion": True}
    assert command["action"] == command_action
    assert command["target"] == reference
    assert command["metadata"]["ownerReferences"] == [reference]
    assert command["metadata"]["name"].startswith(f"test-job-{command_action.lower()}-")
    assert command["metadata"]["namespace"] == "default"
    job_action = JobAction.objects.get()
    assert (job_action.result, job_action.uid, job_action.command, job_action.user_name) == (
        "ok", uid, command["metadata"]["name"], "oscar")
    assert job_action.submission == JobSubmission.objects.get()
    assert job_action.message == f"{command_action} sent to Volcano for default/test-job (Command {job_action.command})."
    assert AuditEvent.objects.get(action=f"job.{action}").outcome == "ok"
    result = AuditEvent.objects.get(action=f"job.{action}.result")
    assert (result.outcome, result.detail["command"], result.target) == ("ok", job_action.command, "default/test-job")


@pytest.mark.django_db
def test_actions_work_on_jobs_not_submitted_here(act, operator, lab, lab_api):
    lab_api.put(make_vcjob("external", phase="Running"))
    act(operator, "suspend", name="external")
    [command] = lab_api.list(*COMMAND, "default")
    assert command["target"]["uid"] == lab_api.get(*VCJOB, "external", "default")["metadata"]["uid"]
    assert JobAction.objects.get().submission is None


@pytest.mark.django_db
def test_delete_removes_the_job_and_the_history_stays(act, login, operator, running_job, lab, lab_api):
    response = act(operator, "delete")
    assert response.status_code == 302
    assert lab_api.get(*VCJOB, "test-job", "default") is None
    assert lab_api.requests_to(r"/jobs/test-job$", "DELETE")
    row = JobSubmission.objects.get()
    assert row.deleted_at is not None
    page = login(operator).get(f"/jobs/history/{row.pk}/").content.decode()
    assert "Who did what" in page and "delete" in page and "Job default/test-job deleted." in page
    assert "test-job" in page and "sleep-container" in page  # the manifest


@pytest.mark.django_db
def test_an_action_on_a_job_that_is_gone_says_so(act, operator, lab, lab_api):
    act(operator, "suspend", name="ghost")
    job_action = JobAction.objects.get()
    assert (job_action.result, job_action.message) == ("error", "The job default/ghost no longer exists in cluster lab.")
    assert AuditEvent.objects.get(action="job.suspend.result").outcome == "error"
    assert lab_api.list(*COMMAND) == []


@pytest.mark.django_db
def test_a_forbidden_command_is_reported(act, operator, running_job, lab_api):
    lab_api.forbid("create", "commands")
    act(operator, "resume")
    job_action = JobAction.objects.get()
    assert job_action.result == "error" and "Cluster lab forbids this" in job_action.message


@pytest.mark.django_db
def test_viewers_cannot_act(act, viewer, running_job, lab_api):
    assert act(viewer, "delete").status_code == 403
    assert lab_api.get(*VCJOB, "test-job", "default") is not None
    assert AuditEvent.objects.get(action="job.delete").outcome == "denied"
    assert not JobAction.objects.exists()


@pytest.mark.django_db
def test_unknown_actions_are_not_found(act, operator, running_job):
    assert act(operator, "explode").status_code == 404
