"""The fake Kubernetes API, driven by the real kubernetes client (and kubectl, and plain requests)."""
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import kubernetes
import pytest
import requests
from kubernetes.client import ApiException

from tests.fake_k8s.conftest import BENCH_PODS
from tests.support.fake_k8s import FakeKubeAPI, write_kubeconfig
from tests.support.k8s_seed import (make_deployment, make_pod, make_vcjob, seed_kind_cluster,
                                    seed_workload_pods)

VCJOB = ("batch.volcano.sh", "v1alpha1", "jobs")
QUEUE = ("scheduling.volcano.sh", "v1beta1", "queues")
PODGROUP = ("scheduling.volcano.sh", "v1beta1", "podgroups")
COMMAND = ("bus.volcano.sh", "v1alpha1", "commands")


def status_of(error: ApiException) -> dict:
    return json.loads(error.body)


def core(client):
    return kubernetes.client.CoreV1Api(client)


def small_pod(name, labels=None, containers=("main",)):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels or {}},
            "spec": {"containers": [{"name": c, "image": "busybox:1.36"} for c in containers]}}


# --------------------------------------------------------------------------- seeded cluster

def test_seeded_kind_cluster_lists(kind_client):
    v1 = core(kind_client)
    nodes = v1.list_node().items
    assert [n.metadata.name for n in nodes] == ["lab-control-plane", "lab-worker", "lab-worker2", "lab-worker3"]
    control = nodes[0]
    assert "node-role.kubernetes.io/control-plane" in control.metadata.labels
    assert control.spec.taints[0].effect == "NoSchedule"
    condition_types = [c.type for c in control.status.conditions]
    assert "Ready" in condition_types and condition_types[-1] != "Ready"
    assert control.status.node_info.kubelet_version == "v1.30.0"
    assert control.status.capacity["memory"].endswith("Ki")

    pods = v1.list_pod_for_all_namespaces().items
    by_namespace = {}
    for pod in pods:
        by_namespace.setdefault(pod.metadata.namespace, []).append(pod.metadata.name)
    assert len([n for n in by_namespace["kube-system"] if n.startswith("coredns-")]) == 2
    assert "etcd-lab-control-plane" in by_namespace["kube-system"]
    assert len([n for n in by_namespace["kube-system"] if n.startswith("kube-proxy-")]) == 4
    assert len(by_namespace["volcano-system"]) == 3
    coredns = v1.read_namespaced_pod(by_namespace["kube-system"][0], "kube-system")
    assert coredns.status.phase == "Running" and coredns.status.container_statuses[0].ready

    services = {s.metadata.name: s for s in v1.list_service_for_all_namespaces().items}
    assert services["kubernetes"].spec.cluster_ip == "10.96.0.1"
    assert services["kubernetes"].spec.ports[0].port == 443
    assert "kube-dns" in services
    namespaces = [n.metadata.name for n in v1.list_namespace().items]
    assert {"default", "kube-system", "kube-public", "local-path-storage", "volcano-system"} <= set(namespaces)
    events = v1.list_event_for_all_namespaces().items
    assert any(e.type == "Warning" for e in events)

    deployments = kubernetes.client.AppsV1Api(kind_client).list_namespaced_deployment("volcano-system").items
    images = {d.spec.template.spec.containers[0].image for d in deployments}
    assert "docker.io/volcanosh/vc-scheduler:v1.10.0" in images

    queues = kubernetes.client.CustomObjectsApi(kind_client).list_cluster_custom_object(*QUEUE)["items"]
    assert [(q["metadata"]["name"], q["status"]["state"], q["spec"]["weight"]) for q in queues] == \
        [("default", "Open", 1)]


def test_list_items_look_like_the_real_api(kind_api):
    headers = {"Authorization": f"Bearer {kind_api.token}"}
    body = requests.get(f"{kind_api.url}/api/v1/namespaces/kube-system/pods", headers=headers).json()
    assert body["kind"] == "PodList" and body["apiVersion"] == "v1"
    assert int(body["metadata"]["resourceVersion"]) > 0
    assert "kind" not in body["items"][0]
    one = requests.get(f"{kind_api.url}/api/v1/namespaces/kube-system/pods/{body['items'][0]['metadata']['name']}",
                       headers=headers).json()
    assert one["kind"] == "Pod" and one["apiVersion"] == "v1"
    jobs = requests.get(f"{kind_api.url}/apis/batch.volcano.sh/v1alpha1/jobs", headers=headers).json()
    assert jobs["kind"] == "JobList" and jobs["items"] == []


# --------------------------------------------------------------------------- create / read / update / delete

def test_pod_create_get_replace_patch_delete(kind_client, kind_api):
    v1 = core(kind_client)
    created = v1.create_namespaced_pod("default", small_pod("web", {"app": "web"}))
    assert created.metadata.uid and created.metadata.resource_version and created.metadata.creation_timestamp
    assert created.metadata.namespace == "default"
    assert created.status.phase == "Pending"  # what a new pod reports before a kubelet runs it

    pod = v1.read_namespaced_pod("web", "default")
    pod.metadata.labels["tier"] = "front"
    replaced = v1.replace_namespaced_pod("web", "default", pod)
    assert replaced.metadata.labels == {"app": "web", "tier": "front"}
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)

    # a dict body goes as a strategic merge patch; containers are merged by name
    patched = v1.patch_namespaced_pod("web", "default", {"metadata": {"labels": {"tier": None, "v": "2"}},
                                                         "spec": {"containers": [{"name": "main",
                                                                                  "image": "busybox:1.37"}]}})
    assert patched.metadata.labels == {"app": "web", "v": "2"}
    assert patched.spec.containers[0].image == "busybox:1.37" and patched.spec.containers[0].name == "main"

    # a list body goes as a JSON patch
    patched = v1.patch_namespaced_pod("web", "default", [{"op": "add", "path": "/metadata/annotations",
                                                          "value": {"note": "x"}},
                                                         {"op": "remove", "path": "/metadata/labels/v"}])
    assert patched.metadata.annotations == {"note": "x"} and "v" not in patched.metadata.labels

    merged = v1.patch_namespaced_pod("web", "default", {"metadata": {"labels": {"m": "1"}}},
                                     _content_type="application/merge-patch+json")
    assert merged.metadata.labels["m"] == "1"
    assert kind_api.requests_to(r"/pods/web$", "PATCH")[-1].content_type == "application/merge-patch+json"

    applied = v1.patch_namespaced_pod("web", "default", {"apiVersion": "v1", "kind": "Pod",
                                                         "metadata": {"name": "web", "labels": {"applied": "yes"}}},
                                      field_manager="portal", _content_type="application/apply-patch+yaml")
    assert applied.metadata.labels["applied"] == "yes" and applied.metadata.labels["app"] == "web"

    deleted = v1.delete_namespaced_pod("web", "default")
    assert deleted.metadata.name == "web"
    with pytest.raises(ApiException) as error:
        v1.read_namespaced_pod("web", "default")
    assert error.value.status == 404
    assert status_of(error.value) == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                      "message": 'pods "web" not found', "reason": "NotFound",
                                      "details": {"name": "web", "kind": "pods"}, "code": 404}


