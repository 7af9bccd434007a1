"""Seed data for the fake Kubernetes API: a kind-like cluster with Volcano, and workload pods at scale.

The shapes follow what a kind v0.23 cluster (Kubernetes v1.30) with Volcano v1.10 returns, so code that
reads them meets the same quirks as on a real cluster: the Ready condition is not the last one, quantities
are strings ("16318480Ki"), waiting pods carry a reason, and so on. Builders return plain dicts; the
``seed_*`` functions write them with ``FakeKubeAPI.put``/``bulk_put`` (no HTTP).
"""
from __future__ import annotations

import hashlib
import random
import time

from tests.support.fake_k8s import FakeKubeAPI, VOLCANO_GROUPS, now_rfc3339, volcano_crds

KUBE_VERSION = "v1.30.0"
VOLCANO_VERSION = "v1.10.0"
NODE_MEMORY_KI = "16318480Ki"


def _ago(seconds: float) -> str:
    return now_rfc3339(time.time() - seconds)


def _hash(text: str, length: int = 10) -> str:
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    digest = hashlib.sha1(text.encode()).digest()
    return "".join(alphabet[b % len(alphabet)] for b in digest[:length])


def _owner(kind: str, name: str, api_version: str = "apps/v1") -> dict:
    return {"apiVersion": api_version, "kind": kind, "name": name, "uid": _uid(f"{kind}/{name}"),
            "controller": True, "blockOwnerDeletion": True}


def _uid(seed: str) -> str:
    h = hashlib.md5(seed.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


# --------------------------------------------------------------------------- builders

def make_namespace(name: str, labels: dict | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": dict(labels or {}, **{"kubernetes.io/metadata.name": name}),
                         "creationTimestamp": _ago(86400)},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}


