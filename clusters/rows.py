"""Turn Kubernetes API objects (dicts) into the rows the tables show."""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

GPU_RESOURCES = ("nvidia.com/gpu", "amd.com/gpu", "gpu.intel.com/i915")
ROLE_LABEL_PREFIX = "node-role.kubernetes.io/"


def parse_time(value):
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def short_age(moment, now=None):
    """'45s', '5m', '3h', '12d' as kubectl prints ages."""
    if moment is None:
        return ""
    seconds = max(0, int(((now or timezone.now()) - moment).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _meta(obj):
    return obj.get("metadata") or {}


@dataclass
class NodeRow:
    name: str
    ready: bool
    roles: list
    version: str
    internal_ip: str
    external_ip: str
    os_image: str
    kernel: str
    runtime: str
    cpu_capacity: str
    cpu_allocatable: str
    memory_capacity: str
    memory_allocatable: str
    gpus: str
    pods: int
    taints: list
    unschedulable: bool
    created: datetime | None
    labels: dict = field(default_factory=dict)
    conditions: list = field(default_factory=list)

    @property
    def status(self):
        return ("Ready" if self.ready else "NotReady") + (",SchedulingDisabled" if self.unschedulable else "")


def node_row(node, pods=0):
    from .kube import node_is_ready

    status, spec, meta = node.get("status") or {}, node.get("spec") or {}, _meta(node)
    info = status.get("nodeInfo") or {}
    addresses = {a.get("type"): a.get("address") for a in status.get("addresses") or []}
    capacity, allocatable = status.get("capacity") or {}, status.get("allocatable") or {}
    labels = meta.get("labels") or {}
    gpus = [f"{allocatable.get(r, capacity[r])}/{capacity[r]} {r}" for r in GPU_RESOURCES if r in capacity]
    return NodeRow(
        name=meta.get("name", ""),
        ready=node_is_ready(node),
        roles=sorted(key[len(ROLE_LABEL_PREFIX):] for key in labels if key.startswith(ROLE_LABEL_PREFIX)),
        version=info.get("kubeletVersion", ""),
        internal_ip=addresses.get("InternalIP", ""),
        external_ip=addresses.get("ExternalIP", ""),
        os_image=info.get("osImage", ""),
        kernel=info.get("kernelVersion", ""),
        runtime=info.get("containerRuntimeVersion", ""),
        cpu_capacity=capacity.get("cpu", ""),
        cpu_allocatable=allocatable.get("cpu", ""),
        memory_capacity=capacity.get("memory", ""),
        memory_allocatable=allocatable.get("memory", ""),
        gpus=", ".join(gpus),
        pods=pods,
        taints=[f"{t.get('key')}{'=' + t['value'] if t.get('value') else ''}:{t.get('effect')}"
                for t in spec.get("taints") or []],
        unschedulable=bool(spec.get("unschedulable")),
        created=parse_time(meta.get("creationTimestamp")),
        labels=labels,
        conditions=status.get("conditions") or [],
    )


@dataclass
class PodRow:
    namespace: str
    name: str
    ready: str
    status: str
    restarts: int
    node: str
    ip: str
    created: datetime | None
    containers: list
    owner: str

    @property
    def healthy(self):
        return self.status in ("Running", "Succeeded", "Completed")


def pod_status(pod):
    """The STATUS kubectl prints: the phase, or the reason that matters more (CrashLoopBackOff,
    ImagePullBackOff, Init:0/1, Terminating, Unschedulable…)."""
    status = pod.get("status") or {}
    reason = status.get("reason") or status.get("phase") or "Unknown"
    init_statuses = status.get("initContainerStatuses") or []
    for index, init in enumerate(init_statuses):
        state = init.get("state") or {}
        if (state.get("terminated") or {}).get("exitCode") == 0:
            continue
        if state.get("terminated"):
            reason = "Init:" + (state["terminated"].get("reason") or f"ExitCode:{state['terminated'].get('exitCode')}")
        elif (state.get("waiting") or {}).get("reason", "PodInitializing") != "PodInitializing":
            reason = "Init:" + state["waiting"]["reason"]
        else:
            reason = f"Init:{index}/{len(init_statuses)}"
        break
    else:
        for container in status.get("containerStatuses") or []:
            state = container.get("state") or {}
            if (state.get("waiting") or {}).get("reason"):
                reason = state["waiting"]["reason"]
            elif (state.get("terminated") or {}).get("reason"):
                reason = state["terminated"]["reason"]
        if reason == "Pending":
            for condition in status.get("conditions") or []:
                if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
                    reason = condition.get("reason") or reason
    if _meta(pod).get("deletionTimestamp"):
        reason = "Terminating"
    return reason


def pod_row(pod):
    meta, spec, status = _meta(pod), pod.get("spec") or {}, pod.get("status") or {}
    statuses = status.get("containerStatuses") or []
    owners = meta.get("ownerReferences") or []
    return PodRow(
        namespace=meta.get("namespace", ""),
        name=meta.get("name", ""),
        ready=f"{sum(bool(c.get('ready')) for c in statuses)}/{len(spec.get('containers') or [])}",
        status=pod_status(pod),
        restarts=sum(c.get("restartCount", 0) for c in statuses),
        node=spec.get("nodeName", ""),
        ip=status.get("podIP", ""),
        created=parse_time(meta.get("creationTimestamp")),
        containers=[c.get("name") for c in spec.get("containers") or []],
        owner=f"{owners[0].get('kind')}/{owners[0].get('name')}" if owners else "",
    )


@dataclass
class DeploymentRow:
    namespace: str
    name: str
    replicas: int
    ready: int
    updated: int
    available: int
    images: list
    created: datetime | None


def deployment_row(deployment):
    meta, spec, status = _meta(deployment), deployment.get("spec") or {}, deployment.get("status") or {}
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
    return DeploymentRow(
        namespace=meta.get("namespace", ""),
        name=meta.get("name", ""),
        replicas=spec.get("replicas", 1),
        ready=status.get("readyReplicas", 0),
        updated=status.get("updatedReplicas", 0),
        available=status.get("availableReplicas", 0),
        images=[c.get("image", "") for c in containers],
        created=parse_time(meta.get("creationTimestamp")),
    )


@dataclass
class ServiceRow:
    namespace: str
    name: str
    type: str
    cluster_ip: str
    external_ip: str
    ports: list
    selector: str
    created: datetime | None


def service_row(service):
    meta, spec, status = _meta(service), service.get("spec") or {}, service.get("status") or {}
    ingress = (status.get("loadBalancer") or {}).get("ingress") or []
    external = [i.get("ip") or i.get("hostname") for i in ingress] + list(spec.get("externalIPs") or [])
    ports = [
        f"{p.get('port')}{':' + str(p['nodePort']) if p.get('nodePort') else ''}/{p.get('protocol', 'TCP')}"
        for p in spec.get("ports") or []
    ]
    return ServiceRow(
        namespace=meta.get("namespace", ""),
        name=meta.get("name", ""),
        type=spec.get("type", "ClusterIP"),
        cluster_ip=spec.get("clusterIP", ""),
        external_ip=", ".join(e for e in external if e),
        ports=ports,
        selector=",".join(f"{k}={v}" for k, v in (spec.get("selector") or {}).items()),
        created=parse_time(meta.get("creationTimestamp")),
    )


@dataclass
class EventRow:
    namespace: str
    type: str
    reason: str
    object: str
    message: str
    count: int
    last_seen: datetime | None


def event_row(event):
    meta, involved = _meta(event), event.get("involvedObject") or {}
    last = event.get("lastTimestamp") or event.get("eventTime") or meta.get("creationTimestamp")
    return EventRow(
        namespace=meta.get("namespace", ""),
        type=event.get("type", "Normal"),
        reason=event.get("reason", ""),
        object=f"{(involved.get('kind') or '').lower()}/{involved.get('name', '')}",
        message=event.get("message", ""),
        count=event.get("count") or 1,
        last_seen=parse_time(last),
    )


def events_warnings_first(events):
    rows = [event_row(e) for e in events]
    oldest = timezone.make_aware(datetime.min.replace(year=1970))
    return sorted(rows, key=lambda r: (r.type != "Warning", -(r.last_seen or oldest).timestamp()))