def test_apply_creates_when_absent(kind_client):
    v1 = core(kind_client)
    created = v1.patch_namespaced_config_map("settings", "default", {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"a": "1"}},
        field_manager="portal", _content_type="application/apply-patch+yaml")
    assert created.data == {"a": "1"}
    with pytest.raises(ApiException) as error:
        v1.patch_namespaced_config_map("settings", "default", {"data": {"a": "2"}},
                                       _content_type="application/apply-patch+yaml")
    assert error.value.status == 400  # apply needs a fieldManager


def test_deployments_and_services(kind_client, kind_api):
    apps, v1 = kubernetes.client.AppsV1Api(kind_client), core(kind_client)
    body = make_deployment("api", "default", replicas=2, image="nginx:1.27")
    del body["status"], body["metadata"]["creationTimestamp"]
    created = apps.create_namespaced_deployment("default", body)
    assert created.metadata.generation == 1 and created.spec.replicas == 2
    assert created.status.replicas is None  # no controller: status is what tests put there

    patched = apps.patch_namespaced_deployment("api", "default", {"spec": {"template": {"spec": {"containers": [
        {"name": "api", "image": "nginx:1.28"}]}}}})
    assert patched.spec.template.spec.containers[0].image == "nginx:1.28"
    assert patched.metadata.generation == 2

    scale = apps.patch_namespaced_deployment_scale("api", "default", {"spec": {"replicas": 5}})
    assert scale.spec.replicas == 5 and scale.status.selector == "app=api"
    assert apps.read_namespaced_deployment("api", "default").spec.replicas == 5
    assert apps.read_namespaced_deployment_scale("api", "default").spec.replicas == 5
    kind_api.patch_status("apps/v1", "Deployment", "api", {"replicas": 5, "readyReplicas": 4}, "default")
    assert apps.read_namespaced_deployment_status("api", "default").status.ready_replicas == 4

    service = v1.create_namespaced_service("default", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "api"},
        "spec": {"selector": {"app": "api"}, "ports": [{"port": 80, "targetPort": 8080}]}})
    assert service.spec.cluster_ip.startswith("10.96.") and service.spec.type == "ClusterIP"
    assert service.spec.ports[0].protocol == "TCP"
    patched = v1.patch_namespaced_service("api", "default", {"spec": {"ports": [{"port": 80, "targetPort": 9090}]}})
    assert patched.spec.ports[0].target_port == 9090 and len(patched.spec.ports) == 1

    apps.delete_namespaced_deployment("api", "default")
    v1.delete_namespaced_service("api", "default")
    assert [d.metadata.name for d in apps.list_namespaced_deployment("default").items] == []


def test_errors_look_like_the_real_servers(kind_client, kind_api):
    v1 = core(kind_client)
    v1.create_namespaced_pod("default", small_pod("dup"))
    with pytest.raises(ApiException) as error:
        v1.create_namespaced_pod("default", small_pod("dup"))
    assert error.value.status == 409
    body = status_of(error.value)
    assert body["reason"] == "AlreadyExists" and body["message"] == 'pods "dup" already exists'

    with pytest.raises(ApiException) as error:
        v1.create_namespaced_pod("nowhere", small_pod("p"))
    assert error.value.status == 404 and status_of(error.value)["message"] == 'namespaces "nowhere" not found'

    with pytest.raises(ApiException) as error:
        v1.create_namespaced_pod("default", {"apiVersion": "v1", "kind": "Pod", "metadata": {},
                                             "spec": {"containers": [{"name": "a", "image": "b"}]}})
    assert error.value.status == 422
    body = status_of(error.value)
    assert body["reason"] == "Invalid"
    assert body["message"] == 'Pod "" is invalid: metadata.name: Required value: name or generateName is required'
    assert body["details"]["causes"][0]["field"] == "metadata.name"

    with pytest.raises(ApiException) as error:
        v1.create_namespaced_pod("default", small_pod("Bad_Name"))
    assert error.value.status == 422 and "RFC 1123 subdomain" in status_of(error.value)["message"]

    with pytest.raises(ApiException) as error:
        v1.create_namespaced_pod("default", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "nocontainers"},
                                             "spec": {"containers": []}})
    assert status_of(error.value)["message"] == 'Pod "nocontainers" is invalid: spec.containers: Required value'

    with pytest.raises(ApiException) as error:  # kind mismatch
        v1.create_namespaced_pod("default", dict(small_pod("k"), kind="Service"))
    assert error.value.status == 422

    with pytest.raises(ApiException) as error:  # apiVersion mismatch: a BadRequest, as on the real server
        v1.create_namespaced_pod("default", dict(small_pod("k"), apiVersion="apps/v1"))
    assert error.value.status == 400
    assert "does not match the expected API version (v1)" in status_of(error.value)["message"]

    stale = v1.read_namespaced_pod("dup", "default")
    v1.patch_namespaced_pod("dup", "default", {"metadata": {"labels": {"x": "1"}}})
    with pytest.raises(ApiException) as error:
        v1.replace_namespaced_pod("dup", "default", stale)
    assert error.value.status == 409 and status_of(error.value)["reason"] == "Conflict"
    assert "the object has been modified" in status_of(error.value)["message"]

    with pytest.raises(ApiException) as error:
        kubernetes.client.AppsV1Api(kind_client).read_namespaced_deployment("nope", "default")
    assert status_of(error.value)["message"] == 'deployments.apps "nope" not found'
    assert status_of(error.value)["details"] == {"name": "nope", "group": "apps", "kind": "deployments"}

    with pytest.raises(ApiException) as error:
        v1.delete_namespaced_pod("nope", "default")
    assert error.value.status == 404


