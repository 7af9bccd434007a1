"""Actions on workloads and nodes: a service authorizes and audits, a real Celery worker acts."""

import time

import pytest

from clusters.models import Operation
from portal.models import AuditEvent
from tests.support.k8s_seed import make_pod


def wait_for(operation, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        operation.refresh_from_db()
        if operation.done:
            return operation
        time.sleep(0.05)
    raise AssertionError(f"operation {operation} did not finish")


@pytest.fixture
def operator_client(login, operator, lab):
    return login(operator)


@pytest.mark.django_db(transaction=True)
def test_delete_a_pod(operator_client, operator, lab, lab_api, celery_worker):
    response = operator_client.post(f"/clusters/{lab.pk}/pods/ml/crashy/delete/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    operation = Operation.objects.get()
    assert f'ws-connect="/ws/live/operation/{operation.pk}/"' in response.content.decode()
    wait_for(operation)
    assert operation.state == "succeeded" and operation.message == "1 deleted."
    assert lab_api.get("v1", "Pod", "crashy", "ml") is None
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "outcome", "actor_name"))
    assert actions == [("pod.delete", "ok", "oscar"), ("pod.delete.result", "ok", "oscar")]


@pytest.mark.django_db(transaction=True)
def test_delete_selected_reports_each_pod(operator_client, lab, lab_api, celery_worker):
    operator_client.post(f"/clusters/{lab.pk}/pods/delete-selected/",
                         {"selected": ["ml/train-0", "ml/crashy", "ml/ghost"]})
    operation = wait_for(Operation.objects.get())
    assert operation.state == "failed"
    assert operation.message == "1 of 3 could not be deleted."
    results = {r["object"]: r for r in operation.results}
    assert results["pod/ml/train-0"]["ok"] and results["pod/ml/crashy"]["ok"]
    assert not results["pod/ml/ghost"]["ok"] and 'pods "ghost" not found' in results["pod/ml/ghost"]["message"]
    assert AuditEvent.objects.get(action="pod.delete.result").outcome == "error"


@pytest.mark.django_db(transaction=True)
def test_scale_and_restart_a_deployment(operator_client, lab, lab_api, celery_worker):
    operator_client.post(f"/clusters/{lab.pk}/deployments/ml/web/scale/", {"replicas": "5"})
    wait_for(Operation.objects.get(action="deployment.scale"))
    assert lab_api.get("apps/v1", "Deployment", "web", "ml")["spec"]["replicas"] == 5
    operator_client.post(f"/clusters/{lab.pk}/deployments/ml/web/restart/")
    wait_for(Operation.objects.get(action="deployment.restart"))
    template = lab_api.get("apps/v1", "Deployment", "web", "ml")["spec"]["template"]
    assert "kubectl.kubernetes.io/restartedAt" in template["metadata"]["annotations"]


