"""Nodes, agents, workspaces and runs: discovery and usage reads, and every action, each checking
permission and writing its row and AuditEvent (portal.audit) before anything changes."""

import os
import posixpath
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clusters import kube
from clusters.models import Operation
from portal.audit import ERROR, authorize, record
from portal.errors import UserFacingError
from portal.roles import ADMINISTER, OPERATE, VIEW

from . import agent
from .models import AgentConfig, Node, NodeSample, Run


class NodeError(UserFacingError):
    """An action on a node was refused or failed; str() is a sentence for the user."""


def _cluster_name(node):
    return node.cluster.name if node.cluster_id else ""


def _fail(actor, action, target, node, exc):
    record(actor, action, target, outcome=ERROR, message=str(exc), cluster=_cluster_name(node))
    raise NodeError(str(exc)) from exc


# ---------------------------------------------------------------- discovery and usage (reads)


def discover_nodes(cluster):
    """Match the cluster's Kubernetes nodes with its agent pods and keep a Node row for each.

    A read of the cluster (no audit); raises kube.KubeError when the cluster cannot be read.
    """
    names = kube.list_node_names(cluster)
    pods = {}
    for pod in kube.list_agent_pods(cluster):
        best = pods.get(pod.node)
        # Prefer a ready, running pod when a rollout leaves two on one node.
        if best is None or (pod.ready, pod.phase == "Running") > (best.ready, best.phase == "Running"):
            pods[pod.node] = pod
    existing = {node.name: node for node in Node.objects.filter(cluster=cluster)}
    for name in names:
        node = existing.get(name) or Node(cluster=cluster, name=name)
        pod = pods.get(name)
        before = (node.pod_namespace, node.pod_name, node.pod_ready, node.status, node.status_message)
        if pod is None:
            node.pod_namespace = node.pod_name = ""
            node.pod_ready = False
            node.status = Node.Status.MISSING
            node.status_message = _("No agent pod runs on this node (labels %(selector)s).") % {
                "selector": kube.AGENT_POD_SELECTOR}
        else:
            node.pod_namespace, node.pod_name, node.pod_ready = pod.namespace, pod.pod, pod.ready
            if node.status in (Node.Status.MISSING, Node.Status.GONE):
                node.status, node.status_message = Node.Status.UNKNOWN, ""
            if not pod.ready:
                node.status = Node.Status.UNREACHABLE
                node.status_message = _("The agent pod %(pod)s is %(phase)s and not ready.") % {
                    "pod": pod.pod, "phase": pod.phase or _("unknown")}
        after = (node.pod_namespace, node.pod_name, node.pod_ready, node.status, node.status_message)
        if node.pk is None or before != after:
            node.save()
    Node.objects.filter(cluster=cluster).exclude(name__in=names).exclude(status=Node.Status.GONE).update(
        status=Node.Status.GONE, status_message=_("This node is no longer in the cluster."),
        pod_name="", pod_ready=False)
    return list(nodes_of(cluster))


def nodes_of(cluster):
    """The cluster's present nodes, then the agents registered by URL."""
    present = Node.objects.exclude(status=Node.Status.GONE).select_related("cluster__agent_config")
    if cluster is None:
        return present.filter(cluster__isnull=True)
    return present.filter(cluster=cluster)


def registered_nodes():
    return Node.objects.filter(cluster__isnull=True).select_related("cluster")


@dataclass
class NodeUsage:
    node: Node
    status: str
    message: str
    version: str = ""
    resources: dict | None = None

    @property
    def ok(self):
        return self.resources is not None


def _probe(node, timeout):
    if not node.has_agent:
        return NodeUsage(node, Node.Status.MISSING, node.status_message)
    try:
        health = agent.health(node, timeout=timeout)
        usage = agent.resources(node, timeout=timeout)
    except agent.AgentError as exc:
        return NodeUsage(node, Node.Status.UNREACHABLE, str(exc))
    version = str(health.get("version", ""))
    expected = settings.AGENT_EXPECTED_VERSION
    if expected and version != expected:
        return NodeUsage(node, Node.Status.VERSION, _("The agent runs version %(version)s; this portal expects "
                                                       "%(expected)s.") % {"version": version, "expected": expected},
                         version, usage)
    return NodeUsage(node, Node.Status.OK, "", version, usage)


