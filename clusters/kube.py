"""Every call the portal makes to a Kubernetes API server goes through this module.

Lists are read as raw JSON (`_preload_content=False`): turning thousands of objects into the
client's model classes costs seconds, and templates are happy with dicts. Every call carries
settings.KUBE_TIMEOUT; every failure becomes a KubeError whose message a person can act on.
"""

import hashlib
import json
import ssl
import threading
from base64 import b64encode
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import urllib3
import yaml
from django.conf import settings
from django.utils.translation import gettext as _
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.rest import ApiException

from portal.errors import UserFacingError

PAGE_SIZE = 500
VOLCANO_GROUPS = ("batch.volcano.sh", "scheduling.volcano.sh", "bus.volcano.sh")


class KubeError(UserFacingError):
    """A Kubernetes call failed; str() is a sentence to show the user."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class KubeContext:
    name: str
    cluster: str
    server: str
    user: str


@dataclass(frozen=True)
class ConnectionReport:
    server_version: str
    nodes_total: int
    volcano_installed: bool
    volcano_version: str


@dataclass(frozen=True)
class ClusterSummary:
    nodes_total: int
    nodes_ready: int
    pods_total: int
    pods_running: int
    services_total: int
    namespaces_total: int


# ---------------------------------------------------------------- kubeconfig handling


def parse_kubeconfig(text):
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise KubeError(_("The kubeconfig is not valid YAML: %(error)s") % {"error": exc})
    if not isinstance(data, dict) or not isinstance(data.get("contexts"), list):
        raise KubeError(_("The kubeconfig has no contexts."))
    return data


def read_kubeconfig_file(path):
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise KubeError(_("Cannot read the kubeconfig %(path)s: %(error)s") % {"path": path, "error": exc.strerror})
    return parse_kubeconfig(text)


def _named(items, name, what):
    for item in items or []:
        if item.get("name") == name:
            return item
    raise KubeError(_("The kubeconfig has no %(what)s named %(name)s.") % {"what": what, "name": name})


def list_contexts(kubeconfig):
    contexts = []
    for entry in kubeconfig.get("contexts") or []:
        ctx = entry.get("context") or {}
        server = ""
        for cluster in kubeconfig.get("clusters") or []:
            if cluster.get("name") == ctx.get("cluster"):
                server = (cluster.get("cluster") or {}).get("server", "")
        contexts.append(KubeContext(entry.get("name", ""), ctx.get("cluster", ""), server, ctx.get("user", "")))
    return contexts


def _inline_files(section, base_dir, keys):
    """Replace `certificate-authority: /path` and friends by their `-data` form."""
    for key in keys:
        path = section.pop(key, None)
        if path and f"{key}-data" not in section:
            file_path = Path(path) if Path(path).is_absolute() else Path(base_dir or ".") / path
            try:
                section[f"{key}-data"] = b64encode(file_path.read_bytes()).decode()
            except OSError as exc:
                raise KubeError(_("Cannot read the %(key)s file %(path)s: %(error)s") % {"key": key, "path": path, "error": exc.strerror})


def single_context_kubeconfig(kubeconfig, context, base_dir=None):
    """A self-contained kubeconfig holding only `context`, its cluster and its user."""
    ctx_entry = _named(kubeconfig.get("contexts"), context, "context")
    ctx = dict(ctx_entry.get("context") or {})
    cluster = json.loads(json.dumps(_named(kubeconfig.get("clusters"), ctx.get("cluster"), "cluster")))
    user = json.loads(json.dumps(_named(kubeconfig.get("users"), ctx.get("user"), "user")))
    _inline_files(cluster.get("cluster", {}), base_dir, ["certificate-authority"])
    _inline_files(user.get("user", {}), base_dir, ["client-certificate", "client-key"])
    if not (cluster.get("cluster") or {}).get("server"):
        raise KubeError(_("The cluster of context %(context)s has no server address.") % {"context": context})
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [cluster],
        "users": [user],
        "contexts": [{"name": context, "context": ctx}],
        "current-context": context,
    }


def server_of(kubeconfig):
    return kubeconfig["clusters"][0]["cluster"]["server"]


# ---------------------------------------------------------------- clients and errors

_clients = {}
_clients_lock = threading.Lock()


def api_client(cluster):
    """One ApiClient per cluster and kubeconfig version, shared by threads (urllib3 pools are)."""
    key = (cluster.pk, hashlib.sha256(cluster.kubeconfig.encode()).hexdigest())
    with _clients_lock:
        api = _clients.get(key)
        if api is None:
            config = k8s.Configuration()
            k8s_config.load_kube_config_from_dict(
                yaml.safe_load(cluster.kubeconfig), context=cluster.context, client_configuration=config
            )
            config.retries = False  # a dead cluster must fail within the timeout, not four times it
            api = k8s.ApiClient(configuration=config)
            _clients[key] = api
        return api


def _status_message(exc):
    try:
        return json.loads(exc.body).get("message") or exc.reason
    except (TypeError, ValueError, AttributeError):
        return exc.reason or ""


def translate_error(cluster, exc):
    name = cluster.name
    if isinstance(exc, ApiException):
        if exc.status == 0 or exc.status is None:
            return KubeError(_("Cluster %(name)s: %(error)s") % {"name": name, "error": exc.reason})
        if exc.status == 401:
            return KubeError(_("Cluster %(name)s refused the credentials (401 Unauthorized).") % {"name": name}, 401)
        if exc.status == 403:
            return KubeError(_("Cluster %(name)s forbids this: %(error)s") % {"name": name, "error": _status_message(exc)}, 403)
        return KubeError(_("Cluster %(name)s answered %(status)s: %(error)s")
                         % {"name": name, "status": exc.status, "error": _status_message(exc)}, exc.status)
    reason = getattr(exc, "reason", None) if isinstance(exc, urllib3.exceptions.MaxRetryError) else exc
    # NewConnectionError is a ConnectTimeoutError subclass in urllib3 2: test it first.
    if isinstance(reason, (urllib3.exceptions.NewConnectionError, ConnectionError)):
        return KubeError(_("Cluster %(name)s is unreachable: cannot connect to %(server)s.")
                         % {"name": name, "server": cluster.server or _("its API server")})
    if isinstance(reason, urllib3.exceptions.TimeoutError):
        connect, read = settings.KUBE_TIMEOUT
        seconds = connect if isinstance(reason, urllib3.exceptions.ConnectTimeoutError) else read
        return KubeError(_("Cluster %(name)s did not answer within %(seconds)s s.") % {"name": name, "seconds": f"{seconds:g}"})
    if isinstance(reason, (urllib3.exceptions.SSLError, ssl.SSLError)):
        return KubeError(_("Cluster %(name)s: TLS error talking to the API server (%(error)s).") % {"name": name, "error": reason})
    return KubeError(_("Cluster %(name)s: %(error)s") % {"name": name, "error": reason or exc})


def _call(cluster, method, *args, **kwargs):
    """Call a client API method and return the decoded JSON body."""
    try:
        response = method(*args, _preload_content=False, _request_timeout=settings.KUBE_TIMEOUT, **kwargs)
        return json.loads(response.data)
    except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise translate_error(cluster, exc) from exc


def _list_all(cluster, method, *args, **kwargs):
    """Every item of a list call, read page by page with limit/continue."""
    token = None
    while True:
        page = _call(cluster, method, *args, limit=PAGE_SIZE, _continue=token, **kwargs)
        yield from page.get("items") or []
        token = (page.get("metadata") or {}).get("continue")
        if not token:
            return


# ---------------------------------------------------------------- reads


def node_is_ready(node):
    for condition in (node.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


def volcano_status(cluster):
    """(installed, version): the API groups are served, and the scheduler's image tag if found."""
    if not volcano_served(cluster):
        return False, ""
    found = _call(
        cluster,
        k8s.AppsV1Api(api_client(cluster)).list_deployment_for_all_namespaces,
        field_selector="metadata.name=volcano-scheduler",
    )
    for deployment in found.get("items") or []:
        for container in deployment["spec"]["template"]["spec"].get("containers") or []:
            image = container.get("image", "")
            if ":" in image.rsplit("/", 1)[-1]:
                return True, image.rsplit(":", 1)[1]
    return True, ""