def make_node(name: str, ip: str, control_plane: bool = False, gpus: int = 0, cpu: str = "8",
              memory: str = NODE_MEMORY_KI, ready: bool = True, age: float = 86400) -> dict:
    labels = {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
              "kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}
    spec = {"podCIDR": f"10.244.{ip.rsplit('.', 1)[1]}.0/24", "podCIDRs": [f"10.244.{ip.rsplit('.', 1)[1]}.0/24"],
            "providerID": f"kind://docker/{name.rsplit('-', 2)[0]}/{name}"}
    if control_plane:
        labels["node-role.kubernetes.io/control-plane"] = ""
        labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
        spec["taints"] = [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    capacity = {"cpu": cpu, "ephemeral-storage": "102626232Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0",
                "memory": memory, "pods": "110"}
    if gpus:
        capacity["nvidia.com/gpu"] = str(gpus)
        labels["nvidia.com/gpu.present"] = "true"
    heartbeat = _ago(20)
    since = _ago(age)

    def condition(kind, status, reason, message):
        return {"type": kind, "status": status, "lastHeartbeatTime": heartbeat, "lastTransitionTime": since,
                "reason": reason, "message": message}

    conditions = [
        condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        condition("Ready", "True", "KubeletReady", "kubelet is posting ready status") if ready else
        condition("Ready", "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status."),
        condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ]
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": labels, "creationTimestamp": _ago(age),
                     "annotations": {"kubeadm.alpha.kubernetes.io/cri-socket":
                                     "unix:///run/containerd/containerd.sock",
                                     "node.alpha.kubernetes.io/ttl": "0",
                                     "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
        "spec": spec,
        "status": {
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "allocatable": dict(capacity), "capacity": capacity, "conditions": conditions,
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {"architecture": "amd64", "bootID": _uid("boot/" + name), "machineID": _hash(name, 32),
                         "systemUUID": _uid("system/" + name), "containerRuntimeVersion": "containerd://1.7.15",
                         "kernelVersion": "6.1.0-21-amd64", "kubeProxyVersion": KUBE_VERSION,
                         "kubeletVersion": KUBE_VERSION, "operatingSystem": "linux",
                         "osImage": "Debian GNU/Linux 12 (bookworm)"},
            "images": [{"names": ["registry.k8s.io/etcd:3.5.12-0"], "sizeBytes": 57236178}],
        },
    }


def make_pod(name: str, namespace: str = "default", node: str | None = None, phase: str = "Running",
             containers=1, labels: dict | None = None, reason: str | None = None, restarts: int = 0,
             image: str = "busybox:1.36", owner: dict | None = None, pod_ip: str | None = None,
             host_ip: str | None = None, age: float = 3600, command=None, requests: dict | None = None) -> dict:
    """A pod in the shape the API returns it, with a status that matches ``phase`` and ``reason``.

    containers is a count or a list of names. reason makes every container wait with it (CrashLoopBackOff,
    ImagePullBackOff, ContainerCreating, ...); phase Succeeded/Failed makes them terminated.
    """
    names = [f"c{i}" if i else "main" for i in range(containers)] if isinstance(containers, int) else list(containers)
    started = _ago(age)
    pod_ip = pod_ip or f"10.244.{_ip_byte(node)}.{_ip_byte(name) or 1}"
    spec_containers = []
    for n in names:
        c = {"name": n, "image": image, "imagePullPolicy": "IfNotPresent",
             "resources": {"requests": dict(requests)} if requests else {},
             "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"}
        if command:
            c["command"] = list(command)
        spec_containers.append(c)
    statuses = []
    for n in names:
        status = {"name": n, "image": image if ":" in image else image + ":latest",
                  "imageID": f"docker.io/library/{image.split(':')[0]}@sha256:{hashlib.sha256(image.encode()).hexdigest()}",
                  "containerID": f"containerd://{hashlib.sha256((namespace + name + n).encode()).hexdigest()}",
                  "restartCount": restarts, "started": False, "ready": False}
        if reason:
            status["state"] = {"waiting": {"reason": reason, "message": _waiting_message(reason, n, name, namespace)}}
            if restarts:
                status["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": _ago(120),
                                                      "finishedAt": _ago(60), "containerID": status["containerID"]}}
            if reason in ("ContainerCreating", "PodInitializing"):
                status.pop("containerID")
                status["imageID"] = ""
        elif phase == "Running":
            status.update(state={"running": {"startedAt": started}}, started=True, ready=True)
        elif phase in ("Succeeded", "Failed"):
            code = 0 if phase == "Succeeded" else 1
            status["state"] = {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error",
                                              "startedAt": started, "finishedAt": _ago(max(age - 30, 0)),
                                              "containerID": status["containerID"]}}
        else:  # Pending without a reason: not scheduled yet
            status = None
        if status:
            statuses.append(status)
    all_ready = bool(statuses) and all(s["ready"] for s in statuses)
    conditions = []
    if node:
        conditions = [
            {"type": "PodReadyToStartContainers", "status": "True" if phase != "Pending" else "False",
             "lastProbeTime": None, "lastTransitionTime": started},
            {"type": "Initialized", "status": "True", "lastProbeTime": None, "lastTransitionTime": started},
            {"type": "Ready", "status": "True" if all_ready else "False", "lastProbeTime": None,
             "lastTransitionTime": started},
            {"type": "ContainersReady", "status": "True" if all_ready else "False", "lastProbeTime": None,
             "lastTransitionTime": started},
            {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": started},
        ]
        if not all_ready:
            for c in conditions[2:4]:
                c.update(reason="PodCompleted" if phase in ("Succeeded", "Failed") else "ContainersNotReady",
                         message=None if phase in ("Succeeded", "Failed") else
                         f"containers with unready status: [{' '.join(names)}]")
                if c["message"] is None:
                    del c["message"]
    else:
        conditions = [{"type": "PodScheduled", "status": "False", "lastProbeTime": None,
                       "lastTransitionTime": started, "reason": "Unschedulable",
                       "message": "0/4 nodes are available: 4 Insufficient cpu. preemption: 0/4 nodes are "
                                  "available: 4 No preemption victims found for incoming pod."}]
    status = {"phase": phase, "conditions": conditions, "qosClass": "Burstable" if requests else "BestEffort"}
    if node:
        status.update(hostIP=host_ip or "172.18.0.2", hostIPs=[{"ip": host_ip or "172.18.0.2"}], podIP=pod_ip,
                      podIPs=[{"ip": pod_ip}], startTime=started, containerStatuses=statuses)
    metadata = {"name": name, "namespace": namespace, "labels": dict(labels or {}), "creationTimestamp": started}
    if owner:
        metadata["ownerReferences"] = [owner]
    spec = {"containers": spec_containers, "restartPolicy": "Always", "dnsPolicy": "ClusterFirst",
            "schedulerName": "default-scheduler", "serviceAccountName": "default",
            "terminationGracePeriodSeconds": 30, "enableServiceLinks": True, "preemptionPolicy": "PreemptLowerPriority",
            "priority": 0,
            "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
                             "tolerationSeconds": 300},
                            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
                             "tolerationSeconds": 300}]}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec, "status": status}