# --------------------------------------------------------------------------- selectors and paging

def test_label_and_field_selectors(kind_client, kind_api):
    kind_api.bulk_put([
        make_pod("a1", "default", "lab-worker", labels={"app": "a", "tier": "web"}),
        make_pod("a2", "default", "lab-worker2", labels={"app": "a", "tier": "db"}),
        make_pod("b1", "default", "lab-worker", labels={"app": "b"}, phase="Succeeded"),
        make_pod("c1", "default", None, labels={"app": "c"}, phase="Pending"),
    ])
    v1 = core(kind_client)

    def names(**kw):
        return sorted(p.metadata.name for p in v1.list_namespaced_pod("default", **kw).items)

    assert names(label_selector="app=a") == ["a1", "a2"]
    assert names(label_selector="app==a,tier!=web") == ["a2"]
    assert names(label_selector="app in (a, b)") == ["a1", "a2", "b1"]
    assert names(label_selector="app notin (a),app") == ["b1", "c1"]
    assert names(label_selector="tier") == ["a1", "a2"]
    assert names(label_selector="!tier") == ["b1", "c1"]
    assert names(field_selector="spec.nodeName=lab-worker") == ["a1", "b1"]
    assert names(field_selector="spec.nodeName=") == ["c1"]
    assert names(field_selector="status.phase!=Running,metadata.name!=c1") == ["b1"]
    assert names(field_selector="metadata.name=a2", label_selector="app=a") == ["a2"]
    all_ns = v1.list_pod_for_all_namespaces(field_selector="metadata.namespace=kube-system").items
    assert all_ns and {p.metadata.namespace for p in all_ns} == {"kube-system"}

    node_events = v1.list_event_for_all_namespaces(field_selector="involvedObject.kind=Node").items
    assert [e.reason for e in node_events] == ["NodeReady"]
    warnings = v1.list_event_for_all_namespaces(field_selector="type=Warning").items
    assert [e.reason for e in warnings] == ["Unhealthy"]

    with pytest.raises(ApiException) as error:
        v1.list_namespaced_pod("default", field_selector="spec.image=x")
    assert error.value.status == 400 and status_of(error.value)["message"] == "field label not supported: spec.image"

    deleted = v1.delete_collection_namespaced_pod("default", label_selector="app=a")
    assert deleted is not None
    assert names() == ["b1", "c1"]