def check_connection(cluster):
    api = api_client(cluster)
    version = _call(cluster, k8s.VersionApi(api).get_code)
    nodes = _call(cluster, k8s.CoreV1Api(api).list_node)
    installed, volcano_version = volcano_status(cluster)
    return ConnectionReport(
        server_version=version.get("gitVersion", ""),
        nodes_total=len(nodes.get("items") or []),
        volcano_installed=installed,
        volcano_version=volcano_version,
    )


def cluster_summary(cluster):
    core = k8s.CoreV1Api(api_client(cluster))
    nodes = list(_list_all(cluster, core.list_node))
    pods_total = pods_running = 0
    for pod in _list_all(cluster, core.list_pod_for_all_namespaces):
        pods_total += 1
        pods_running += (pod.get("status") or {}).get("phase") == "Running"
    return ClusterSummary(
        nodes_total=len(nodes),
        nodes_ready=sum(node_is_ready(node) for node in nodes),
        pods_total=pods_total,
        pods_running=pods_running,
        services_total=sum(1 for _ in _list_all(cluster, core.list_service_for_all_namespaces)),
        namespaces_total=sum(1 for _ in _list_all(cluster, core.list_namespace)),
    )


@dataclass(frozen=True)
class Page:
    """One page of a list, with the API's token for the next one."""

    items: list
    continue_token: str
    remaining: int | None