def _waiting_message(reason: str, container: str, pod: str, namespace: str) -> str:
    return {
        "CrashLoopBackOff": f"back-off 5m0s restarting failed container={container} pod={pod}_{namespace}"
                            f"({_uid(pod)})",
        "ImagePullBackOff": 'Back-off pulling image "registry.invalid/nope:1"',
        "ErrImagePull": 'failed to pull and unpack image "registry.invalid/nope:1": not found',
    }.get(reason, "")


def _ip_byte(text: str | None) -> int:
    return int(hashlib.md5((text or "").encode()).hexdigest()[:2], 16) % 250 + 1 if text else 0


def make_deployment(name: str, namespace: str = "default", replicas: int = 1, image: str = "nginx:1.27",
                    labels: dict | None = None, ready: int | None = None, containers: list[str] | None = None,
                    age: float = 86400) -> dict:
    labels = dict(labels or {"app": name})
    ready = replicas if ready is None else ready
    status = {"observedGeneration": 1, "replicas": replicas, "updatedReplicas": replicas,
              "readyReplicas": ready, "availableReplicas": ready,
              "conditions": [
                  {"type": "Available", "status": "True" if ready >= replicas else "False",
                   "reason": "MinimumReplicasAvailable" if ready >= replicas else "MinimumReplicasUnavailable",
                   "message": "Deployment has minimum availability." if ready >= replicas else
                   "Deployment does not have minimum availability.",
                   "lastUpdateTime": _ago(age), "lastTransitionTime": _ago(age)},
                  {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                   "message": f'ReplicaSet "{name}-{_hash(name)}" has successfully progressed.',
                   "lastUpdateTime": _ago(age), "lastTransitionTime": _ago(age)}]}
    if ready < replicas:
        status["unavailableReplicas"] = replicas - ready
    if not ready:
        status.pop("readyReplicas")
        status.pop("availableReplicas")
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels), "generation": 1,
                     "annotations": {"deployment.kubernetes.io/revision": "1"}, "creationTimestamp": _ago(age)},
        "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                 "template": {"metadata": {"labels": dict(labels)},
                              "spec": {"containers": [{"name": c, "image": image, "imagePullPolicy": "IfNotPresent"}
                                                      for c in (containers or [name])],
                                       "restartPolicy": "Always"}},
                 "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                 "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600},
        "status": status,
    }


def make_service(name: str, namespace: str = "default", ports=((80, 80),), selector: dict | None = None,
                 cluster_ip: str | None = None, service_type: str = "ClusterIP", labels: dict | None = None) -> dict:
    spec = {"type": service_type, "sessionAffinity": "None", "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster",
            "ports": [{"name": f"port-{p}", "port": p, "targetPort": t, "protocol": "TCP"} for p, t in ports]}
    if selector:
        spec["selector"] = dict(selector)
    if cluster_ip:
        spec["clusterIP"] = cluster_ip
        spec["clusterIPs"] = [cluster_ip]
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {}),
                         "creationTimestamp": _ago(86400)},
            "spec": spec, "status": {"loadBalancer": {}}}


def make_event(name: str, namespace: str, involved: dict, reason: str, message: str, event_type: str = "Normal",
               component: str = "kubelet", host: str | None = None, count: int = 1, age: float = 60) -> dict:
    """A core/v1 Event; ``involved`` is the object it is about (its kind, name, namespace and uid are used)."""
    meta = involved.get("metadata", {})
    source = {"component": component}
    if host:
        source["host"] = host
    return {"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": namespace, "creationTimestamp": _ago(age)},
            "involvedObject": {"kind": involved.get("kind"), "apiVersion": involved.get("apiVersion"),
                               "name": meta.get("name"), "namespace": meta.get("namespace"),
                               "uid": meta.get("uid") or _uid(str(meta.get("name"))),
                               "resourceVersion": meta.get("resourceVersion", "1")},
            "reason": reason, "message": message, "type": event_type, "source": source, "count": count,
            "firstTimestamp": _ago(age * count), "lastTimestamp": _ago(age), "reportingComponent": component,
            "reportingInstance": host or ""}