def test_paging_5000_pods(big_cluster, big_client):
    v1 = core(big_client)
    big_cluster.clear_requests()
    seen, pages, token, remaining = [], 0, None, []
    started = time.perf_counter()
    while True:
        page = v1.list_pod_for_all_namespaces(limit=500, _continue=token)
        pages += 1
        assert len(page.items) <= 500
        seen.extend((p.metadata.namespace, p.metadata.name) for p in page.items)
        token = page.metadata._continue
        remaining.append(page.metadata.remaining_item_count)
        if not token:
            break
    elapsed = time.perf_counter() - started
    bench = [name for ns, name in seen if ns == "bench"]
    assert len(bench) == BENCH_PODS and len(set(bench)) == BENCH_PODS
    assert len(seen) == len(set(seen))
    assert seen == sorted(seen)
    assert pages == -(-len(seen) // 500)
    assert remaining[0] == len(seen) - 500 and remaining[-1] is None
    assert all(r.query.get("limit") == "500" for r in big_cluster.requests_to(r"^/api/v1/pods$"))
    print(f"\nlisted {len(seen)} pods in {pages} pages of 500 in {elapsed:.2f} s")

    # namespaced paging with a selector
    names, token = [], None
    while True:
        page = v1.list_namespaced_pod("bench", limit=100, _continue=token, label_selector="group=bench-7")
        names.extend(p.metadata.name for p in page.items)
        token = page.metadata._continue
        if not token:
            break
    assert len(names) == len(set(names)) == BENCH_PODS // 50


def test_bulk_seed_is_fast():
    api = FakeKubeAPI()
    started = time.perf_counter()
    seed_workload_pods(api, 5000, nodes=["w1", "w2"])
    elapsed = time.perf_counter() - started
    assert len(api.list("v1", "Pod", "bench")) == 5000
    assert elapsed < 3
    print(f"\nbulk-seeded 5000 pods in {elapsed:.2f} s")


# --------------------------------------------------------------------------- watch

def test_watch_returns_at_timeout(kind_client):
    v1 = core(kind_client)
    started = time.monotonic()
    events = list(kubernetes.watch.Watch().stream(v1.list_namespaced_pod, "default", timeout_seconds=1))
    assert events == []
    assert 0.9 < time.monotonic() - started < 3


def test_watch_without_resource_version_replays_state(kind_client):
    v1 = core(kind_client)
    events = list(kubernetes.watch.Watch().stream(v1.list_namespaced_pod, "kube-system", timeout_seconds=1))
    assert events and {e["type"] for e in events} == {"ADDED"}
    assert all(e["object"].metadata.namespace == "kube-system" for e in events)


def test_watch_sees_added_modified_deleted(kind_client, kind_api):
    v1 = core(kind_client)
    start_rv = v1.list_namespaced_pod("default").metadata.resource_version
    seen = []

    def watch():
        w = kubernetes.watch.Watch()
        for event in w.stream(v1.list_namespaced_pod, "default", resource_version=start_rv, timeout_seconds=10):
            seen.append((event["type"], event["object"].metadata.name, event["object"].metadata.labels))
            if event["type"] == "DELETED":
                w.stop()

    thread = threading.Thread(target=watch)
    thread.start()
    v1.create_namespaced_pod("kube-system", small_pod("elsewhere"))  # another namespace: not seen
    v1.create_namespaced_pod("default", small_pod("w1"))
    v1.patch_namespaced_pod("w1", "default", {"metadata": {"labels": {"step": "2"}}})
    v1.delete_namespaced_pod("w1", "default")
    thread.join(10)
    assert not thread.is_alive()
    assert [(t, n) for t, n, _ in seen] == [("ADDED", "w1"), ("MODIFIED", "w1"), ("DELETED", "w1")]
    assert seen[1][2] == {"step": "2"}


def test_watch_after_resource_version_and_expired(kind_api, kind_client):
    v1 = core(kind_client)
    v1.create_namespaced_pod("default", small_pod("before"))
    rv = v1.list_namespaced_pod("default").metadata.resource_version
    v1.create_namespaced_pod("default", small_pod("after"))
    events = list(kubernetes.watch.Watch().stream(v1.list_namespaced_pod, "default", resource_version=rv,
                                                  timeout_seconds=1))
    assert [(e["type"], e["object"].metadata.name) for e in events] == [("ADDED", "after")]

    small = FakeKubeAPI(event_log_size=5).start()
    try:
        for i in range(20):
            small.put(make_pod(f"p{i}", "default", "n1"))
        headers = {"Authorization": "Bearer fake-token"}
        response = requests.get(f"{small.url}/api/v1/namespaces/default/pods",
                                params={"watch": "true", "resourceVersion": "3", "timeoutSeconds": "1"},
                                headers=headers, timeout=5)
        event = json.loads(response.text.splitlines()[0])
        assert event["type"] == "ERROR" and event["object"]["code"] == 410
        assert event["object"]["reason"] == "Expired"
        bookmark = requests.get(f"{small.url}/api/v1/namespaces/default/pods",
                                params={"watch": "true", "resourceVersion": str(small.store.rv),
                                        "timeoutSeconds": "1", "allowWatchBookmarks": "true"},
                                headers=headers, timeout=5)
        assert json.loads(bookmark.text.splitlines()[-1])["type"] == "BOOKMARK"
    finally:
        small.stop()


def test_watch_custom_objects(kind_client):
    custom = kubernetes.client.CustomObjectsApi(kind_client)
    rv = custom.list_namespaced_custom_object(*VCJOB[:2], "default", VCJOB[2])["metadata"]["resourceVersion"]
    custom.create_namespaced_custom_object(*VCJOB[:2], "default", VCJOB[2], make_vcjob("train"))
    events = list(kubernetes.watch.Watch().stream(custom.list_namespaced_custom_object, *VCJOB[:2], "default",
                                                  VCJOB[2], resource_version=rv, timeout_seconds=1))
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "train")]


# --------------------------------------------------------------------------- custom resources

def test_volcano_custom_objects(kind_client, kind_api):
    custom = kubernetes.client.CustomObjectsApi(kind_client)
    job = custom.create_namespaced_custom_object(*VCJOB[:2], "default", VCJOB[2],
                                                 make_vcjob("train", tasks=[("ps", 1), ("worker", 2)]))
    assert isinstance(job, dict)  # the client returns a dict only for a 201
    assert job["metadata"]["uid"] and job["metadata"]["generation"] == 1
    assert job["kind"] == "Job" and job["metadata"]["namespace"] == "default"

    kind_api.put(make_namespace_obj("team-a"))
    custom.create_namespaced_custom_object(*VCJOB[:2], "team-a", VCJOB[2], make_vcjob("eval", "team-a"))
    everywhere = custom.list_cluster_custom_object(*VCJOB)["items"]
    assert sorted(j["metadata"]["name"] for j in everywhere) == ["eval", "train"]
    assert [j["metadata"]["name"] for j in custom.list_namespaced_custom_object(*VCJOB[:2], "team-a", VCJOB[2])[
        "items"]] == ["eval"]

    status = {"status": {"state": {"phase": "Running"}, "running": 3}}
    patched = custom.patch_namespaced_custom_object_status(*VCJOB[:2], "default", VCJOB[2], "train", status)
    assert patched["status"]["state"]["phase"] == "Running"
    # a status subresource: writes to the main resource leave status alone
    again = custom.patch_namespaced_custom_object(*VCJOB[:2], "default", VCJOB[2], "train",
                                                  {"spec": {"maxRetry": 5}, "status": {"running": 0}})
    assert again["status"]["running"] == 3 and again["spec"]["maxRetry"] == 5
    assert again["metadata"]["generation"] == 2

    queue = custom.create_cluster_custom_object(*QUEUE, {
        "apiVersion": "scheduling.volcano.sh/v1beta1", "kind": "Queue", "metadata": {"name": "research"},
        "spec": {"weight": 4, "reclaimable": True}})
    assert "namespace" not in queue["metadata"]
    assert {q["metadata"]["name"] for q in custom.list_cluster_custom_object(*QUEUE)["items"]} == \
        {"default", "research"}
    assert custom.get_cluster_custom_object(*QUEUE, "research")["spec"]["weight"] == 4

    custom.create_namespaced_custom_object(*PODGROUP[:2], "default", PODGROUP[2], {
        "apiVersion": "scheduling.volcano.sh/v1beta1", "kind": "PodGroup",
        "metadata": {"name": "train-pg"}, "spec": {"minMember": 3, "queue": "default"}})
    assert [p["metadata"]["name"] for p in custom.list_cluster_custom_object(*PODGROUP)["items"]] == ["train-pg"]

    kind_api.clear_requests()
    command = custom.create_namespaced_custom_object(*COMMAND[:2], "default", COMMAND[2], {
        "apiVersion": "bus.volcano.sh/v1alpha1", "kind": "Command",
        "metadata": {"generateName": "train-abortjob-"}, "action": "AbortJob",
        "target": {"apiVersion": "batch.volcano.sh/v1alpha1", "kind": "Job", "name": "train",
                   "uid": job["metadata"]["uid"]}})
    name = command["metadata"]["name"]
    assert name.startswith("train-abortjob-") and len(name) == len("train-abortjob-") + 5
    posts = kind_api.requests_to(r"/apis/bus.volcano.sh/v1alpha1/namespaces/default/commands$", "POST")
    assert len(posts) == 1 and posts[0].content_type in (None, "application/json")  # client 37 sends none
    stored = kind_api.get("bus.volcano.sh/v1alpha1", "Command", name, "default")
    assert stored["target"]["uid"] == job["metadata"]["uid"]

    with pytest.raises(ApiException) as error:  # custom resources take no strategic merge patch
        custom.patch_namespaced_custom_object(*VCJOB[:2], "default", VCJOB[2], "train", {"spec": {}},
                                              _content_type="application/strategic-merge-patch+json")
    assert error.value.status == 415

    custom.delete_namespaced_custom_object(*VCJOB[:2], "default", VCJOB[2], "train")
    with pytest.raises(ApiException) as error:
        custom.get_namespaced_custom_object(*VCJOB[:2], "default", VCJOB[2], "train")
    assert status_of(error.value)["message"] == 'jobs.batch.volcano.sh "train" not found'


