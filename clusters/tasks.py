from celery import shared_task
from django.utils import timezone

from portal import live
from portal.audit import ERROR, OK, Actor, record

from . import kube
from .models import Cluster


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