def _namespaced(namespace, all_namespaces_method, namespaced_method):
    return (namespaced_method, (namespace,)) if namespace else (all_namespaces_method, ())


def list_namespaces(cluster):
    core = k8s.CoreV1Api(api_client(cluster))
    return sorted(ns["metadata"]["name"] for ns in _list_all(cluster, core.list_namespace))


def list_nodes(cluster):
    return list(_list_all(cluster, k8s.CoreV1Api(api_client(cluster)).list_node))


def get_node(cluster, name):
    return _call(cluster, k8s.CoreV1Api(api_client(cluster)).read_node, name)


def pods_per_node(cluster):
    """{node name: number of pods not yet finished}, from one list of all pods (never one call per node)."""
    core = k8s.CoreV1Api(api_client(cluster))
    counts = {}
    for pod in _list_all(cluster, core.list_pod_for_all_namespaces,
                         field_selector="status.phase!=Succeeded,status.phase!=Failed"):
        node = (pod.get("spec") or {}).get("nodeName")
        if node:
            counts[node] = counts.get(node, 0) + 1
    return counts


def list_pods_page(cluster, namespace=None, *, label_selector=None, field_selector=None, limit=50,
                   continue_token=None):
    core = k8s.CoreV1Api(api_client(cluster))
    method, args = _namespaced(namespace, core.list_pod_for_all_namespaces, core.list_namespaced_pod)
    page = _call(cluster, method, *args, limit=limit, _continue=continue_token or None,
                 label_selector=label_selector or None, field_selector=field_selector or None)
    metadata = page.get("metadata") or {}
    return Page(page.get("items") or [], metadata.get("continue") or "", metadata.get("remainingItemCount"))


def list_pods(cluster, namespace=None, *, label_selector=None, field_selector=None):
    core = k8s.CoreV1Api(api_client(cluster))
    method, args = _namespaced(namespace, core.list_pod_for_all_namespaces, core.list_namespaced_pod)
    return list(_list_all(cluster, method, *args, label_selector=label_selector or None,
                          field_selector=field_selector or None))


def get_pod(cluster, namespace, name):
    return _call(cluster, k8s.CoreV1Api(api_client(cluster)).read_namespaced_pod, name, namespace)


def read_pod_log(cluster, namespace, name, *, container=None, tail_lines=None, since_seconds=None,
                 previous=False, limit_bytes=None):
    core = k8s.CoreV1Api(api_client(cluster))
    try:
        response = core.read_namespaced_pod_log(
            name, namespace, container=container or None, tail_lines=tail_lines, since_seconds=since_seconds,
            previous=previous or None, limit_bytes=limit_bytes, _preload_content=False,
            _request_timeout=settings.KUBE_TIMEOUT,
        )
        return response.data.decode("utf-8", errors="replace")
    except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise translate_error(cluster, exc) from exc