def make_namespace_obj(name):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def test_deleting_a_namespace_deletes_its_objects(kind_client, kind_api):
    v1 = core(kind_client)
    v1.create_namespace(make_namespace_obj("scratch"))
    v1.create_namespaced_pod("scratch", small_pod("p"))
    kind_api.put(make_vcjob("j", "scratch"))
    v1.delete_namespace("scratch")
    assert kind_api.list("v1", "Pod", "scratch") == []
    assert kind_api.list("batch.volcano.sh/v1alpha1", "Job", "scratch") == []
    with pytest.raises(ApiException):
        v1.read_namespace("scratch")


def test_eviction_respects_disruption_budget(kind_client, kind_api):
    v1 = core(kind_client)
    kind_api.bulk_put([make_pod("db-0", "default", "lab-worker", labels={"app": "db"}),
                       make_pod("web-0", "default", "lab-worker", labels={"app": "web"}),
                       {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
                        "metadata": {"name": "db", "namespace": "default"},
                        "spec": {"maxUnavailable": 0, "selector": {"matchLabels": {"app": "db"}}}}])
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "db-0", "namespace": "default"}}
    with pytest.raises(ApiException) as error:
        v1.create_namespaced_pod_eviction("db-0", "default", eviction)
    assert error.value.status == 429
    assert "disruption budget" in status_of(error.value)["message"]
    v1.create_namespaced_pod_eviction("web-0", "default", dict(eviction, metadata={"name": "web-0"}))
    assert kind_api.get("v1", "Pod", "web-0", "default") is None
    assert kind_api.get("v1", "Pod", "db-0", "default") is not None


# --------------------------------------------------------------------------- pod logs

def test_pod_log_tail_since_and_containers(kind_client, kind_api):
    v1 = core(kind_client)
    now = time.time()
    kind_api.put(make_pod("job-1", "default", "lab-worker"))
    kind_api.set_pod_log("default", "job-1", [(now - 600, "old 1"), (now - 500, "old 2"), (now - 5, "new 1"),
                                              (now - 1, "new 2")])
    assert v1.read_namespaced_pod_log("job-1", "default") == "old 1\nold 2\nnew 1\nnew 2\n"
    assert v1.read_namespaced_pod_log("job-1", "default", tail_lines=1) == "new 2\n"
    assert v1.read_namespaced_pod_log("job-1", "default", since_seconds=60) == "new 1\nnew 2\n"
    assert v1.read_namespaced_pod_log("job-1", "default", limit_bytes=8) == "old 1\nol"
    stamped = v1.read_namespaced_pod_log("job-1", "default", tail_lines=1, timestamps=True)
    stamp, text = stamped.rstrip("\n").split(" ", 1)
    assert text == "new 2" and stamp.endswith("Z") and len(stamp) == len("2024-01-01T00:00:00.000000000Z")

    kind_api.put(make_pod("two", "default", "lab-worker", containers=["app", "sidecar"]))
    kind_api.set_pod_log("default", "two", "from sidecar\n", container="sidecar")
    with pytest.raises(ApiException) as error:
        v1.read_namespaced_pod_log("two", "default")
    assert error.value.status == 400
    assert status_of(error.value)["message"] == \
        "a container name must be specified for pod two, choose one of: [app sidecar]"
    assert v1.read_namespaced_pod_log("two", "default", container="sidecar") == "from sidecar\n"
    with pytest.raises(ApiException) as error:
        v1.read_namespaced_pod_log("two", "default", container="nope")
    assert error.value.status == 400

    with pytest.raises(ApiException) as error:
        v1.read_namespaced_pod_log("missing", "default")
    assert error.value.status == 404

    kind_api.put(make_pod("crash", "default", "lab-worker", reason="CrashLoopBackOff", restarts=3))
    kind_api.set_pod_log("default", "crash", "panic: boom\n", previous=True)
    assert v1.read_namespaced_pod_log("crash", "default", previous=True) == "panic: boom\n"

    kind_api.put(make_pod("pulling", "default", "lab-worker", reason="ImagePullBackOff"))
    with pytest.raises(ApiException) as error:
        v1.read_namespaced_pod_log("pulling", "default")
    assert status_of(error.value)["message"] == 'container "main" in pod "pulling" is waiting to start: ' \
                                                'ImagePullBackOff'


