"""Actions on clusters: each checks permission, writes the row and an AuditEvent, and queues work."""

from pathlib import Path

import yaml
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from portal.audit import ERROR, authorize, record
from portal.roles import ADMINISTER

from . import kube
from .models import Cluster, Operation


class ClusterError(Exception):
    """An action on a cluster was refused; str() is a sentence for the user."""


def add_cluster(actor, *, name, kubeconfig_text, context="", kind_cluster="", base_dir=None):
    """Store one context of a kubeconfig as a portal cluster and queue a connection check."""
    authorize(actor, ADMINISTER, "cluster.add", name)
    try:
        kubeconfig = kube.parse_kubeconfig(kubeconfig_text)
        contexts = [c.name for c in kube.list_contexts(kubeconfig)]
        if not context:
            if len(contexts) != 1:
                raise kube.KubeError(
                    _("The kubeconfig has several contexts (%(names)s): choose one.") % {"names": ", ".join(contexts)}
                )
            context = contexts[0]
        single = kube.single_context_kubeconfig(kubeconfig, context, base_dir=base_dir)
    except kube.KubeError as exc:
        record(actor, "cluster.add", name, outcome=ERROR, message=str(exc))
        raise ClusterError(str(exc)) from exc
    name = slugify(name or context)
    if not kind_cluster and context.startswith("kind-"):
        kind_cluster = context.removeprefix("kind-")
    try:
        with transaction.atomic():
            cluster = Cluster.objects.create(
                name=name,
                context=context,
                kubeconfig=yaml.safe_dump(single),
                server=kube.server_of(single),
                kind_cluster=kind_cluster,
                created_by=actor.user,
            )
    except IntegrityError:
        message = _("A cluster named %(name)s already exists.") % {"name": name}
        record(actor, "cluster.add", name, outcome=ERROR, message=message)
        raise ClusterError(message)
    record(actor, "cluster.add", name, cluster=name, detail={"context": context, "server": cluster.server})
    queue_check(actor, cluster)
    return cluster


def import_context(actor, *, path, context, name=""):
    """Add a cluster from a context of a kubeconfig file that this server can read."""
    authorize(actor, ADMINISTER, "cluster.add", name or context)
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ClusterError(_("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc.strerror})
    return add_cluster(
        actor, name=name or context, kubeconfig_text=text, context=context, base_dir=Path(path).parent
    )


def check_connection(actor, cluster):
    authorize(actor, ADMINISTER, "cluster.check", cluster.name, cluster=cluster.name)
    record(actor, "cluster.check", cluster.name, cluster=cluster.name, message=_("check requested"))
    queue_check(actor, cluster)


def queue_check(actor, cluster):
    from .tasks import check_cluster_connection

    Cluster.objects.filter(pk=cluster.pk).update(status=Cluster.Status.CHECKING)
    cluster.status = Cluster.Status.CHECKING
    transaction.on_commit(lambda: check_cluster_connection.delay(cluster.pk, actor.as_ids()))


def delete_cluster(actor, cluster):
    authorize(actor, ADMINISTER, "cluster.delete", cluster.name, cluster=cluster.name)
    name = cluster.name
    cluster.delete()
    record(actor, "cluster.delete", name, cluster=name)


def start_operation(actor, cluster, permission, action, target, task, *task_args):
    """Authorize, record an Operation and its AuditEvent, and queue `task(operation_id, *task_args)`."""
    authorize(actor, permission, action, target, cluster=cluster.name)
    operation = Operation.objects.create(
        cluster=cluster, cluster_name=cluster.name, actor=actor.user, actor_name=actor.name,
        client_ip=actor.ip, action=action, target=target,
    )
    record(actor, action, target, cluster=cluster.name, message=_("queued"), detail={"operation": operation.pk})
    transaction.on_commit(lambda: task.delay(operation.pk, *task_args))
    return operation
