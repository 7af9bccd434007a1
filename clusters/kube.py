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
    api = api_client(cluster)
    groups = _call(cluster, k8s.ApisApi(api).get_api_versions)
    served = {group.get("name") for group in groups.get("groups") or []}
    if not set(VOLCANO_GROUPS[:2]) <= served:
        return False, ""
    found = _call(
        cluster,
        k8s.AppsV1Api(api).list_deployment_for_all_namespaces,
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