def make_vcjob(name: str, namespace: str = "default", queue: str = "default", tasks=None, min_available: int = 1,
               image: str = "busybox:1.36", command=("sleep", "3600"), phase: str | None = None,
               labels: dict | None = None) -> dict:
    """A batch.volcano.sh/v1alpha1 Job; tasks is a list of (name, replicas)."""
    tasks = tasks or [("worker", 1)]
    job = {"apiVersion": "batch.volcano.sh/v1alpha1", "kind": "Job",
           "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {})},
           "spec": {"schedulerName": "volcano", "queue": queue, "minAvailable": min_available, "maxRetry": 3,
                    "tasks": [{"name": t, "replicas": r,
                               "template": {"metadata": {"name": t},
                                            "spec": {"restartPolicy": "OnFailure",
                                                     "containers": [{"name": t, "image": image,
                                                                     "command": list(command)}]}}}
                              for t, r in tasks]}}
    if phase:
        total = sum(r for _, r in tasks)
        job["status"] = {"state": {"phase": phase, "lastTransitionTime": _ago(30)}, "minAvailable": min_available,
                         "running": total if phase == "Running" else 0,
                         "succeeded": total if phase == "Completed" else 0,
                         "pending": total if phase == "Pending" else 0,
                         "failed": total if phase == "Failed" else 0, "version": 1, "retryCount": 0,
                         "taskStatusCount": {t: {"phase": {"Running": r}} for t, r in tasks} if phase == "Running"
                         else {},
                         "conditions": [{"status": phase, "lastTransitionTime": _ago(30)}]}
    return job


def make_queue(name: str, weight: int = 1, state: str = "Open", capability: dict | None = None,
               reclaimable: bool = True) -> dict:
    spec = {"weight": weight, "reclaimable": reclaimable}
    if capability:
        spec["capability"] = dict(capability)
    return {"apiVersion": "scheduling.volcano.sh/v1beta1", "kind": "Queue",
            "metadata": {"name": name, "creationTimestamp": _ago(80000)},
            "spec": spec,
            "status": {"state": state, "allocated": {"cpu": "0", "memory": "0"}, "reservation": {}}}


def make_podgroup(name: str, namespace: str = "default", queue: str = "default", min_member: int = 1,
                  phase: str = "Running", owner_job: str | None = None) -> dict:
    meta = {"name": name, "namespace": namespace}
    if owner_job:
        meta["ownerReferences"] = [_owner("Job", owner_job, "batch.volcano.sh/v1alpha1")]
    return {"apiVersion": "scheduling.volcano.sh/v1beta1", "kind": "PodGroup", "metadata": meta,
            "spec": {"minMember": min_member, "queue": queue, "priorityClassName": "",
                     "minResources": {"cpu": "100m"}},
            "status": {"phase": phase, "running": min_member if phase == "Running" else 0,
                       "conditions": [{"type": "Scheduled", "status": "True", "reason": "tasks in gang are ready "
                                       "to be scheduled", "transitionID": _uid(name),
                                       "lastTransitionTime": _ago(60)}]}}


# --------------------------------------------------------------------------- seeds