def test_pod_log_follow_streams_until_the_end(kind_client, kind_api):
    v1 = core(kind_client)
    kind_api.put(make_pod("runner", "default", "lab-worker"))
    kind_api.set_pod_log("default", "runner", "line 0\n")
    response = v1.read_namespaced_pod_log("runner", "default", follow=True, _preload_content=False)
    received, arrival = [], {}

    def read():
        for raw in response.stream(64, decode_content=False):
            received.append(raw.decode())
            for line in raw.decode().splitlines():
                arrival[line] = time.monotonic()

    reader = threading.Thread(target=read)
    reader.start()
    sent = {}
    for i in range(1, 6):
        time.sleep(0.05)
        sent[f"line {i}"] = time.monotonic()
        kind_api.append_pod_log("default", "runner", f"line {i}\n")
    time.sleep(0.1)
    assert reader.is_alive()  # still following
    kind_api.end_pod_log("default", "runner")
    reader.join(5)
    assert not reader.is_alive()
    assert "".join(received) == "".join(f"line {i}\n" for i in range(6))
    assert max(arrival[line] - sent[line] for line in sent) < 0.4  # streamed as appended, not batched


def test_pod_log_follow_ends_when_pod_is_deleted(kind_client, kind_api):
    v1 = core(kind_client)
    kind_api.put(make_pod("doomed", "default", "lab-worker"))
    kind_api.set_pod_log("default", "doomed", "hello\n")
    lines = []

    def follow():
        for line in kubernetes.watch.Watch().stream(v1.read_namespaced_pod_log, "doomed", "default"):
            lines.append(line)

    thread = threading.Thread(target=follow)
    thread.start()
    time.sleep(0.2)
    kind_api.delete("v1", "Pod", "doomed", "default")
    thread.join(5)
    assert not thread.is_alive() and lines == ["hello"]


# --------------------------------------------------------------------------- pod proxy

class AgentHandler(BaseHTTPRequestHandler):
    """A tiny stand-in for a node agent."""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body: dict):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.startswith("/v1/stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(4):
                data = f"{time.monotonic()} tick {i}\n".encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                time.sleep(0.15)
            self.wfile.write(b"0\r\n\r\n")
            return
        self.reply(200, {"method": "GET", "path": self.path, "headers": dict(self.headers)})

    def do_POST(self):
        digest, size = hashlib.sha256(), 0
        if self.headers.get("Transfer-Encoding") == "chunked":
            while True:
                length = int(self.rfile.readline().strip(), 16)
                if not length:
                    self.rfile.readline()
                    break
                piece = self.rfile.read(length)
                self.rfile.readline()
                digest.update(piece)
                size += len(piece)
        else:
            piece = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            digest.update(piece)
            size = len(piece)
        self.reply(201, {"method": "POST", "path": self.path, "size": size, "sha256": digest.hexdigest(),
                         "headers": dict(self.headers)})


@pytest.fixture
def agent_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), AgentHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_pod_proxy_get_with_the_client(kind_client, kind_api, agent_url):
    kind_api.put(make_pod("agent-x1", "default", "lab-worker", labels={"app": "agent"}))
    kind_api.register_pod_proxy("default", "agent-x1", 8080, agent_url)
    v1 = core(kind_client)
    # preloaded, the client turns a JSON answer into str(dict); raw bytes are what a caller wants
    response = v1.connect_get_namespaced_pod_proxy_with_path("agent-x1:8080", "default", "v1/runs/7",
                                                             _preload_content=False)
    echoed = json.loads(response.data)
    assert echoed["path"] == "/v1/runs/7"
    assert kind_api.requests_log[-1].path == "/api/v1/namespaces/default/pods/agent-x1:8080/proxy/v1/runs/7"
    assert "Authorization" not in echoed["headers"]  # the API server consumed the kubeconfig's token


def test_pod_proxy_streams_both_ways(kind_api, agent_url):
    kind_api.put(make_pod("agent-x1", "default", "lab-worker"))
    kind_api.register_pod_proxy("default", "agent-x1", 8080, agent_url)
    base = f"{kind_api.url}/api/v1/namespaces/default/pods/agent-x1:8080/proxy"
    headers = {"Authorization": f"Bearer {kind_api.token}", "X-Agent-Authorization": "Bearer agent-secret"}

    echoed = requests.get(f"{base}/v1/echo?offset=10&x=a%20b", headers=headers, timeout=5).json()
    assert echoed["path"] == "/v1/echo?offset=10&x=a%20b"
    assert echoed["headers"]["X-Agent-Authorization"] == "Bearer agent-secret"
    assert "Authorization" not in echoed["headers"]

    piece = os.urandom(1 << 20)
    expected = hashlib.sha256(piece * 16).hexdigest()
    response = requests.post(f"{base}/v1/upload", data=(piece for _ in range(16)), headers=headers, timeout=10)
    assert response.status_code == 201
    assert response.json()["size"] == 16 << 20 and response.json()["sha256"] == expected
    assert response.json()["headers"]["Transfer-Encoding"] == "chunked"

    response = requests.post(f"{base}/v1/upload", data=b"x" * 1000, headers=headers, timeout=5)
    assert response.json()["size"] == 1000

    started = time.monotonic()
    arrivals = []
    with requests.get(f"{base}/v1/stream", headers=headers, stream=True, timeout=5) as response:
        for line in response.iter_lines(chunk_size=1):
            if line:
                arrivals.append(time.monotonic() - started)
    assert len(arrivals) == 4
    assert arrivals[-1] - arrivals[0] > 0.3  # each tick passed through as sent, not once the agent finished


