"""Submitting Volcano jobs by YAML and by form against the fake API server, and every bad input."""

import pytest
from django.utils.html import escape

from jobs.models import JobSubmission
from portal.models import AuditEvent
from tests.jobs.conftest import QUEUE, SEED_VCJOB, VCJOB
from tests.support.fake_k8s import FakeKubeAPI
from tests.support.k8s_seed import make_queue, make_vcjob, seed_kind_cluster

Result = JobSubmission.Result


def posts_of_jobs(api):
    return api.requests_to(r"/apis/batch\.volcano\.sh/v1alpha1/namespaces/[^/]+/jobs$", "POST")


@pytest.mark.django_db
def test_the_seed_vcjob_yaml_is_submitted_unchanged(submit, operator, lab, lab_api):
    response = submit(operator, lab, SEED_VCJOB)
    assert response.status_code == 200 and "Submission" in response.content.decode()
    row = JobSubmission.objects.get()
    assert (row.result, row.error, row.kind, row.namespace, row.name, row.queue) == (
        Result.CREATED, "", "Job", "default", "test-job", "default")
    job = lab_api.get(*VCJOB, "test-job", "default")
    assert row.uid == job["metadata"]["uid"] and row.sent_at is not None
    # What was sent is the file as written, placed in the default namespace.
    sent = dict(row.manifest)
    assert sent["metadata"] == {"name": "test-job", "namespace": "default"}
    assert sent["spec"] == job["spec"]
    assert (row.user, row.user_name, row.cluster_name, row.source) == (operator, "oscar", "lab", "yaml")
    submitted = AuditEvent.objects.get(action="job.submit")
    assert (submitted.outcome, submitted.target, submitted.cluster) == ("ok", "default/test-job", "lab")
    result = AuditEvent.objects.get(action="job.submit.result")
    assert result.outcome == "ok" and result.detail["uid"] == row.uid


@pytest.mark.django_db
def test_a_job_built_by_the_form_is_submitted(login, operator, lab, lab_api, django_capture_on_commit_callbacks,
                                              eager_tasks):
    values = {"cluster": lab.pk, "name": "train", "namespace": "default", "queue": "default", "task_name": "worker",
              "image": "pytorch/pytorch:2.3.1", "command": "python train.py --epochs 3", "replicas": "2",
              "min_available": "", "cpu_request": "1", "cpu_limit": "2", "memory_request": "1Gi",
              "memory_limit": "2Gi", "gpus": "1", "restart_policy": "OnFailure", "max_retry": "2",
              "env": "PYTHONUNBUFFERED=1", "workspace": "emptyDir", "workspace_source": ""}
    client = login(operator)
    preview = client.post("/jobs/new/preview/", values, HTTP_HX_REQUEST="true").content.decode()
    assert "minAvailable: 2" in preview and "nvidia.com/gpu: &#x27;1&#x27;" in preview
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/jobs/new/form/", values)
    assert response.status_code == 302
    row = JobSubmission.objects.get()
    assert (row.source, row.result) == ("form", Result.CREATED)
    job = lab_api.get(*VCJOB, "train", "default")
    container = job["spec"]["tasks"][0]["template"]["spec"]["containers"][0]
    assert job["spec"]["minAvailable"] == 2 and job["spec"]["maxRetry"] == 2
    assert container["command"] == ["python", "train.py", "--epochs", "3"]
    assert container["resources"] == {"requests": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": "1"},
                                      "limits": {"cpu": "2", "memory": "2Gi", "nvidia.com/gpu": "1"}}
    assert container["volumeMounts"] == [{"name": "workspace", "mountPath": "/workspace"}]
    assert container["env"] == [{"name": "PYTHONUNBUFFERED", "value": "1"}]


@pytest.mark.django_db
def test_the_form_preview_shows_what_volcano_would_refuse(login, operator, lab):
    values = {"cluster": lab.pk, "name": "x", "namespace": "default", "queue": "default", "task_name": "worker",
              "image": "busybox", "replicas": "1", "restart_policy": "Never", "max_retry": "3",
              "cpu_request": "2", "cpu_limit": "1"}
    preview = login(operator).post("/jobs/new/preview/", values).content.decode()
    assert "Volcano would refuse this job" in preview
    assert "tasks[0].template.spec.containers[0].resources: the cpu request 2 is above its limit 1" in preview