def open_pod_log_stream(cluster, namespace, name, *, container=None, tail_lines=None, since_seconds=None,
                        previous=False, follow=True):
    """A log stream (urllib3 response): read it with .read1(); close or shut it down to stop.

    Following, the read timeout is long on purpose: a quiet pod may print nothing for many minutes.
    """
    core = k8s.CoreV1Api(api_client(cluster))
    read_timeout = settings.KUBE_LOG_FOLLOW_IDLE_SECONDS if follow else settings.KUBE_TIMEOUT[1]
    try:
        return core.read_namespaced_pod_log(
            name, namespace, container=container or None, tail_lines=tail_lines, since_seconds=since_seconds,
            previous=previous or None, follow=follow or None, _preload_content=False,
            _request_timeout=(settings.KUBE_TIMEOUT[0], read_timeout),
        )
    except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise translate_error(cluster, exc) from exc


def list_deployments(cluster, namespace=None):
    apps = k8s.AppsV1Api(api_client(cluster))
    method, args = _namespaced(namespace, apps.list_deployment_for_all_namespaces, apps.list_namespaced_deployment)
    return list(_list_all(cluster, method, *args))


def list_services(cluster, namespace=None):
    core = k8s.CoreV1Api(api_client(cluster))
    method, args = _namespaced(namespace, core.list_service_for_all_namespaces, core.list_namespaced_service)
    return list(_list_all(cluster, method, *args))


def list_events(cluster, namespace=None, *, kind=None, name=None):
    """Events of the cluster or a namespace, or of one object (kind and name)."""
    core = k8s.CoreV1Api(api_client(cluster))
    method, args = _namespaced(namespace, core.list_event_for_all_namespaces, core.list_namespaced_event)
    selector = ",".join(f"involvedObject.{key}={value}" for key, value in (("kind", kind), ("name", name)) if value)
    return list(_list_all(cluster, method, *args, field_selector=selector or None))


# ---------------------------------------------------------------- changes


def delete_pod(cluster, namespace, name):
    _call(cluster, k8s.CoreV1Api(api_client(cluster)).delete_namespaced_pod, name, namespace)


def delete_deployment(cluster, namespace, name):
    _call(cluster, k8s.AppsV1Api(api_client(cluster)).delete_namespaced_deployment, name, namespace)


def delete_service(cluster, namespace, name):
    _call(cluster, k8s.CoreV1Api(api_client(cluster)).delete_namespaced_service, name, namespace)


def scale_deployment(cluster, namespace, name, replicas):
    _call(cluster, k8s.AppsV1Api(api_client(cluster)).patch_namespaced_deployment_scale, name, namespace,
          {"spec": {"replicas": replicas}})