@pytest.mark.django_db
def test_bad_replicas_are_refused_and_nothing_is_queued(operator_client, lab, lab_api):
    response = operator_client.post(f"/clusters/{lab.pk}/deployments/ml/web/scale/", {"replicas": "-3"},
                                    HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "Replicas must be a whole number from 0 to 1000." in response.content.decode()
    assert not Operation.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_cordon_uncordon_and_drain(operator_client, lab, lab_api, celery_worker):
    operator_client.post(f"/clusters/{lab.pk}/nodes/lab-worker2/cordon/")
    wait_for(Operation.objects.get(action="node.cordon"))
    assert lab_api.get("v1", "Node", "lab-worker2")["spec"]["unschedulable"] is True
    operator_client.post(f"/clusters/{lab.pk}/nodes/lab-worker2/uncordon/")
    wait_for(Operation.objects.get(action="node.uncordon"))
    assert not lab_api.get("v1", "Node", "lab-worker2")["spec"].get("unschedulable")

    # A PodDisruptionBudget that allows no disruption keeps one pod where it is.
    lab_api.put(make_pod("guarded", "ml", node="lab-worker2", labels={"app": "guarded"}))
    lab_api.put({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                 "metadata": {"name": "guarded", "namespace": "ml"},
                 "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "guarded"}}},
                 "status": {"disruptionsAllowed": 0}})
    operator_client.post(f"/clusters/{lab.pk}/nodes/lab-worker2/drain/")
    operation = wait_for(Operation.objects.get(action="node.drain"))
    assert lab_api.get("v1", "Node", "lab-worker2")["spec"]["unschedulable"] is True
    left = {p["metadata"]["name"] for p in lab_api.list("v1", "Pod") if p["spec"].get("nodeName") == "lab-worker2"}
    assert "crashy" not in left and "guarded" in left
    assert any(name.startswith("kube-proxy") for name in left)  # DaemonSet pods stay
    assert operation.state == "failed"
    blocked = [r for r in operation.results if not r["ok"]]
    assert [r["object"] for r in blocked] == ["pod/ml/guarded"]
    assert "disruption budget" in blocked[0]["message"]


@pytest.mark.django_db(transaction=True)
def test_apply_yaml_validates_everything_first_then_applies_in_order(operator_client, lab, lab_api, celery_worker):
    good = """
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: ml}
data: {epochs: "3"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: ml}
spec:
  replicas: 1
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: "nginx:1.27"}]}
"""
    bad = good.replace("replicas: 1", 'replicas: "one"')
    page = operator_client.post("/clusters/apply/", {"text": bad})
    assert "spec.replicas: &#x27;one&#x27; is not of type &#x27;integer&#x27;, &#x27;null&#x27;" in page.content.decode()
    assert "Nothing was sent" in page.content.decode() and not Operation.objects.exists()

    broken = operator_client.post("/clusters/apply/", {"text": "kind: Pod\nmetadata: [\n"})
    assert "YAML error at line 3" in broken.content.decode()

    operator_client.post("/clusters/apply/", {"text": good})
    operation = wait_for(Operation.objects.get(action="manifest.apply"))
    assert operation.state == "succeeded", operation.message
    assert [r["object"] for r in operation.results] == ["ConfigMap/settings", "Deployment/api"]
    assert lab_api.get("apps/v1", "Deployment", "api", "ml")["spec"]["replicas"] == 1
    assert lab_api.get("v1", "ConfigMap", "settings", "ml")["data"] == {"epochs": "3"}


@pytest.mark.django_db(transaction=True)
def test_apply_stops_at_the_first_refusal_and_says_what_went_in(operator_client, lab, lab_api, celery_worker):
    documents = """
apiVersion: v1
kind: ConfigMap
metadata: {name: first, namespace: ml}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: second, namespace: nowhere}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: third, namespace: ml}
"""
    operator_client.post("/clusters/apply/", {"text": documents})
    operation = wait_for(Operation.objects.get())
    assert operation.state == "failed"
    assert operation.message == "1 of 3 documents applied; stopped at ConfigMap/second."
    assert [(r["object"], r["ok"]) for r in operation.results] == [
        ("ConfigMap/first", True), ("ConfigMap/second", False), ("ConfigMap/third", False)]
    assert lab_api.get("v1", "ConfigMap", "third", "ml") is None


@pytest.mark.django_db(transaction=True)
def test_stop_all_confirms_the_count_and_spares_the_cluster(operator_client, lab, lab_api, celery_worker):
    confirm = operator_client.get("/clusters/stop-all/?namespace=ml&kind=pod")
    assert len(confirm.context["targets"]) == 2
    assert "Delete these 2 pods in ml" in confirm.content.decode()
    stale = operator_client.post("/clusters/stop-all/", {"namespace": "ml", "kind": "pod", "count": "5"})
    assert "now holds 2 instead of 5" in stale.content.decode() and not Operation.objects.exists()
    operator_client.post("/clusters/stop-all/", {"namespace": "ml", "kind": "pod", "count": "2"})
    wait_for(Operation.objects.get(action="pod.stop_all"))
    assert [p for p in lab_api.list("v1", "Pod") if p["metadata"]["namespace"] == "ml"] == []

    system = operator_client.post("/clusters/stop-all/", {"namespace": "kube-system", "kind": "pod", "count": "1"})
    assert "never touches it" in system.content.decode()
    assert not operator_client.get("/clusters/stop-all/?namespace=default&kind=service").context["targets"]
    assert lab_api.get("v1", "Service", "kubernetes", "default") is not None


@pytest.mark.django_db
@pytest.mark.parametrize("url,data", [
    ("/clusters/{pk}/pods/ml/crashy/delete/", {}),
    ("/clusters/{pk}/pods/delete-selected/", {"selected": ["ml/crashy"]}),
    ("/clusters/{pk}/deployments/ml/web/scale/", {"replicas": "1"}),
    ("/clusters/{pk}/deployments/ml/web/restart/", {}),
    ("/clusters/{pk}/deployments/ml/web/delete/", {}),
    ("/clusters/{pk}/services/ml/web/delete/", {}),
    ("/clusters/{pk}/nodes/lab-worker/cordon/", {}),
    ("/clusters/{pk}/nodes/lab-worker/drain/", {}),
    ("/clusters/stop-all/", {"namespace": "ml", "kind": "pod", "count": "2"}),
])
def test_a_viewer_can_do_none_of_it(login, viewer, lab, lab_api, url, data):
    response = login(viewer).post(url.format(pk=lab.pk), data)
    assert response.status_code == 403
    assert AuditEvent.objects.get().outcome == "denied"
    assert not Operation.objects.exists()
    assert lab_api.get("v1", "Pod", "crashy", "ml") is not None


@pytest.mark.django_db
def test_a_viewer_cannot_apply_yaml(login, viewer, lab):
    response = login(viewer).post("/clusters/apply/", {"text": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"})
    assert response.status_code == 403
    assert AuditEvent.objects.get(action="manifest.apply").outcome == "denied"


def test_dates_in_yaml_stay_strings_so_the_documents_travel_as_json():
    import json

    from clusters.manifests import validate_manifests

    documents = validate_manifests("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dated\n"
                                   "  annotations: {released: 2026-12-04}\ndata: {at: 2026-12-04T10:00:00Z}\n")
    body = documents[0].body
    assert body["data"]["at"] == "2026-12-04T10:00:00Z" and not documents[0].errors
    json.dumps(body)  # what Celery sends to the worker