_pools = {}


def _pool():
    """A thread pool of this process's own (a pool made before a fork has no threads after it)."""
    pid = os.getpid()
    if pid not in _pools:
        _pools[pid] = ThreadPoolExecutor(max_workers=32, thread_name_prefix="agent-usage")
    return _pools[pid]


def _prime(node):
    """Load what reaching the agent needs here, so the worker threads never query the database."""
    if node.cluster_id:
        getattr(node.cluster, "agent_config", None)
    return node


def refresh_nodes(nodes, timeout=None):
    """Health and usage of every node's agent, all at once: each has `timeout` seconds, so the whole
    refresh takes about as long as the slowest agent, never the sum. Saves changed statuses."""
    timeout = timeout or settings.AGENT_USAGE_TIMEOUT
    nodes = [_prime(node) for node in nodes]
    results = list(_pool().map(lambda node: _probe(node, (min(timeout, settings.AGENT_TIMEOUT[0]), timeout)), nodes))
    now = timezone.now()
    for usage in results:
        node = usage.node
        changed = (node.status, node.status_message, node.agent_version) != (usage.status, usage.message,
                                                                              usage.version or node.agent_version)
        stale = usage.ok and (node.last_seen is None or now - node.last_seen > timedelta(seconds=60))
        if changed or stale:
            node.status, node.status_message = usage.status, usage.message
            node.agent_version = usage.version or node.agent_version
            if usage.ok:
                node.last_seen = now
            Node.objects.filter(pk=node.pk).update(status=node.status, status_message=node.status_message,
                                                   agent_version=node.agent_version, last_seen=node.last_seen)
    return results


def sample_usage(nodes):
    """Store one NodeSample per reachable node; prune samples past the retention."""
    samples = []
    for usage in refresh_nodes(nodes, timeout=settings.AGENT_TIMEOUT[1]):
        if not usage.ok:
            continue
        res = usage.resources
        samples.append(NodeSample(
            node=usage.node,
            cpu_percent=(res.get("cpu") or {}).get("percent"),
            memory_percent=(res.get("memory") or {}).get("percent"),
            memory_used=(res.get("memory") or {}).get("used"),
            disk_percent=(res.get("disk") or {}).get("percent"),
            gpus=[{"index": g.get("index"), "utilization_percent": g.get("utilization_percent"),
                   "memory_used": g.get("memory_used"), "memory_total": g.get("memory_total")}
                  for g in res.get("gpus") or []],
        ))
    NodeSample.objects.bulk_create(samples)
    cutoff = timezone.now() - timedelta(days=settings.NODE_SAMPLE_RETENTION_DAYS)
    pruned, _details = NodeSample.objects.filter(at__lt=cutoff).delete()
    return len(samples), pruned


# ---------------------------------------------------------------- agent settings (administrators)


def save_agent_config(actor, cluster, *, namespace, port, token=""):
    """Set how the cluster's agents are reached. An empty token keeps the stored one."""
    authorize(actor, ADMINISTER, "node.agent_settings", cluster.name, cluster=cluster.name)
    config, _created = AgentConfig.objects.get_or_create(cluster=cluster)
    config.namespace, config.port = namespace, port
    if token:
        config.token = token
    config.save()
    record(actor, "node.agent_settings", cluster.name, cluster=cluster.name,
           detail={"namespace": namespace, "port": port, "token_changed": bool(token)})
    return config


def register_agent(actor, *, name, url, token):
    """Register an agent outside Kubernetes by its URL; its health is checked at once."""
    authorize(actor, ADMINISTER, "node.register", name)
    if Node.objects.filter(cluster__isnull=True, name=name).exists():
        message = _("An agent named %(name)s is already registered.") % {"name": name}
        record(actor, "node.register", name, outcome=ERROR, message=message)
        raise NodeError(message)
    node = Node.objects.create(name=name, url=url.rstrip("/"), token=token)
    refresh_nodes([node])
    node.refresh_from_db()
    record(actor, "node.register", name, detail={"url": node.url, "status": node.status},
           message=node.status_message)
    return node