def restart_deployment(cluster, namespace, name):
    """What `kubectl rollout restart` does: stamp the pod template so every pod is replaced."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": stamp}}}}}
    _call(cluster, k8s.AppsV1Api(api_client(cluster)).patch_namespaced_deployment, name, namespace, body)


def set_node_unschedulable(cluster, name, unschedulable):
    _call(cluster, k8s.CoreV1Api(api_client(cluster)).patch_node, name, {"spec": {"unschedulable": unschedulable}})


def evict_pod(cluster, namespace, name):
    """Evict through the Eviction API, which honours PodDisruptionBudgets (429 when one forbids it)."""
    body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": namespace}}
    _call(cluster, k8s.CoreV1Api(api_client(cluster)).create_namespaced_pod_eviction, name, namespace, body)


def apply_object(cluster, document):
    """Server-side apply of one object (created if absent), as `kubectl apply --server-side`."""
    from kubernetes.dynamic import DynamicClient
    from kubernetes.dynamic.exceptions import ResourceNotFoundError

    try:
        resource = DynamicClient(api_client(cluster)).resources.get(
            api_version=document["apiVersion"], kind=document["kind"])
    except ResourceNotFoundError:
        raise KubeError(_("Cluster %(name)s does not serve %(kind)s in %(api_version)s.")
                        % {"name": cluster.name, "kind": document["kind"], "api_version": document["apiVersion"]})
    except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise translate_error(cluster, exc) from exc
    namespace = (document.get("metadata") or {}).get("namespace") or ("default" if resource.namespaced else None)
    try:
        return resource.server_side_apply(body=document, name=document["metadata"]["name"], namespace=namespace,
                                          field_manager="volcano-portal", force_conflicts=True,
                                          _request_timeout=settings.KUBE_TIMEOUT).to_dict()
    except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise translate_error(cluster, exc) from exc



# ---------------------------------------------------------------- Volcano
# Jobs, queues, podgroups and Commands are custom objects: read and written as raw JSON like the rest.

VCJOB = ("batch.volcano.sh", "v1alpha1", "jobs")
QUEUE = ("scheduling.volcano.sh", "v1beta1", "queues")
PODGROUP = ("scheduling.volcano.sh", "v1beta1", "podgroups")
COMMAND = ("bus.volcano.sh", "v1alpha1", "commands")
# vcctl puts the Commands for (cluster-scoped) queues in this namespace.
QUEUE_COMMAND_NAMESPACE = "default"


def _custom(cluster):
    return k8s.CustomObjectsApi(api_client(cluster))


def volcano_served(cluster):
    """Whether the API serves all of Volcano's groups (jobs, scheduling, bus): one discovery call."""
    groups = _call(cluster, k8s.ApisApi(api_client(cluster)).get_api_versions)
    return set(VOLCANO_GROUPS) <= {group.get("name") for group in groups.get("groups") or []}


def list_vcjobs(cluster, namespace=None):
    group, version, plural = VCJOB
    if namespace:
        return list(_list_all(cluster, _custom(cluster).list_namespaced_custom_object, group, version, namespace,
                              plural))
    return list(_list_all(cluster, _custom(cluster).list_cluster_custom_object, group, version, plural))


def get_vcjob(cluster, namespace, name):
    group, version, plural = VCJOB
    return _call(cluster, _custom(cluster).get_namespaced_custom_object, group, version, namespace, plural, name)


def create_vcjob(cluster, job):
    """Create (never apply: a job whose name is taken must be refused, not changed)."""
    group, version, plural = VCJOB
    namespace = job["metadata"].get("namespace") or "default"
    return _call(cluster, _custom(cluster).create_namespaced_custom_object, group, version, namespace, plural, job)


def delete_vcjob(cluster, namespace, name):
    group, version, plural = VCJOB
    return _call(cluster, _custom(cluster).delete_namespaced_custom_object, group, version, namespace, plural, name,
                 propagation_policy="Background")


def _controller_reference(api_version, kind, obj):
    meta = obj["metadata"]
    return {"apiVersion": api_version, "kind": kind, "name": meta["name"], "uid": meta["uid"],
            "controller": True, "blockOwnerDeletion": True}


def command_for(api_version, kind, obj, action, namespace):
    """A bus.volcano.sh Command as vcctl builds it: owned by and targeting the object (with its uid)."""
    reference = _controller_reference(api_version, kind, obj)
    return {
        "apiVersion": "/".join(COMMAND[:2]),
        "kind": "Command",
        "metadata": {"generateName": f"{obj['metadata']['name']}-{action.lower()}-", "namespace": namespace,
                     "ownerReferences": [reference]},
        "target": reference,
        "action": action,
    }


def create_command(cluster, job, action):
    """AbortJob, ResumeJob or RestartJob for a job read from the API (the Command needs its uid)."""
    group, version, plural = COMMAND
    namespace = job["metadata"]["namespace"]
    body = command_for("/".join(VCJOB[:2]), "Job", job, action, namespace)
    return _call(cluster, _custom(cluster).create_namespaced_custom_object, group, version, namespace, plural, body)


def list_queues(cluster):
    return list(_list_all(cluster, _custom(cluster).list_cluster_custom_object, *QUEUE))


