import logging
from contextlib import contextmanager

from celery import shared_task
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import live
from portal.errors import UserFacingError
from portal.audit import ERROR, OK, Actor, record

from . import kube
from .models import Cluster, Operation

log = logging.getLogger(__name__)


class OperationFailed(UserFacingError):
    """Ends an operation as failed with this message (after recording per-object results)."""


@shared_task
def check_cluster_connection(cluster_id, actor_ids):
    cluster = Cluster.objects.filter(pk=cluster_id).first()
    if cluster is None:
        return
    actor = Actor.from_ids(**actor_ids)
    try:
        report = kube.check_connection(cluster)
    except kube.KubeError as exc:
        cluster.status, cluster.status_message = Cluster.Status.ERROR, str(exc)
        outcome, detail = ERROR, {}
    else:
        cluster.status = Cluster.Status.OK
        cluster.status_message = ""
        cluster.server_version = report.server_version
        cluster.volcano_installed = report.volcano_installed
        outcome = OK
        detail = {"server_version": report.server_version, "nodes": report.nodes_total,
                  "volcano": report.volcano_installed, "volcano_version": report.volcano_version}
    cluster.checked_at = timezone.now()
    cluster.save(update_fields=["status", "status_message", "server_version", "volcano_installed", "checked_at"])
    record(actor, "cluster.check.result", cluster.name, cluster=cluster.name, outcome=outcome,
           message=cluster.status_message, detail=detail)
    live.notify_template(
        live.group_name("cluster", cluster.pk), "clusters/_status_badge.html", {"cluster": cluster, "oob": True}
    )


def publish_operation(operation):
    live.notify_template(live.group_name("operation", operation.pk), "clusters/_operation.html",
                         {"operation": operation, "oob": True})


@contextmanager
def operation_running(operation_id):
    """Run the body of an Operation's task: mark it running, then succeeded, or failed with the
    error's message; record the result in the audit history and push each state live.

    The body may set `operation.message`, `.results` and `.progress` (and call
    publish_operation(operation) after saving them to show progress).
    """
    operation = Operation.objects.select_related("cluster").get(pk=operation_id)
    operation.state = Operation.State.RUNNING
    operation.save(update_fields=["state"])
    publish_operation(operation)
    try:
        yield operation
    except Exception as exc:  # noqa: BLE001 - every failure must end the operation, visibly
        operation.state = Operation.State.FAILED
        operation.message = str(exc)
        if not isinstance(exc, UserFacingError):
            operation.message = _("Unexpected error: %(error)s") % {"error": exc}
            log.exception("operation %s failed", operation_id)
    else:
        operation.state = Operation.State.SUCCEEDED
    operation.finished_at = timezone.now()
    operation.save()
    actor = Actor.from_ids(operation.actor_id, operation.client_ip)
    record(actor, f"{operation.action}.result", operation.target, cluster=operation.cluster_name,
           outcome=OK if operation.state == Operation.State.SUCCEEDED else ERROR, message=operation.message,
           detail={"operation": operation.pk, "results": operation.results})
    publish_operation(operation)


# ---------------------------------------------------------------- workloads and nodes

DELETE_CALLS = {"pod": kube.delete_pod, "deployment": kube.delete_deployment, "service": kube.delete_service}


def _each(operation, objects, call, describe):
    """Call `call(namespace, name)` for every object, recording a result line for each."""
    failed = 0
    for index, (namespace, name) in enumerate(objects, 1):
        try:
            call(namespace, name)
            operation.results.append({"object": describe(namespace, name), "ok": True, "message": _("done")})
        except kube.KubeError as exc:
            failed += 1
            operation.results.append({"object": describe(namespace, name), "ok": False, "message": str(exc)})
        operation.progress = int(100 * index / len(objects))
        operation.save(update_fields=["results", "progress"])
        publish_operation(operation)
    return failed


@shared_task
def delete_objects_task(operation_id, kind, objects):
    with operation_running(operation_id) as op:
        failed = _each(op, objects, lambda ns, name: DELETE_CALLS[kind](op.cluster, ns, name),
                       lambda ns, name: f"{kind}/{ns}/{name}")
        if failed:
            raise OperationFailed(_("%(failed)d of %(total)d could not be deleted.")
                                  % {"failed": failed, "total": len(objects)})
        op.message = _("%(total)d deleted.") % {"total": len(objects)}


@shared_task
def scale_deployment_task(operation_id, namespace, name, replicas):
    with operation_running(operation_id) as op:
        kube.scale_deployment(op.cluster, namespace, name, replicas)
        op.message = _("Scaled to %(replicas)d replicas.") % {"replicas": replicas}


@shared_task
def restart_deployment_task(operation_id, namespace, name):
    with operation_running(operation_id) as op:
        kube.restart_deployment(op.cluster, namespace, name)
        op.message = _("Restart started: the pods are being replaced.")


@shared_task
def cordon_node_task(operation_id, node, unschedulable):
    with operation_running(operation_id) as op:
        kube.set_node_unschedulable(op.cluster, node, unschedulable)
        op.message = _("No new pods will be scheduled here.") if unschedulable else _("Pods can be scheduled here again.")