def unregister_agent(actor, node):
    authorize(actor, ADMINISTER, "node.unregister", node.name)
    if not node.registered:
        raise NodeError(_("%(node)s was discovered in its cluster; it cannot be removed here.") % {"node": node.name})
    name = node.name
    node.delete()
    record(actor, "node.unregister", name)


# ---------------------------------------------------------------- workspace


def clean_path(path):
    """A workspace path as the agent wants it: relative, '/'-separated, no '.' parts."""
    path = (path or "").replace("\\", "/").strip()
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise NodeError(_("A path may not contain '..'."))
    return "/".join(parts)


def _where(node, path):
    return f"{node.name}:{path or '/'}"


def open_download(actor, node, path):
    """Authorize and audit a download; the agent's streamed response (the caller closes it)."""
    path = clean_path(path)
    authorize(actor, VIEW, "node.download", _where(node, path), cluster=_cluster_name(node))
    try:
        response = agent.open_file(node, path)
    except agent.AgentError as exc:
        _fail(actor, "node.download", _where(node, path), node, exc)
    record(actor, "node.download", _where(node, path), cluster=_cluster_name(node),
           detail={"bytes": int(response.headers.get("Content-Length") or 0)})
    return response


def upload(actor, node, *, path, chunks, length=None, archive=False, keep=None, fmt=None, content_type=None):
    """Stream an upload to the agent: one file to `path`, or an archive that replaces the workspace
    (except `keep`). `chunks` is an iterable of bytes, never held whole."""
    path = clean_path(path)
    action = "node.upload_archive" if archive else "node.upload"
    target = _where(node, "" if archive else path)
    authorize(actor, OPERATE, action, target, cluster=_cluster_name(node))
    if not archive and not path:
        raise NodeError(_("Give the file a name."))
    try:
        if archive:
            result = agent.upload_archive(node, chunks, keep=keep, fmt=fmt, content_type=content_type, length=length)
        else:
            result = agent.upload_file(node, path, chunks, length=length)
    except agent.AgentError as exc:
        _fail(actor, action, target, node, exc)
    record(actor, action, target, cluster=_cluster_name(node), detail={"bytes": length, "result": result})
    return result


def delete_path(actor, node, path):
    path = clean_path(path)
    authorize(actor, OPERATE, "node.delete", _where(node, path), cluster=_cluster_name(node))
    if not path:
        raise NodeError(_("The workspace itself cannot be deleted; use Clear workspace."))
    try:
        agent.delete_path(node, path)
    except agent.AgentError as exc:
        _fail(actor, "node.delete", _where(node, path), node, exc)
    record(actor, "node.delete", _where(node, path), cluster=_cluster_name(node))


def make_directory(actor, node, path):
    path = clean_path(path)
    authorize(actor, OPERATE, "node.mkdir", _where(node, path), cluster=_cluster_name(node))
    if not path:
        raise NodeError(_("Give the folder a name."))
    try:
        agent.make_directory(node, path)
    except agent.AgentError as exc:
        _fail(actor, "node.mkdir", _where(node, path), node, exc)
    record(actor, "node.mkdir", _where(node, path), cluster=_cluster_name(node))


def clear_workspace(actor, node, keep):
    keep = [clean_path(item) for item in keep if clean_path(item)]
    authorize(actor, OPERATE, "node.clear", _where(node, ""), cluster=_cluster_name(node))
    try:
        result = agent.clear_workspace(node, keep)
    except agent.AgentError as exc:
        _fail(actor, "node.clear", _where(node, ""), node, exc)
    record(actor, "node.clear", _where(node, ""), cluster=_cluster_name(node), detail={"keep": keep, "result": result})
    return result


