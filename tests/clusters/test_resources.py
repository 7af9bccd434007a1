"""The resource pages against the fake API server: what they show, how they page, and errors."""

import pytest
from asgiref.sync import async_to_sync

from clusters.rows import short_age
from tests.support.k8s_seed import make_pod, seed_workload_pods


@pytest.fixture
def viewer_client(login, viewer, lab):
    return login(viewer)


@pytest.mark.django_db
def test_nodes_page_shows_every_node_with_its_facts(viewer_client, lab_api):
    lab_api.clear_requests()
    page = viewer_client.get("/clusters/nodes/")
    rows = {row.name: row for row in page.context["page"].object_list}
    assert set(rows) == {"lab-control-plane", "lab-worker", "lab-worker2", "lab-worker3"}
    control = rows["lab-control-plane"]
    assert control.ready and control.roles == ["control-plane"] and control.taints
    assert control.version == "v1.30.0" and control.internal_ip.startswith("172.18.0.")
    assert "nvidia.com/gpu" in rows["lab-worker"].gpus and rows["lab-worker2"].gpus == ""
    on_worker = [p for p in lab_api.list("v1", "Pod") if p["spec"].get("nodeName") == "lab-worker"
                 and p["status"].get("phase") not in ("Succeeded", "Failed")]
    assert rows["lab-worker"].pods == len(on_worker)
    # One list of pods for all rows, never one call per node.
    assert len([r for r in lab_api.requests_log if r.path == "/api/v1/pods"]) == 1
    body = page.content.decode()
    assert "lab-worker3" in body and 'hx-trigger="every 10s' in body


@pytest.mark.django_db
def test_ready_comes_from_the_ready_condition_not_the_last_one(viewer_client, lab_api):
    node = lab_api.get("v1", "Node", "lab-worker3")
    node["status"]["conditions"] = [
        {"type": "Ready", "status": "False", "reason": "KubeletNotReady"},
        {"type": "MemoryPressure", "status": "False"},
    ]
    lab_api.put(node)
    rows = {r.name: r for r in viewer_client.get("/clusters/nodes/").context["page"].object_list}
    assert not rows["lab-worker3"].ready and rows["lab-worker3"].status == "NotReady"
    assert rows["lab-worker"].ready


@pytest.mark.django_db
def test_nodes_sort_and_filter(viewer_client):
    names = [r.name for r in viewer_client.get("/clusters/nodes/?sort=-name").context["page"].object_list]
    assert names == sorted(names, reverse=True)
    only = viewer_client.get("/clusters/nodes/?q=worker2", HTTP_HX_REQUEST="true")
    assert [r.name for r in only.context["page"].object_list] == ["lab-worker2"]
    assert "<html" not in only.content.decode()  # htmx gets the table alone


@pytest.mark.django_db
def test_node_detail_has_conditions_labels_pods_and_events(viewer_client, lab):
    page = viewer_client.get(f"/clusters/{lab.pk}/nodes/lab-worker/")
    assert page.status_code == 200
    assert "kubernetes.io/hostname=lab-worker" in page.content.decode()
    assert any(p.name == "train-0" for p in page.context["pods"])
    assert {c["type"] for c in page.context["node"].conditions} >= {"Ready"}
    missing = viewer_client.get(f"/clusters/{lab.pk}/nodes/nope/")
    assert 'nodes \\"nope\\" not found' in missing.content.decode() or "nope" in missing.context["error"]


@pytest.mark.django_db
def test_pod_status_shows_the_real_reason_and_age(viewer_client):
    pods = {p.name: p for p in viewer_client.get("/clusters/pods/?namespace=ml").context["pods"]}
    assert pods["crashy"].status == "CrashLoopBackOff" and pods["crashy"].restarts == 7
    assert pods["train-0"].ready == "2/2" and pods["train-0"].status == "Running"
    assert short_age(pods["train-0"].created) == "1h"


@pytest.mark.django_db
def test_pods_page_through_the_api_with_limit_and_continue(login, viewer, make_cluster, lab_api):
    seed_workload_pods(lab_api, 120, namespace="bench")
    client = login(viewer)
    make_cluster(lab_api)
    lab_api.clear_requests()
    first = client.get("/clusters/pods/?namespace=bench")
    assert len(first.context["pods"]) == 50 and first.context["next_token"]
    assert first.context["remaining"] == 70
    request = [r for r in lab_api.requests_log if r.path == "/api/v1/namespaces/bench/pods"][0]
    assert request.query["limit"] == "50"
    seen = {p.name for p in first.context["pods"]}
    token = first.context["next_token"]
    while token:
        page = client.get(f"/clusters/pods/?namespace=bench&continue={token}", HTTP_HX_REQUEST="true")
        names = {p.name for p in page.context["pods"]}
        assert not names & seen
        seen |= names
        token = page.context["next_token"]
    assert len(seen) == 120


@pytest.mark.django_db
def test_pod_filters_run_on_the_api_server(viewer_client, lab_api):
    lab_api.clear_requests()
    page = viewer_client.get("/clusters/pods/?node=lab-worker2&phase=Running&labels=app%3Dnone")
    request = [r for r in lab_api.requests_log if r.path == "/api/v1/pods"][-1]
    assert request.query["fieldSelector"] == "status.phase=Running,spec.nodeName=lab-worker2"
    assert request.query["labelSelector"] == "app=none"
    assert page.context["pods"] == []
    assert "No pod matches these filters." in page.content.decode()