def _drainable(pod):
    """Pods `kubectl drain` evicts: not DaemonSet pods, not static (mirror) pods, not finished ones."""
    meta = pod.get("metadata") or {}
    if "kubernetes.io/config.mirror" in (meta.get("annotations") or {}):
        return False
    if any(owner.get("kind") == "DaemonSet" for owner in meta.get("ownerReferences") or []):
        return False
    return (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


@shared_task
def drain_node_task(operation_id, node):
    with operation_running(operation_id) as op:
        kube.set_node_unschedulable(op.cluster, node, True)
        pods = [p for p in kube.list_pods(op.cluster, field_selector=f"spec.nodeName={node}") if _drainable(p)]
        objects = [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in pods]
        failed = _each(op, objects, lambda ns, name: kube.evict_pod(op.cluster, ns, name),
                       lambda ns, name: f"pod/{ns}/{name}")
        if failed:
            raise OperationFailed(_("Cordoned; %(failed)d of %(total)d pods could not be evicted (see below).")
                                  % {"failed": failed, "total": len(objects)})
        op.message = _("Cordoned and %(total)d pods evicted.") % {"total": len(objects)}


@shared_task
def apply_manifests_task(operation_id, documents):
    with operation_running(operation_id) as op:
        for index, document in enumerate(documents):
            label = f"{document['kind']}/{document['metadata']['name']}"
            try:
                kube.apply_object(op.cluster, document)
            except kube.KubeError as exc:
                op.results.append({"object": label, "ok": False, "message": str(exc)})
                op.results += [{"object": f"{d['kind']}/{d['metadata']['name']}", "ok": False,
                                "message": _("not sent")} for d in documents[index + 1:]]
                raise OperationFailed(_("%(applied)d of %(total)d documents applied; stopped at %(label)s.")
                                      % {"applied": index, "total": len(documents), "label": label})
            op.results.append({"object": label, "ok": True, "message": _("applied")})
            op.progress = int(100 * (index + 1) / len(documents))
            op.save(update_fields=["results", "progress"])
            publish_operation(op)
        op.message = _("%(total)d documents applied.") % {"total": len(documents)}


# ---------------------------------------------------------------- images and the lab (clusters/image_views.py)

class OperationLog:
    """Feeds a command's output lines into an Operation: one result row per line (the last 300), the
    current step as its message and progress, pushed live at most twice a second."""

    KEEP = 300

    def __init__(self, operation, source):
        self.operation, self.source, self.pushed = operation, source, 0.0

    def __call__(self, line):
        from . import lab
        from time import monotonic

        if not line.strip():
            return
        progress = lab.progress_of(line)
        if progress is not None:
            self.operation.progress = max(self.operation.progress or 0, progress)
            self.operation.message = line.split("] ", 1)[1]
        self.operation.results.append({"object": self.source, "ok": not line.startswith("error"), "message": line})
        del self.operation.results[:-self.KEEP]
        if monotonic() - self.pushed > 0.5:
            self.flush()

    def flush(self):
        from time import monotonic

        self.operation.save(update_fields=["results", "progress", "message"])
        publish_operation(self.operation)
        self.pushed = monotonic()


def _cluster_of(operation):
    if operation.cluster is None:
        raise OperationFailed(_("The cluster %(name)s was removed from the portal.") % {"name": operation.cluster_name})
    return operation.cluster


@shared_task
def load_image_task(operation_id, image):
    from . import kind

    with operation_running(operation_id) as op:
        cluster = _cluster_of(op)
        log = OperationLog(op, "kind load")
        op.progress = 5
        log.flush()
        kind.load_image(image, cluster.kind_cluster, log)
        op.progress = 100
        op.message = _("Image %(image)s is on every node of kind cluster %(cluster)s.") % {
            "image": image, "cluster": cluster.kind_cluster}
        log.flush()


@shared_task
def create_lab_cluster_task(operation_id, name, config):
    from . import kind, lab, services

    with operation_running(operation_id) as op:
        log = OperationLog(op, "deploy/up.sh")
        op.progress = 1
        log.flush()
        lab.create_cluster(name, config, log)
        op.progress = 100
        cluster = Cluster.objects.filter(kind_cluster=name).first()
        if cluster is None:
            actor = Actor.from_ids(op.actor_id, op.client_ip)
            try:
                cluster = services.add_cluster(actor, name=name, kubeconfig_text=kind.get_kubeconfig(name),
                                               context=f"kind-{name}", kind_cluster=name)
            except (services.ClusterError, kind.KindError) as exc:
                raise OperationFailed(_("The lab cluster %(name)s is up, but could not be added to the portal: "
                                        "%(error)s") % {"name": name, "error": exc})
            op.cluster = cluster
            op.save(update_fields=["cluster"])
        op.message = _("The lab cluster %(name)s is up with Volcano and the agents; it is the portal's cluster "
                       "%(cluster)s.") % {"name": name, "cluster": cluster.name}
        log.flush()


def _run_lab_step(operation_id, step, source, done_message):
    from . import services

    with operation_running(operation_id) as op:
        cluster = _cluster_of(op)
        log = OperationLog(op, source)
        op.progress = 5
        log.flush()
        step(cluster, log)
        op.progress = 100
        op.message = done_message
        log.flush()
        services.queue_check(Actor.from_ids(op.actor_id, op.client_ip), cluster)


@shared_task
def install_volcano_task(operation_id):
    from . import lab

    _run_lab_step(operation_id, lab.install_volcano, "deploy/volcano/install.sh", _("Volcano is installed."))


@shared_task
def deploy_agents_task(operation_id):
    from . import lab

    _run_lab_step(operation_id, lab.deploy_agents, "deploy/agent/deploy.sh",
                  _("The agents run on every worker node."))