@pytest.mark.django_db
def test_form_errors_are_said_and_nothing_is_stored(login, operator, lab):
    response = login(operator).post("/jobs/new/form/", {
        "cluster": lab.pk, "name": "Bad Name", "namespace": "default", "queue": "default", "task_name": "worker",
        "image": "busybox", "replicas": "2", "min_available": "3", "restart_policy": "Never", "max_retry": "3",
        "command": "sh -c 'unclosed", "env": "NOEQUALS"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "Use lowercase letters, digits and &#x27;-&#x27;" in page
    assert "Min available cannot be more than the replicas (2)." in page
    assert "The command has a quote that is not closed." in page
    assert "Line 1 of the environment is not NAME=value." in page
    assert not JobSubmission.objects.exists()


# ---------------------------------------------------------------- refused before anything is sent


@pytest.mark.django_db
@pytest.mark.parametrize("text,message", [
    (SEED_VCJOB.replace("replicas: 2", 'replicas: "2"'), "line 9: tasks[0].replicas must be an integer"),
    (SEED_VCJOB.replace("minAvailable: 1", "minAvailable: 5"),
     "line 6: minAvailable (5) must not be greater than the total replicas of all tasks (2)"),
    (SEED_VCJOB.split("  tasks:")[0] + "  tasks: []\n", "line 8: tasks must not be empty"),
    ("kind: Job\napiVersion: batch.volcano.sh/v1alpha1\nmetadata: {name: x\n",
     "The YAML cannot be read: expected ',' or '}', but got '<stream end>'"),
], ids=["replicas", "min-available", "no-tasks", "yaml"])
def test_an_invalid_manifest_is_stored_and_audited_but_never_sent(submit, operator, lab, lab_api, text, message):
    lab_api.clear_requests()
    page = submit(operator, lab, text).content.decode()
    row = JobSubmission.objects.get()
    assert row.result == Result.INVALID and message in row.error
    assert escape(message) in page
    assert AuditEvent.objects.get(action="job.submit").outcome == "error"
    assert lab_api.requests_log == []  # not even a read
    assert row.manifest is not None or row.text == text  # unreadable YAML is kept as text


@pytest.mark.django_db
def test_one_bad_document_stops_the_whole_manifest(submit, operator, lab, lab_api):
    other = SEED_VCJOB.replace("test-job", "second").replace("replicas: 2", "replicas: -1")
    submit(operator, lab, SEED_VCJOB + "---\n" + other)
    first, second = JobSubmission.objects.order_by("position")
    assert (first.result, first.error) == (Result.SKIPPED, "Not sent: document 2 has problems.")
    assert (second.result, second.error) == (Result.INVALID, "line 27: tasks[0].replicas must be at least 0")  # lines of the whole file
    assert posts_of_jobs(lab_api) == [] and lab_api.get(*VCJOB, "test-job", "default") is None


@pytest.mark.django_db
def test_a_manifest_with_namespace_queue_and_job_is_sent_in_order(submit, operator, lab, lab_api):
    text = ("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n---\n"
            "apiVersion: scheduling.volcano.sh/v1beta1\nkind: Queue\nmetadata:\n  name: team-a\nspec:\n  weight: 2\n---\n"
            + SEED_VCJOB.replace("  minAvailable: 1\n", "  minAvailable: 1\n  queue: team-a\n"))
    submit(operator, lab, text, namespace="team-a")
    rows = list(JobSubmission.objects.order_by("position"))
    assert [(r.kind, r.namespace, r.name, r.result) for r in rows] == [
        ("Namespace", "", "team-a", Result.CREATED), ("Queue", "", "team-a", Result.CREATED),
        ("Job", "team-a", "test-job", Result.CREATED)]
    assert lab_api.get("v1", "Namespace", "team-a") is not None
    assert lab_api.get(*QUEUE, "team-a")["spec"]["weight"] == 2
    assert lab_api.get(*VCJOB, "test-job", "team-a")["spec"]["queue"] == "team-a"
    assert len({r.batch for r in rows}) == 1


# ---------------------------------------------------------------- refused by the cluster's state


@pytest.mark.django_db
@pytest.mark.parametrize("change,text,message", [
    (None, SEED_VCJOB.replace("name: test-job", "name: test-job\n  namespace: nowhere"),
     "Namespace nowhere does not exist in cluster lab."),
    (None, SEED_VCJOB.replace("  minAvailable: 1\n", "  minAvailable: 1\n  queue: gpu\n"),
     "Queue gpu does not exist in cluster lab."),
    (make_queue("gpu", state="Closed"), SEED_VCJOB.replace("  minAvailable: 1\n", "  minAvailable: 1\n  queue: gpu\n"),
     "Queue gpu is Closed: Volcano accepts jobs only in Open queues."),
    (make_vcjob("test-job", phase="Running"), SEED_VCJOB,
     "A Volcano job named test-job already exists in namespace default."),
], ids=["namespace", "queue-missing", "queue-closed", "name-taken"])
def test_the_clusters_state_refuses_with_words(submit, operator, lab, lab_api, change, text, message):
    if change:
        lab_api.put(change)
    before = lab_api.get(*VCJOB, "test-job", "default")
    submit(operator, lab, text)
    row = JobSubmission.objects.get()
    assert (row.result, row.error) == (Result.REFUSED, message)
    assert posts_of_jobs(lab_api) == []
    assert lab_api.get(*VCJOB, "test-job", "default") == before  # a taken name is never overwritten
    result = AuditEvent.objects.get(action="job.submit.result")
    assert (result.outcome, result.message) == ("error", message)


@pytest.mark.django_db
def test_a_cluster_without_volcano_says_so(submit, operator, make_cluster):
    with FakeKubeAPI(volcano=False) as api:
        seed_kind_cluster(api, volcano=False)
        cluster = make_cluster(api)
        submit(operator, cluster, SEED_VCJOB)
    row = JobSubmission.objects.get()
    assert (row.result, row.error) == (
        Result.REFUSED, "Volcano is not installed on cluster lab: it does not serve batch.volcano.sh/v1alpha1.")


@pytest.mark.django_db
def test_an_unreachable_cluster_fails_the_submission_in_words(submit, operator, make_cluster):
    with FakeKubeAPI() as api:
        cluster = make_cluster(api)
    submit(operator, cluster, SEED_VCJOB)  # the server is gone now
    row = JobSubmission.objects.get()
    assert row.result == Result.FAILED and row.error.startswith("Cluster lab is unreachable")


@pytest.mark.django_db
def test_a_job_refused_by_the_api_server_is_recorded(submit, operator, lab, lab_api):
    lab_api.fail(r"/jobs$", status=422, message='admission webhook "validatejob.volcano.sh" denied the request',
                 method="POST")
    submit(operator, lab, SEED_VCJOB)
    row = JobSubmission.objects.get()
    assert row.result == Result.REFUSED
    assert row.error == ('Cluster lab answered 422: admission webhook "validatejob.volcano.sh" denied the request')


@pytest.mark.django_db
def test_viewers_cannot_submit(submit, viewer, lab, lab_api):
    response = submit(viewer, lab, SEED_VCJOB, follow=False)
    assert response.status_code == 403
    assert not JobSubmission.objects.exists()
    assert AuditEvent.objects.get(action="job.submit").outcome == "denied"
    assert lab_api.get(*VCJOB, "test-job", "default") is None


@pytest.mark.django_db
def test_upload_a_file(login, operator, lab, lab_api, django_capture_on_commit_callbacks, eager_tasks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    with django_capture_on_commit_callbacks(execute=True):
        login(operator).post("/jobs/new/yaml/", {"cluster": lab.pk, "namespace": "default",
                                                 "upload": SimpleUploadedFile("vcjob.yaml", SEED_VCJOB.encode())})
    assert JobSubmission.objects.get().result == Result.CREATED


@pytest.mark.django_db
def test_an_empty_manifest_is_a_form_error(login, operator, lab):
    response = login(operator).post("/jobs/new/yaml/", {"cluster": lab.pk, "namespace": "default", "manifest": "  "})
    assert response.status_code == 400 and "Paste a manifest or choose a file." in response.content.decode()
    response = login(operator).post("/jobs/new/yaml/", {"cluster": lab.pk, "namespace": "default",
                                                        "manifest": "---\n---\n"}, follow=True)
    assert "The manifest has no documents." in response.content.decode()
    assert not JobSubmission.objects.exists()