def get_queue(cluster, name):
    return _call(cluster, _custom(cluster).get_cluster_custom_object, *QUEUE, name)


def create_queue(cluster, queue):
    return _call(cluster, _custom(cluster).create_cluster_custom_object, *QUEUE, queue)


def delete_queue(cluster, name):
    return _call(cluster, _custom(cluster).delete_cluster_custom_object, *QUEUE, name)


def create_queue_command(cluster, queue, action):
    """OpenQueue or CloseQueue for a queue read from the API."""
    group, version, plural = COMMAND
    body = command_for("/".join(QUEUE[:2]), "Queue", queue, action, QUEUE_COMMAND_NAMESPACE)
    return _call(cluster, _custom(cluster).create_namespaced_custom_object, group, version,
                 QUEUE_COMMAND_NAMESPACE, plural, body)


def list_podgroups(cluster, namespace):
    group, version, plural = PODGROUP
    return list(_list_all(cluster, _custom(cluster).list_namespaced_custom_object, group, version, namespace, plural))


def list_job_pods(cluster, namespace, job_name):
    return list_pods(cluster, namespace, label_selector=f"volcano.sh/job-name={job_name}")


# ---------------------------------------------------------------- agents

AGENT_POD_SELECTOR = "app.kubernetes.io/component=agent,app.kubernetes.io/name=volcano-portal-agent"


@dataclass(frozen=True)
class AgentPod:
    node: str
    pod: str
    namespace: str
    phase: str
    ready: bool
    pod_ip: str


@dataclass(frozen=True)
class ProxyTarget:
    """What an HTTP client needs to reach a pod's port through the API server's proxy."""

    base_url: str  # <server>/api/v1/namespaces/<ns>/pods/<pod>:<port>/proxy
    headers: dict  # the cluster's Authorization, if it uses a token
    verify: object  # CA bundle path, True, or False
    cert: tuple | None  # (client certificate file, key file)
    proxies: dict


def list_agent_pods(cluster, namespace=None):
    """The node agents' pods (by the DaemonSet's labels), in every namespace unless one is given."""
    core = k8s.CoreV1Api(api_client(cluster))
    if namespace:
        pods = _list_all(cluster, core.list_namespaced_pod, namespace, label_selector=AGENT_POD_SELECTOR)
    else:
        pods = _list_all(cluster, core.list_pod_for_all_namespaces, label_selector=AGENT_POD_SELECTOR)
    found = []
    for pod in pods:
        status = pod.get("status") or {}
        ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
        found.append(AgentPod(
            node=(pod.get("spec") or {}).get("nodeName") or "",
            pod=pod["metadata"]["name"],
            namespace=pod["metadata"]["namespace"],
            phase=status.get("phase", ""),
            ready=ready,
            pod_ip=status.get("podIP", ""),
        ))
    return found


def list_node_names(cluster):
    return [node["metadata"]["name"] for node in list_nodes(cluster)]


def pod_proxy_target(cluster, namespace, pod, port):
    """The pod proxy URL of `pod:port` and the cluster's credentials, for a plain HTTP client."""
    config = api_client(cluster).configuration
    if getattr(config, "refresh_api_key_hook", None):
        config.refresh_api_key_hook(config)
    headers = {}
    authorization = config.get_api_key_with_prefix("authorization") or config.get_api_key_with_prefix("BearerToken")
    if authorization:
        headers["Authorization"] = authorization if " " in authorization else f"Bearer {authorization}"
    elif config.username or config.password:
        headers["Authorization"] = config.get_basic_auth_token()
    verify = (config.ssl_ca_cert or True) if config.verify_ssl else False
    cert = (config.cert_file, config.key_file) if config.cert_file and config.key_file else None
    proxies = {"http": config.proxy, "https": config.proxy} if config.proxy else {}
    base = f"{config.host.rstrip('/')}/api/v1/namespaces/{namespace}/pods/{pod}:{port}/proxy"
    return ProxyTarget(base_url=base, headers=headers, verify=verify, cert=cert, proxies=proxies)
