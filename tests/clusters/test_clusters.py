"""Adding clusters, the encrypted kubeconfig, connection checks and the dashboard's counts,
all against the fake API server through the real kubernetes client."""

import time

import pytest
import yaml
from django.db import connection

from clusters import kube
from clusters.models import Cluster
from clusters.tasks import check_cluster_connection
from portal.audit import Actor
from portal.models import AuditEvent
from tests.conftest import kubeconfig_text
from tests.support.fake_k8s import FakeKubeAPI
from tests.support.k8s_seed import seed_kind_cluster


def check_now(cluster, user=None):
    """Run the Celery task's body here (the worker path has its own test in test_live.py)."""
    check_cluster_connection.run(cluster.pk, Actor(user).as_ids())
    cluster.refresh_from_db()
    return cluster


@pytest.mark.django_db
def test_add_cluster_by_pasting_a_kubeconfig(login, admin_user, kube_api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        response = login(admin_user).post("/clusters/add/", {"kubeconfig": kubeconfig_text(kube_api)}, follow=True)
    assert "Cluster kind-lab added" in response.content.decode()
    cluster = Cluster.objects.get()
    assert (cluster.name, cluster.context, cluster.server, cluster.kind_cluster) == (
        "kind-lab", "kind-lab", kube_api.url, "lab")
    assert cluster.status == "checking"
    event = AuditEvent.objects.get(action="cluster.add")
    assert event.outcome == "ok" and event.actor == admin_user


@pytest.mark.django_db
def test_the_kubeconfig_is_encrypted_at_rest_and_never_shown(login, admin_user, cluster, kube_api):
    with connection.cursor() as cursor:
        cursor.execute("SELECT kubeconfig FROM clusters_cluster WHERE id = %s", [cluster.pk])
        raw = cursor.fetchone()[0]
    assert kube_api.token not in raw and "server" not in raw
    assert kube_api.token in Cluster.objects.get().kubeconfig  # decrypted on read
    client = login(admin_user)
    for url in ("/clusters/", "/", f"/admin/clusters/cluster/{cluster.pk}/change/"):
        page = client.get(url)
        assert page.status_code == 200
        assert kube_api.token not in page.content.decode(), url


@pytest.mark.django_db
@pytest.mark.parametrize("kubeconfig,message", [
    ("clusters: [", "not valid YAML"),
    ("apiVersion: v1\nkind: Config\n", "has no contexts"),
])
def test_a_bad_kubeconfig_is_refused_and_nothing_is_stored(login, admin_user, kubeconfig, message):
    response = login(admin_user).post("/clusters/add/", {"name": "bad", "kubeconfig": kubeconfig}, follow=True)
    assert message in response.content.decode()
    assert not Cluster.objects.exists()
    assert AuditEvent.objects.get(action="cluster.add").outcome == "error"


@pytest.mark.django_db
def test_several_contexts_need_a_choice(login, admin_user, kube_api, tmp_path):
    path = kube_api.write_kubeconfig(tmp_path / "config", contexts=["kind-lab", "kind-gpu"])
    client = login(admin_user)
    response = client.post("/clusters/add/", {"kubeconfig": path.read_text()}, follow=True)
    assert "several contexts (kind-lab, kind-gpu): choose one" in response.content.decode()
    client.post("/clusters/add/", {"kubeconfig": path.read_text(), "context": "kind-gpu", "name": "gpu"})
    cluster = Cluster.objects.get()
    assert (cluster.name, cluster.context) == ("gpu", "kind-gpu")
    stored = yaml.safe_load(cluster.kubeconfig)
    assert [c["name"] for c in stored["contexts"]] == ["kind-gpu"]  # only the chosen context is kept


@pytest.mark.django_db
def test_a_duplicate_name_is_refused(login, admin_user, cluster, kube_api):
    response = login(admin_user).post("/clusters/add/", {"name": "lab", "kubeconfig": kubeconfig_text(kube_api)},
                                      follow=True)
    assert "A cluster named lab already exists." in response.content.decode()
    assert Cluster.objects.count() == 1


@pytest.mark.django_db
def test_import_a_context_from_this_servers_kubeconfig(login, admin_user, kube_api, tmp_path, settings):
    path = kube_api.write_kubeconfig(tmp_path / "config", contexts=["kind-lab"])
    settings.KUBECONFIG_PATHS = [str(path)]
    client = login(admin_user)
    page = client.get("/clusters/").content.decode()
    assert "kind-lab" in page and str(path) in page
    client.post("/clusters/import/", {"source": str(path), "context": "kind-lab", "name": "lab"})
    assert Cluster.objects.get().name == "lab"
    assert "imported" in client.get("/clusters/").content.decode()


@pytest.mark.django_db
def test_import_reads_only_the_files_the_settings_name(login, admin_user, kube_api, tmp_path, settings):
    path = kube_api.write_kubeconfig(tmp_path / "config")
    settings.KUBECONFIG_PATHS = []
    response = login(admin_user).post("/clusters/import/", {"source": str(path), "context": "kind-lab"})
    assert response.status_code == 404
    assert not Cluster.objects.exists()


@pytest.mark.django_db
def test_connection_check_reads_version_nodes_and_volcano(cluster, admin_user):
    check_now(cluster, admin_user)
    assert cluster.status == "ok"
    assert cluster.server_version == "v1.30.0"
    assert cluster.volcano_installed is True
    result = AuditEvent.objects.get(action="cluster.check.result")
    assert result.outcome == "ok" and result.detail["nodes"] == 4


@pytest.mark.django_db
def test_a_cluster_without_volcano_says_so(make_cluster):
    with FakeKubeAPI(volcano=False) as api:
        seed_kind_cluster(api, name="plain", workers=1, volcano=False)
        cluster = check_now(make_cluster(api, name="plain", context="kind-plain"))
    assert cluster.status == "ok" and cluster.volcano_installed is False


@pytest.mark.django_db
def test_unreachable_unauthorized_and_slow_clusters_give_clear_errors(make_cluster, settings):
    settings.KUBE_TIMEOUT = (1, 1)
    with FakeKubeAPI() as api:
        url = api.url
        wrong_token = make_cluster(api, name="wrong", context="kind-wrong")
        api.token = "another-token"
        assert "refused the credentials (401 Unauthorized)" in check_now(wrong_token).status_message
        api.token = "fake-token"
        slow = make_cluster(api, name="slow", context="kind-slow")
        api.set_latency(3)
        started = time.monotonic()
        assert "did not answer within 1 s" in check_now(slow).status_message
        assert time.monotonic() - started < 2.5
        api.set_latency(0)
        gone = make_cluster(api, name="gone", context="kind-gone")
    gone = check_now(gone)  # the server has stopped
    assert gone.status == "error"
    assert f"Cluster gone is unreachable: cannot connect to {url}" in gone.status_message
    assert AuditEvent.objects.filter(action="cluster.check.result", outcome="error").count() == 3


@pytest.mark.django_db
def test_forbidden_says_what_was_forbidden(make_cluster):
    with FakeKubeAPI() as api:
        seed_kind_cluster(api)
        api.forbid("list", "nodes")
        cluster = check_now(make_cluster(api))
    assert cluster.status == "error"
    assert 'forbids this: nodes is forbidden: User "kind-lab" cannot list resource "nodes"' in cluster.status_message


@pytest.mark.django_db
def test_dashboard_counts_come_from_the_cluster(login, viewer, cluster, kube_api):
    client = login(viewer)
    page = client.get("/").content.decode()
    assert f'hx-get="/clusters/{cluster.pk}/summary/"' in page
    summary = client.get(f"/clusters/{cluster.pk}/summary/", HTTP_HX_REQUEST="true").context["summary"]
    pods = kube_api.list("v1", "Pod")
    assert summary.nodes_total == len(kube_api.list("v1", "Node")) == 4
    assert summary.nodes_ready == 4
    assert summary.pods_total == len(pods) > 10
    assert summary.pods_running == sum(p["status"].get("phase") == "Running" for p in pods)
    assert summary.services_total == len(kube_api.list("v1", "Service"))
    assert summary.namespaces_total == len(kube_api.list("v1", "Namespace"))


@pytest.mark.django_db
def test_counting_pages_through_a_big_cluster(make_cluster):
    from tests.support.k8s_seed import seed_workload_pods

    with FakeKubeAPI() as api:
        seed_kind_cluster(api)
        seed_workload_pods(api, 1200, namespace="bench")
        api.clear_requests()
        summary = kube.cluster_summary(make_cluster(api))
        pod_lists = [r for r in api.requests_log if r.path == "/api/v1/pods"]
    assert summary.pods_total == len(api.list("v1", "Pod")) >= 1200
    assert len(pod_lists) == 3 and all(r.query.get("limit") == "500" for r in pod_lists)


@pytest.mark.django_db
def test_a_dead_cluster_shows_an_error_on_the_dashboard(login, viewer, make_cluster, settings):
    settings.KUBE_TIMEOUT = (1, 1)
    with FakeKubeAPI() as api:
        cluster = make_cluster(api, name="dead")
    response = login(viewer).get(f"/clusters/{cluster.pk}/summary/")
    assert response.status_code == 200
    assert "Cluster dead is unreachable" in response.content.decode()


@pytest.mark.django_db
def test_the_admin_adds_a_cluster_without_showing_the_kubeconfig(client, make_user, kube_api,
                                                                   django_capture_on_commit_callbacks):
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post("/admin/clusters/cluster/add/", {
            "name": "lab", "context": "kind-lab", "kind_cluster": "lab", "new_kubeconfig": kubeconfig_text(kube_api)})
    assert response.status_code == 302
    cluster = Cluster.objects.get()
    assert cluster.server == kube_api.url and len(callbacks) == 1
    assert AuditEvent.objects.get(action="cluster.add").message == "through the admin"
