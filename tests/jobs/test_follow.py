"""Following Volcano jobs: the list, the detail page, the phase sync and its live pushes, the history."""

import time

import pytest
import requests
import websocket

from jobs.models import JobSubmission
from jobs.tasks import sync_cluster, sync_job_phases
from tests.jobs.conftest import SEED_VCJOB, VCJOB
from tests.portal.test_live import open_live_socket, session_cookie
from tests.support.k8s_seed import make_event, make_pod, make_podgroup, make_vcjob, seed_kind_cluster


def wait_for(read, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = read()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def set_phase(api, phase, name="test-job", namespace="default", **counts):
    api.patch_status(*VCJOB, name, {"state": {"phase": phase, "lastTransitionTime": "2026-01-01T10:00:00Z"},
                                    **counts}, namespace)


@pytest.fixture
def submitted(submit, operator, lab, lab_api):
    submit(operator, lab, SEED_VCJOB)
    return JobSubmission.objects.get()


@pytest.mark.django_db
def test_the_jobs_list_shows_phase_counts_queue_and_who_submitted(login, viewer, submitted, lab, lab_api):
    lab_api.put(make_vcjob("other", queue="default", tasks=[("ps", 1), ("worker", 3)], min_available=4,
                           phase="Running"))
    set_phase(lab_api, "Pending", pending=2)
    page = login(viewer).get("/jobs/").content.decode()
    job = lab_api.get(*VCJOB, "other", "default")
    assert f'id="job-{job["metadata"]["uid"]}-phase" data-phase="Running"' in page
    assert f'id="job-{submitted.uid}-phase" data-phase="Pending"' in page
    assert "4 / 0 / 0" in page and "4 / 4" in page  # running / succeeded / failed; min available / replicas
    assert f'<a href="/jobs/history/{submitted.pk}/">oscar</a>' in page
    assert f'ws-connect="/ws/live/vcjobs/{lab.pk}/"' in page
    # The periodic refresh and the filters get the table alone.
    table = login(viewer).get("/jobs/?phase=Running", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in table and "other" in table and "test-job" not in table


@pytest.mark.django_db
def test_the_jobs_list_without_volcano_says_so(login, viewer, make_cluster):
    from tests.support.fake_k8s import FakeKubeAPI

    with FakeKubeAPI(volcano=False) as api:
        seed_kind_cluster(api, volcano=False)
        make_cluster(api)
        page = login(viewer).get("/jobs/").content.decode()
    assert "Cluster lab answered 404" in page


@pytest.mark.django_db
def test_the_sync_follows_phases_and_keeps_the_history_after_deletion(submitted, lab, lab_api, login, operator):
    set_phase(lab_api, "Pending", pending=2)
    sync_cluster(lab)
    submitted.refresh_from_db()
    assert (submitted.phase, submitted.pending, submitted.started_at) == ("Pending", 2, None)
    lab_api.patch_status(*VCJOB, "test-job", {"state": {"phase": "Running", "lastTransitionTime": "2026-01-01T10:00:05Z"},
                                              "pending": 0, "running": 2}, "default")
    sync_job_phases()  # the beat task: every cluster
    submitted.refresh_from_db()
    assert (submitted.phase, submitted.running) == ("Running", 2)
    assert submitted.started_at.isoformat() == "2026-01-01T10:00:05+00:00"
    lab_api.patch_status(*VCJOB, "test-job", {"state": {"phase": "Completed", "lastTransitionTime": "2026-01-01T10:01:05Z"},
                                              "running": 0, "succeeded": 2}, "default")
    sync_cluster(lab)
    submitted.refresh_from_db()
    assert (submitted.phase, submitted.succeeded, str(submitted.run_time)) == ("Completed", 2, "0:01:00")
    lab_api.delete(*VCJOB, "test-job", "default")
    sync_cluster(lab)
    submitted.refresh_from_db()
    assert submitted.deleted_at is not None and submitted.phase == "Completed"
    history = login(operator).get("/jobs/history/").content.decode()
    assert f'data-submission="{submitted.pk}"' in history and "Completed" in history and "0:01:00" in history
    detail = login(operator).get(f"/jobs/history/{submitted.pk}/").content.decode()
    assert "sleep-container" in detail and "gone from the cluster" in detail
    missing = login(operator).get(f"/jobs/{lab.pk}/default/test-job/")
    assert missing.status_code == 404
    assert "The Volcano job default/test-job is not in cluster lab (any more)." in missing.content.decode()
    assert f"/jobs/history/{submitted.pk}/" in missing.content.decode()


@pytest.mark.django_db
def test_the_sync_leaves_an_unreachable_cluster_alone(submitted, lab, lab_api):
    lab_api.fail(r"/jobs$", status=503, message="etcd is down", times=None)
    sync_cluster(lab)
    submitted.refresh_from_db()
    assert submitted.deleted_at is None  # not mistaken for deleted


@pytest.mark.django_db
def test_the_job_detail_shows_spec_status_podgroup_pods_and_events(login, viewer, submitted, lab, lab_api):
    set_phase(lab_api, "Running", running=2, retryCount=1)
    job = lab_api.get(*VCJOB, "test-job", "default")
    podgroup = make_podgroup(f"test-job-{job['metadata']['uid']}", min_member=1, phase="Running")
    podgroup["metadata"]["ownerReferences"] = [{"apiVersion": "batch.volcano.sh/v1alpha1", "kind": "Job",
                                                "name": "test-job", "uid": job["metadata"]["uid"], "controller": True}]
    lab_api.put(podgroup)
    for index, node in enumerate(["lab-worker", "lab-worker2"]):
        lab_api.put(make_pod(f"test-job-sleep-{index}", node=node, labels={"volcano.sh/job-name": "test-job"},
                             command=["sleep", "60"]))
    lab_api.put(make_pod("unrelated", node="lab-worker"))
    lab_api.put(make_event("test-job.1", "default", job, "PodGroupPending", "PodGroup default/test-job unschedule",
                           event_type="Warning", component="vc-controller-manager"))
    page = login(viewer).get(f"/jobs/{lab.pk}/default/test-job/").content.decode()
    assert 'data-phase="Running"' in page and "sleep 60" in page and "busybox" in page
    assert f"test-job-{job['metadata']['uid']}" in page and 'data-testid="podgroup-phase">Running' in page
    assert "test-job-sleep-0" in page and "lab-worker2" in page and "unrelated" not in page
    assert f'href="/clusters/{lab.pk}/pods/default/test-job-sleep-1/#logs"' in page  # the pod log viewer
    assert "PodGroupPending" in page
    assert "submitted by oscar" in page
    assert "Suspend" not in page  # viewers see no actions


@pytest.mark.django_db
def test_a_suspended_job_warns_that_resuming_uses_a_retry(login, operator, submitted, lab, lab_api):
    set_phase(lab_api, "Aborted", retryCount=2)
    page = login(operator).get(f"/jobs/{lab.pk}/default/test-job/").content.decode()
    assert "Each resume counts against maxRetry (2 of 3 used)" in page
    assert "Resume" in page and ">Suspend<" not in page


# ---------------------------------------------------------------- live, end to end


@pytest.mark.django_db(transaction=True)
def test_phase_changes_reach_the_page_through_a_real_worker(live_portal, celery_worker, make_user, make_cluster,
                                                            fresh_kube_api):
    seed_kind_cluster(fresh_kube_api, workers=1)
    cluster = make_cluster(fresh_kube_api)
    cookie = session_cookie(make_user("oscar", "operator"))
    jobs_socket = open_live_socket(live_portal, f"/ws/live/vcjobs/{cluster.pk}/", cookie)
    submission_socket = None
    try:
        http = requests.Session()
        http.cookies.set("sessionid", cookie)
        http.get(f"{live_portal}/jobs/new/", timeout=10)
        response = http.post(f"{live_portal}/jobs/new/yaml/", timeout=10, allow_redirects=False,
                             data={"cluster": cluster.pk, "namespace": "default", "manifest": SEED_VCJOB},
                             headers={"X-CSRFToken": http.cookies["csrftoken"]})
        assert response.status_code == 302
        row = wait_for(lambda: JobSubmission.objects.filter(result="created").first())  # sent by the worker
        assert fresh_kube_api.get(*VCJOB, "test-job", "default")["metadata"]["uid"] == row.uid
        submission_socket = open_live_socket(live_portal, f"/ws/live/jobsubmission/{row.pk}/", cookie)
        set_phase(fresh_kube_api, "Running", running=2)
        sync_job_phases.delay()  # as beat does: the worker reads the cluster and pushes what changed
        pushed = jobs_socket.recv()
        assert f'id="job-{row.uid}-phase" data-phase="Running" hx-swap-oob="true"' in pushed
        assert f'id="job-{row.uid}-tasks"' in pushed
        fragments = [submission_socket.recv()]
        if 'data-phase="Running"' not in fragments[0]:  # the creation's own push may come first
            fragments.append(submission_socket.recv())
        assert 'data-phase="Running"' in fragments[-1]
    finally:
        jobs_socket.close()
        if submission_socket:
            submission_socket.close()
    row.refresh_from_db()
    assert row.phase == "Running"


@pytest.mark.django_db(transaction=True)
def test_live_job_sockets_need_a_role(live_portal, make_user, make_cluster, kube_api):
    cluster = make_cluster(kube_api)
    with pytest.raises(websocket.WebSocketBadStatusException):
        open_live_socket(live_portal, f"/ws/live/vcjobs/{cluster.pk}/", session_cookie(make_user("nobody")))
    with pytest.raises(websocket.WebSocketBadStatusException):
        open_live_socket(live_portal, "/ws/live/jobsubmission/999/", session_cookie(make_user("vera", "viewer")))


