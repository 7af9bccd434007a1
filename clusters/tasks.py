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