def test_pod_proxy_errors(kind_api, agent_url):
    headers = {"Authorization": f"Bearer {kind_api.token}"}
    kind_api.put(make_pod("agent-x1", "default", "lab-worker", pod_ip="10.244.1.7"))
    response = requests.get(f"{kind_api.url}/api/v1/namespaces/default/pods/agent-x1:8080/proxy/v1/health",
                            headers=headers, timeout=5)
    assert response.status_code == 503
    assert response.json()["message"] == \
        "error trying to reach service: dial tcp 10.244.1.7:8080: connect: connection refused"

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    kind_api.register_pod_proxy("default", "agent-x1", 8080, f"http://127.0.0.1:{dead_port}")
    response = requests.get(f"{kind_api.url}/api/v1/namespaces/default/pods/agent-x1:8080/proxy/v1/health",
                            headers=headers, timeout=5)
    assert response.status_code == 503 and response.json()["reason"] == "ServiceUnavailable"

    response = requests.get(f"{kind_api.url}/api/v1/namespaces/default/pods/ghost:8080/proxy/", headers=headers,
                            timeout=5)
    assert response.status_code == 404 and response.json()["message"] == 'pods "ghost" not found'

    kind_api.register_pod_proxy("default", "agent-x1", 9000, agent_url)
    kind_api.unregister_pod_proxy("default", "agent-x1", 8080)
    response = requests.get(f"{kind_api.url}/api/v1/namespaces/default/pods/agent-x1/proxy/v1/echo",
                            headers=headers, timeout=5)
    assert response.status_code == 200  # no port: the only registered one


# --------------------------------------------------------------------------- auth and faults

def test_unauthorized_and_forbidden(kind_api, kind_client):
    response = requests.get(f"{kind_api.url}/api/v1/pods", timeout=5)
    assert response.status_code == 401
    assert response.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                               "message": "Unauthorized", "reason": "Unauthorized", "code": 401}
    response = requests.get(f"{kind_api.url}/api/v1/pods", headers={"Authorization": "Bearer wrong"}, timeout=5)
    assert response.status_code == 401

    kind_api.forbid("list", "pods", namespace="default")
    v1 = core(kind_client)
    with pytest.raises(ApiException) as error:
        v1.list_namespaced_pod("default")
    assert error.value.status == 403
    body = status_of(error.value)
    assert body["reason"] == "Forbidden"
    assert body["message"] == 'pods is forbidden: User "kind-lab" cannot list resource "pods" in API group "" ' \
                              'in the namespace "default"'
    v1.list_namespaced_pod("kube-system")  # other namespaces are allowed

    kind_api.forbid("*", "nodes")
    with pytest.raises(ApiException) as error:
        v1.list_node()
    assert status_of(error.value)["message"].endswith("at the cluster scope")
    kind_api.forbid("get", "pods/log")
    with pytest.raises(ApiException) as error:
        v1.read_namespaced_pod_log("anything", "kube-system")
    assert error.value.status == 403
    kind_api.allow_all()
    v1.list_node()


def test_no_auth_when_token_is_none(tmp_path):
    with FakeKubeAPI(token=None) as api:
        client = kubernetes.config.new_client_from_config(config_file=str(api.write_kubeconfig(tmp_path / "kc")))
        assert core(client).list_namespace().items
        assert requests.get(f"{api.url}/api/v1/namespaces", timeout=5).status_code == 200


def test_latency_makes_the_client_time_out(kind_api):
    kind_api.set_latency(2.0, r"/api/v1/namespaces/default/pods$")
    # urllib3 retries a timed-out GET 3 times by default (4 s here); a caller wanting 1 s turns that off
    configuration = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(str(kind_api.kubeconfig_path), client_configuration=configuration)
    configuration.retries = 0
    v1 = core(kubernetes.client.ApiClient(configuration))
    v1.list_namespaced_pod("kube-system", _request_timeout=(1, 1))  # other paths are not delayed
    started = time.monotonic()
    with pytest.raises(Exception) as error:
        v1.list_namespaced_pod("default", _request_timeout=(1, 1))
    elapsed = time.monotonic() - started
    assert "timed out" in str(error.value).lower()
    assert elapsed < 1.8
    kind_api.set_latency(0, r"/api/v1/namespaces/default/pods$")
    v1.list_namespaced_pod("default", _request_timeout=(1, 1))


def test_fail_injects_errors(kind_api, kind_client):
    v1 = core(kind_client)
    kind_api.fail(r"^/api/v1/nodes$", 503, "etcd is sad", times=2)
    for _ in range(2):
        with pytest.raises(ApiException) as error:
            v1.list_node()
        assert error.value.status == 503 and status_of(error.value)["message"] == "etcd is sad"
    assert len(v1.list_node().items) == 4


# --------------------------------------------------------------------------- discovery, kubeconfig, kubectl

def test_discovery_with_and_without_volcano(tmp_path, kind_client, kind_api):
    groups = {g.name for g in kubernetes.client.ApisApi(kind_client).get_api_versions().groups}
    assert {"apps", "batch.volcano.sh", "scheduling.volcano.sh", "bus.volcano.sh"} <= groups
    assert kubernetes.client.VersionApi(kind_client).get_code().git_version == "v1.30.0"
    resources = kubernetes.client.CoreV1Api(kind_client).get_api_resources().resources
    assert {"pods", "pods/log", "nodes", "namespaces", "services", "events"} <= {r.name for r in resources}
    crds = kubernetes.client.ApiextensionsV1Api(kind_client).list_custom_resource_definition().items
    assert "jobs.batch.volcano.sh" in {c.metadata.name for c in crds}

    with FakeKubeAPI(volcano=False) as bare:
        seed_kind_cluster(bare, volcano=False)
        client = kubernetes.config.new_client_from_config(config_file=str(bare.write_kubeconfig(tmp_path / "b")))
        groups = {g.name for g in kubernetes.client.ApisApi(client).get_api_versions().groups}
        assert "batch.volcano.sh" not in groups and "apps" in groups
        with pytest.raises(ApiException) as error:
            kubernetes.client.CustomObjectsApi(client).list_cluster_custom_object(*VCJOB)
        assert error.value.status == 404

    kind_api.uninstall_group("batch.volcano.sh")
    groups = {g.name for g in kubernetes.client.ApisApi(kind_client).get_api_versions().groups}
    assert "batch.volcano.sh" not in groups and "scheduling.volcano.sh" in groups