@pytest.mark.django_db
def test_pod_detail_and_its_log(viewer_client, lab, lab_api):
    lab_api.set_pod_log("ml", "train-0", [f"epoch {i}" for i in range(1, 11)], container="trainer")
    page = viewer_client.get(f"/clusters/{lab.pk}/pods/ml/train-0/")
    assert [c["spec"]["name"] for c in page.context["containers"]] == ["trainer", "sidecar"]
    log = viewer_client.get(f"/clusters/{lab.pk}/pods/ml/train-0/log/?container=trainer&tail=3")
    assert log.content.decode().split() == ["epoch", "8", "epoch", "9", "epoch", "10"]
    download = viewer_client.get(f"/clusters/{lab.pk}/pods/ml/train-0/log/?container=trainer&tail=3&download=1")
    assert download["Content-Disposition"] == 'attachment; filename="ml_train-0_trainer.log"'
    assert download.streaming and download.is_async  # passed on as read, never held whole

    async def body():
        return b"".join([piece async for piece in download.streaming_content])

    assert async_to_sync(body)().decode().count("epoch") == 10  # the whole log, whatever the tail
    # Two containers and none chosen: the API's own words reach the page.
    unchosen = viewer_client.get(f"/clusters/{lab.pk}/pods/ml/train-0/log/")
    assert "a container name must be specified" in unchosen.content.decode()


@pytest.mark.django_db
def test_pod_events_warnings_first(viewer_client, lab):
    page = viewer_client.get(f"/clusters/{lab.pk}/pods/ml/crashy/")
    assert page.context["events"][0].type == "Warning"
    assert "Back-off restarting failed container" in page.content.decode()


@pytest.mark.django_db
def test_bad_log_options_are_refused(viewer_client, lab):
    response = viewer_client.get(f"/clusters/{lab.pk}/pods/ml/train-0/log/?tail=-4")
    assert response.status_code == 400


@pytest.mark.django_db
def test_deployments_and_services_pages(viewer_client, lab_api):
    deployments = viewer_client.get("/clusters/deployments/?namespace=ml").context["page"].object_list
    assert [(d.name, d.replicas, d.images) for d in deployments] == [("web", 2, ["nginx:1.27"])]
    page = viewer_client.get("/clusters/services/")
    services = {s.name: s for s in page.context["page"].object_list}
    assert services["web"].ports == ["80:30081/TCP"] and services["web"].type == "NodePort"
    summary = page.context["summary"]
    assert summary["total"] == len(lab_api.list("v1", "Service")) and summary["node_port"] == 1
    assert summary["namespaces"] == len({s["metadata"]["namespace"] for s in lab_api.list("v1", "Service")})


@pytest.mark.django_db
def test_events_page_lists_warnings_first_and_filters(viewer_client):
    rows = viewer_client.get("/clusters/events/").context["page"].object_list
    assert rows[0].type == "Warning"
    normal = viewer_client.get("/clusters/events/?type=Normal").context["page"].object_list
    assert normal and all(r.type == "Normal" for r in normal)


@pytest.mark.django_db
def test_no_cluster_gives_an_empty_state(login, viewer):
    page = login(viewer).get("/clusters/pods/")
    assert "Add or import one on the Clusters page." in page.content.decode()


@pytest.mark.django_db
def test_a_dead_cluster_shows_an_error_that_says_what_to_do(login, viewer, make_cluster, settings):
    from tests.support.fake_k8s import FakeKubeAPI

    settings.KUBE_TIMEOUT = (1, 1)
    with FakeKubeAPI() as api:
        make_cluster(api, name="gone")
    for url in ("/clusters/nodes/", "/clusters/pods/", "/clusters/deployments/", "/clusters/services/",
                "/clusters/events/"):
        body = login(viewer).get(url).content.decode()
        assert "Cluster gone is unreachable" in body, url
        assert "connection on the Clusters page; this page retries by itself" in body, url


@pytest.mark.django_db
def test_the_cluster_switch_is_followed_by_every_page(login, viewer, make_cluster, lab_api):
    from tests.support.fake_k8s import FakeKubeAPI
    from tests.support.k8s_seed import seed_kind_cluster

    with FakeKubeAPI() as other_api:
        seed_kind_cluster(other_api, name="gpu", workers=1)
        lab = make_cluster(lab_api, name="lab")
        other = make_cluster(other_api, name="gpu", context="kind-gpu")
        client = login(viewer)
        names = [r.name for r in client.get("/clusters/nodes/").context["page"].object_list]
        assert names == ["gpu-control-plane", "gpu-worker"]  # the first cluster until one is chosen
        response = client.post("/clusters/select/", {"cluster": lab.pk, "next": "/clusters/nodes/?q=x"})
        assert response["Location"] == "/clusters/nodes/"
        assert len(client.get("/clusters/nodes/").context["page"].object_list) == 4
        assert len(client.get("/clusters/pods/?namespace=ml").context["pods"]) == 2
        # A page about one object of the old cluster makes no sense in the new one.
        back = client.post("/clusters/select/", {"cluster": other.pk, "next": "/clusters/1/nodes/x/"})
        assert back["Location"] == "/"
        assert client.post("/clusters/select/", {"cluster": "x"}).status_code == 404