def copy_path(actor, source, path, destination, destination_path=""):
    """Queue a copy of a file or folder from one node's workspace to another's (an Operation)."""
    from .tasks import copy_between_nodes

    path = clean_path(path)
    destination_path = clean_path(destination_path) or path
    target = f"{_where(source, path)} → {_where(destination, destination_path)}"
    cluster = source.cluster if source.cluster_id else destination.cluster
    authorize(actor, OPERATE, "node.copy", target, cluster=cluster.name if cluster else "")
    if not path:
        raise NodeError(_("Choose a file or folder to copy, not the whole workspace."))
    if source.pk == destination.pk and path == destination_path:
        raise NodeError(_("The copy would overwrite the original: choose another node or path."))
    operation = Operation.objects.create(
        cluster=cluster, cluster_name=cluster.name if cluster else "", actor=actor.user, actor_name=actor.name,
        client_ip=actor.ip, action="node.copy", target=target[:255],
    )
    record(actor, "node.copy", target, cluster=operation.cluster_name, message=_("queued"),
           detail={"operation": operation.pk, "from": _where(source, path), "to": _where(destination, destination_path)})
    transaction.on_commit(lambda: copy_between_nodes.delay(operation.pk, source.pk, path, destination.pk,
                                                           destination_path))
    return operation


# ---------------------------------------------------------------- runs

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_env(text):
    """KEY=value lines into a dict; blank lines and # comments are skipped."""
    env = {}
    for number, line in enumerate((text or "").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not ENV_NAME.match(name):
            raise NodeError(_("Line %(number)s of the environment is not NAME=value: %(line)s") % {
                "number": number, "line": line})
        env[name] = value
    return env


def start_run(actor, node, command, *, cwd="", env=None):
    """Record a Run and its AuditEvent, and queue the task that starts it on the agent."""
    from .tasks import start_run as start_run_task

    command = (command or "").strip()
    target = f"{node.name}: {command}"[:255]
    authorize(actor, OPERATE, "node.run", target, cluster=_cluster_name(node))
    if not command:
        raise NodeError(_("Enter a command to run."))
    cwd = clean_path(cwd)
    run = Run.objects.create(
        node=node, node_name=node.name, cluster_name=_cluster_name(node), user=actor.user,
        user_name=actor.name, client_ip=actor.ip, command=command, cwd=cwd, env=env or {},
    )
    record(actor, "node.run", target, cluster=run.cluster_name,
           detail={"run": run.pk, "command": command, "cwd": cwd, "env": sorted((env or {}).keys())})
    transaction.on_commit(lambda: start_run_task.delay(run.pk))
    return run


def rerun(actor, run):
    if run.node is None:
        raise NodeError(_("The node of this run is no longer known to the portal."))
    return start_run(actor, run.node, run.command, cwd=run.cwd, env=run.env)


def interrupt_run(actor, run):
    """Ask the agent to interrupt the run (SIGINT, then SIGTERM, then SIGKILL); the state follows live."""
    from .tasks import sync_run

    target = f"{run.node_name}: run {run.pk}"
    authorize(actor, OPERATE, "node.interrupt", target, cluster=run.cluster_name)
    if run.finished:
        raise NodeError(_("Run %(run)s has already ended.") % {"run": run.pk})
    Run.objects.filter(pk=run.pk).update(interrupt_requested_at=timezone.now())
    if run.agent_run_id and run.node is not None:
        try:
            agent.interrupt_run(run.node, run.agent_run_id)
        except agent.AgentError as exc:
            record(actor, "node.interrupt", target, outcome=ERROR, message=str(exc), cluster=run.cluster_name)
            raise NodeError(str(exc)) from exc
        transaction.on_commit(lambda: sync_run.apply_async((run.pk,), countdown=0.3))
    record(actor, "node.interrupt", target, cluster=run.cluster_name, detail={"run": run.pk})


def recent_commands(node, user, limit=10):
    seen, commands = set(), []
    for command in Run.objects.filter(node=node).order_by("-created_at").values_list("command", flat=True)[:200]:
        if command not in seen:
            seen.add(command)
            commands.append(command)
        if len(commands) >= limit:
            break
    return commands


def parent_of(path):
    return posixpath.dirname(path)