def test_creating_a_crd_registers_its_resource(kind_client, kind_api):
    kind_api.put({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                  "metadata": {"name": "widgets.example.com"},
                  "spec": {"group": "example.com", "scope": "Namespaced",
                           "names": {"plural": "widgets", "kind": "Widget"},
                           "versions": [{"name": "v1", "served": True, "storage": True}]}})
    custom = kubernetes.client.CustomObjectsApi(kind_client)
    custom.create_namespaced_custom_object("example.com", "v1", "default", "widgets", {
        "apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}})
    assert custom.list_cluster_custom_object("example.com", "v1", "widgets")["items"][0]["metadata"]["name"] == "w"


def test_kubeconfig_with_several_contexts(tmp_path):
    with FakeKubeAPI() as one, FakeKubeAPI(token="other-token") as two:
        one.put(make_namespace_obj("only-in-one"))
        path = write_kubeconfig(tmp_path / "kc", {"kind-one": one, "kind-two": two, "kind-one-again": one},
                                current="kind-two")
        contexts, current = kubernetes.config.list_kube_config_contexts(str(path))
        assert [c["name"] for c in contexts] == ["kind-one", "kind-two", "kind-one-again"]
        assert current["name"] == "kind-two"
        for context, expected in (("kind-one", True), ("kind-two", False), ("kind-one-again", True)):
            client = kubernetes.config.new_client_from_config(config_file=str(path), context=context)
            names = {n.metadata.name for n in core(client).list_namespace().items}
            assert ("only-in-one" in names) is expected


def test_tls_server_with_the_client(tmp_path):
    with FakeKubeAPI(tls=True) as api:
        assert api.url.startswith("https://")
        client = kubernetes.config.new_client_from_config(config_file=str(api.write_kubeconfig(tmp_path / "kc")))
        assert {n.metadata.name for n in core(client).list_namespace().items} >= {"default", "kube-system"}


def test_kubectl_get_pods_all_namespaces(tmp_path):
    kubectl = shutil.which("kubectl")
    if not kubectl:
        if os.environ.get("CI"):
            pytest.fail("kubectl is missing")
        pytest.skip("kubectl is not installed")
    # client-go sends a kubeconfig's token only over TLS, so kubectl needs the https server
    with FakeKubeAPI(tls=True) as api:
        seed_kind_cluster(api)
        seed_workload_pods(api, 600, nodes=["lab-worker", "lab-worker2"])
        path = api.write_kubeconfig(tmp_path / "kc")
        started = time.monotonic()
        result = subprocess.run([kubectl, "--kubeconfig", str(path), "--cache-dir", str(tmp_path / "cache"),
                                 "get", "pods", "-A"], capture_output=True, text=True, timeout=60)
        elapsed = time.monotonic() - started
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0].split() == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
        rows = [line.split() for line in lines[1:]]
        assert len(rows) == len(api.list("v1", "Pod"))
        assert ["kube-system", "etcd-lab-control-plane", "1/1", "Running", "0"] == rows_named(rows,
                                                                                        "etcd-lab-control-plane")[:5]
        assert any(r[3] == "CrashLoopBackOff" for r in rows)
        table_requests = [r for r in api.requests_log if r.path == "/api/v1/pods"]
        assert [r.query.get("limit") for r in table_requests] == ["500", "500"]
        print(f"\nkubectl get pods -A: {len(rows)} pods in {elapsed:.2f} s")

        wide = subprocess.run([kubectl, "--kubeconfig", str(path), "--cache-dir", str(tmp_path / "cache"),
                               "get", "nodes", "-o", "wide"], capture_output=True, text=True, timeout=60)
        assert wide.returncode == 0 and "Debian GNU/Linux 12 (bookworm)" in wide.stdout


def rows_named(rows, name):
    return next(r for r in rows if r[1] == name)


def test_stop_leaves_no_thread_or_port(tmp_path):
    before = set(threading.enumerate())
    api = FakeKubeAPI().start()
    api.put(make_pod("p", "default", "n1"))
    api.set_pod_log("default", "p", "x\n")
    client = kubernetes.config.new_client_from_config(config_file=str(api.write_kubeconfig(tmp_path / "kc")))
    v1 = core(client)
    v1.list_namespace()
    streams = [v1.list_namespaced_pod("default", watch=True, _preload_content=False),
               v1.read_namespaced_pod_log("p", "default", follow=True, _preload_content=False)]
    time.sleep(0.1)
    port = api.port
    started = time.monotonic()
    api.stop()
    assert time.monotonic() - started < 3
    client.close()
    for stream in streams:
        stream.release_conn()
    time.sleep(0.1)
    leftover = [t for t in set(threading.enumerate()) - before if t.name.startswith("fake-k8s")]
    assert leftover == []
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_standalone_command(tmp_path):
    kubeconfig = tmp_path / "kc"
    process = subprocess.Popen([sys.executable, "-m", "tests.support.fake_k8s", "--port", "0", "--seed", "kind",
                                "--pods", "100", "--kubeconfig", str(kubeconfig)],
                               cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().startswith("fake Kubernetes API at http://127.0.0.1:")
        assert process.stdout.readline().strip() == str(kubeconfig)
        client = kubernetes.config.new_client_from_config(config_file=str(kubeconfig))
        assert len(core(client).list_namespaced_pod("bench").items) == 100
    finally:
        process.terminate()
        process.wait(10)