def seed_kind_cluster(api: FakeKubeAPI, name: str = "lab", workers: int = 3, volcano: bool = True,
                      gpus_on=None, gpus_per_node: int = 4) -> dict:
    """A kind cluster ``name``: a control plane and ``workers`` workers, its system pods, and Volcano.

    gpus_on: worker names (or True for all workers) that get ``nvidia.com/gpu``.
    Returns the names of what it made: {"nodes": [...], "control_plane": ..., "workers": [...]}.
    """
    control = f"{name}-control-plane"
    worker_names = [f"{name}-worker{i if i > 1 else ''}" for i in range(1, workers + 1)]
    if gpus_on is True:
        gpus_on = worker_names
    gpus_on = set(gpus_on or ())
    objs = [make_namespace(ns) for ns in ("default", "kube-system", "kube-public", "kube-node-lease",
                                          "local-path-storage")]
    ips = {control: "172.18.0.2"}
    objs.append(make_node(control, ips[control], control_plane=True))
    for i, worker in enumerate(worker_names):
        ips[worker] = f"172.18.0.{i + 3}"
        objs.append(make_node(worker, ips[worker], gpus=gpus_per_node if worker in gpus_on else 0))
    all_nodes = [control] + worker_names

    def system_pod(pod_name, namespace, node, image, labels, owner, **kw):
        return make_pod(pod_name, namespace, node, image=image, labels=labels, owner=owner, host_ip=ips[node],
                        age=86000, **kw)

    k8s = "registry.k8s.io"
    for component, image in (("etcd", f"{k8s}/etcd:3.5.12-0"), ("kube-apiserver", f"{k8s}/kube-apiserver:{KUBE_VERSION}"),
                             ("kube-controller-manager", f"{k8s}/kube-controller-manager:{KUBE_VERSION}"),
                             ("kube-scheduler", f"{k8s}/kube-scheduler:{KUBE_VERSION}")):
        pod = system_pod(f"{component}-{control}", "kube-system", control, image,
                         {"component": component, "tier": "control-plane"},
                         {"apiVersion": "v1", "kind": "Node", "name": control, "uid": _uid(control),
                          "controller": True}, pod_ip=ips[control], containers=[component])
        pod["spec"]["priorityClassName"] = "system-node-critical"
        pod["spec"]["hostNetwork"] = True
        objs.append(pod)
    coredns_rs = f"coredns-{_hash(name + 'coredns')}"
    for i in range(2):
        objs.append(system_pod(f"{coredns_rs}-{_hash(name + str(i), 5)}", "kube-system", control,
                               f"{k8s}/coredns/coredns:v1.11.1", {"k8s-app": "kube-dns",
                                                                   "pod-template-hash": coredns_rs.split("-")[1]},
                               _owner("ReplicaSet", coredns_rs), containers=["coredns"],
                               pod_ip=f"10.244.0.{i + 2}"))
    objs.append(make_deployment("coredns", "kube-system", 2, f"{k8s}/coredns/coredns:v1.11.1",
                                {"k8s-app": "kube-dns"}, containers=["coredns"]))
    for node in all_nodes:
        for ds, image in (("kube-proxy", f"{k8s}/kube-proxy:{KUBE_VERSION}"),
                          ("kindnet", "docker.io/kindest/kindnetd:v20240513-cd2ac642")):
            pod = system_pod(f"{ds}-{_hash(ds + node, 5)}", "kube-system", node, image,
                             {"k8s-app": ds if ds == "kube-proxy" else "kindnet", "app": ds,
                              "controller-revision-hash": _hash(ds, 9), "pod-template-generation": "1"},
                             _owner("DaemonSet", ds), pod_ip=ips[node], containers=["kube-proxy" if ds ==
                                                                                    "kube-proxy" else "kindnet-cni"])
            pod["spec"]["hostNetwork"] = True
            objs.append(pod)
    provisioner_rs = f"local-path-provisioner-{_hash('lpp')}"
    objs.append(system_pod(f"{provisioner_rs}-{_hash(name + 'lpp', 5)}", "local-path-storage", control,
                           "docker.io/kindest/local-path-provisioner:v20240513-b9bba138",
                           {"app": "local-path-provisioner", "pod-template-hash": provisioner_rs.rsplit("-", 1)[1]},
                           _owner("ReplicaSet", provisioner_rs), containers=["local-path-provisioner"],
                           pod_ip="10.244.0.4"))
    objs.append(make_deployment("local-path-provisioner", "local-path-storage", 1,
                                "docker.io/kindest/local-path-provisioner:v20240513-b9bba138",
                                {"app": "local-path-provisioner"}, containers=["local-path-provisioner"]))
    objs.append(make_service("kubernetes", "default", [(443, 6443)], cluster_ip="10.96.0.1",
                             labels={"component": "apiserver", "provider": "kubernetes"}))
    objs[-1]["spec"]["ports"][0]["name"] = "https"
    dns = make_service("kube-dns", "kube-system", [(53, 53), (9153, 9153)], {"k8s-app": "kube-dns"},
                       cluster_ip="10.96.0.10", labels={"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"})
    dns["spec"]["ports"] = [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                            {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                            {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153}]
    objs.append(dns)
    for ns in ("default", "kube-system", "kube-public", "kube-node-lease", "local-path-storage"):
        objs.append({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": ns}})
    objs.append({"apiVersion": "v1", "kind": "ConfigMap",
                 "metadata": {"name": "kube-root-ca.crt", "namespace": "default"},
                 "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\nMIIfake\n-----END CERTIFICATE-----\n"}})

    if volcano:
        objs.append(make_namespace("volcano-system"))
        for crd in volcano_crds():
            crd["metadata"]["creationTimestamp"] = _ago(80000)
            objs.append(crd)
        for component, image, replicas in (("volcano-admission", "vc-webhook-manager", 1),
                                           ("volcano-controllers", "vc-controller-manager", 1),
                                           ("volcano-scheduler", "vc-scheduler", 1)):
            full_image = f"docker.io/volcanosh/{image}:{VOLCANO_VERSION}"
            objs.append(make_deployment(component, "volcano-system", replicas, full_image, {"app": component},
                                        containers=[component]))
            rs = f"{component}-{_hash(component)}"
            objs.append(make_pod(f"{rs}-{_hash(component + name, 5)}", "volcano-system", worker_names[0] if
                                 worker_names else control, image=full_image,
                                 labels={"app": component, "pod-template-hash": rs.rsplit("-", 1)[1]},
                                 owner=_owner("ReplicaSet", rs), containers=[component],
                                 host_ip=ips[worker_names[0] if worker_names else control], age=80000))
        objs.append(make_service("volcano-admission-service", "volcano-system", [(443, 8443)],
                                 {"app": "volcano-admission"}, cluster_ip="10.96.120.11"))
        objs.append(make_queue("default", weight=1))
    objs.append(make_event("lab-worker.17c1a2b3c4d5e6f7", "default", {"kind": "Node", "apiVersion": "v1",
                           "metadata": {"name": worker_names[0] if worker_names else control}},
                           "NodeReady", "Node lab-worker status is now: NodeReady", component="kubelet",
                           host=worker_names[0] if worker_names else control, age=86000))
    coredns_pod = next(o for o in objs if o["kind"] == "Pod" and o["metadata"]["name"].startswith("coredns"))
    objs.append(make_event(f"{coredns_pod['metadata']['name']}.17c1a2b3c4d5e700", "kube-system", coredns_pod,
                           "Scheduled", f"Successfully assigned kube-system/{coredns_pod['metadata']['name']} "
                           f"to {control}", component="default-scheduler", age=86000))
    objs.append(make_event(f"{coredns_pod['metadata']['name']}.17c1a2b3c4d5e701", "kube-system", coredns_pod,
                           "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503",
                           event_type="Warning", host=control, count=3, age=85000))
    api.bulk_put(objs)
    if not volcano:
        for group in VOLCANO_GROUPS:
            api.uninstall_group(group)
    return {"nodes": all_nodes, "control_plane": control, "workers": worker_names}


def seed_workload_pods(api: FakeKubeAPI, n: int, namespace: str = "bench", nodes=None, phases=None,
                       prefix: str = "bench") -> list[str]:
    """``n`` pods in ``namespace`` spread over ``nodes`` (default: the cluster's workers), mostly Running.

    phases: a list of (phase, reason) cycled over the pods; by default about 2% CrashLoopBackOff,
    2% Pending and 1% Succeeded, the rest Running. Returns the pod names.
    """
    if nodes is None:
        nodes = [n_["metadata"]["name"] for n_ in api.list("v1", "Node")
                 if "node-role.kubernetes.io/control-plane" not in n_["metadata"].get("labels", {})] or ["worker"]
    if api.get("v1", "Namespace", namespace) is None:
        api.put(make_namespace(namespace))
    rng = random.Random(n)
    template = make_pod("template", namespace, nodes[0], labels={"app": prefix}, age=3600)
    names, objs = [], []
    for i in range(n):
        name = f"{prefix}-{i:05d}"
        node = nodes[i % len(nodes)]
        if phases:
            phase, reason = phases[i % len(phases)]
        else:
            roll = rng.random()
            phase, reason = (("Running", "CrashLoopBackOff") if roll < 0.02 else ("Pending", None) if roll < 0.04
                             else ("Succeeded", None) if roll < 0.05 else ("Running", None))
        if phase == "Running" and not reason:
            pod = _clone_pod(template, name, node, i, f"{prefix}-{i % 50}")
        else:
            pod = make_pod(name, namespace, None if phase == "Pending" else node, phase=phase, reason=reason,
                           labels={"app": prefix, "group": f"{prefix}-{i % 50}"},
                           restarts=7 if reason == "CrashLoopBackOff" else 0, age=3600)
        names.append(name)
        objs.append(pod)
    api.bulk_put(objs)
    return names


def _clone_pod(template: dict, name: str, node: str, i: int, group: str) -> dict:
    """A copy of a running pod template under a new name (cheaper than make_pod for thousands)."""
    meta = dict(template["metadata"], name=name, labels={"app": template["metadata"]["labels"]["app"],
                                                         "group": group})
    ip = f"10.244.{i // 250 % 250 + 1}.{i % 250 + 1}"
    status = dict(template["status"], podIP=ip, podIPs=[{"ip": ip}])
    spec = dict(template["spec"], nodeName=node)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec, "status": status}
