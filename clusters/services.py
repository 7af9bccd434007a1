"""Actions on clusters: each checks permission, writes the row and an AuditEvent, and queues work."""

from pathlib import Path

import yaml
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from portal.audit import ERROR, authorize, record
from portal.roles import ADMINISTER, OPERATE

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


# ---------------------------------------------------------------- workloads and nodes

# Never touched by bulk actions: the cluster's own machinery.
PROTECTED_NAMESPACES = {"kube-system", "kube-public", "kube-node-lease"}
PROTECTED_OBJECTS = {("service", "default", "kubernetes")}
DELETABLE_KINDS = ("pod", "deployment", "service")


def delete_objects(actor, cluster, kind, objects):
    """Delete pods, deployments or services: objects is a list of (namespace, name)."""
    if kind not in DELETABLE_KINDS or not objects:
        raise ClusterError(_("Nothing to delete."))
    target = f"{kind}/{objects[0][1]}" if len(objects) == 1 else f"{len(objects)} {kind}s"
    from .tasks import delete_objects_task

    return start_operation(actor, cluster, OPERATE, f"{kind}.delete", target, delete_objects_task, kind,
                           [list(o) for o in objects])


def scale_deployment(actor, cluster, namespace, name, replicas):
    from .tasks import scale_deployment_task

    if not isinstance(replicas, int) or not 0 <= replicas <= 1000:
        raise ClusterError(_("Replicas must be a whole number from 0 to 1000."))
    return start_operation(actor, cluster, OPERATE, "deployment.scale", f"{namespace}/{name} → {replicas}",
                           scale_deployment_task, namespace, name, replicas)


def restart_deployment(actor, cluster, namespace, name):
    from .tasks import restart_deployment_task

    return start_operation(actor, cluster, OPERATE, "deployment.restart", f"{namespace}/{name}",
                           restart_deployment_task, namespace, name)


def cordon_node(actor, cluster, node, unschedulable=True):
    from .tasks import cordon_node_task

    action = "node.cordon" if unschedulable else "node.uncordon"
    return start_operation(actor, cluster, OPERATE, action, node, cordon_node_task, node, unschedulable)


def drain_node(actor, cluster, node):
    from .tasks import drain_node_task

    return start_operation(actor, cluster, OPERATE, "node.drain", node, drain_node_task, node)


def apply_manifests(actor, cluster, documents):
    """Queue validated documents (see clusters.manifests) for server-side apply, in order."""
    from .tasks import apply_manifests_task

    names = [f"{d['kind']}/{d['metadata']['name']}" for d in documents]
    return start_operation(actor, cluster, OPERATE, "manifest.apply", ", ".join(names)[:255],
                           apply_manifests_task, documents)


def stop_all_targets(cluster, namespace, kind):
    """What "stop all" would delete: never the cluster's own namespaces or the kubernetes service."""
    if namespace in PROTECTED_NAMESPACES or not namespace:
        return []
    listing = {"pod": kube.list_pods, "deployment": kube.list_deployments, "service": kube.list_services}[kind]
    names = [obj["metadata"]["name"] for obj in listing(cluster, namespace)]
    return [(namespace, name) for name in names if (kind, namespace, name) not in PROTECTED_OBJECTS]


def stop_all(actor, cluster, namespace, kind, expected_count):
    """Delete every object of a kind in a namespace, if the count is still the one the user confirmed."""
    if namespace in PROTECTED_NAMESPACES or not namespace:
        authorize(actor, OPERATE, f"{kind}.stop_all", namespace or "?", cluster=cluster.name)
        raise ClusterError(_("%(namespace)s is one of the cluster's own namespaces: stop all never touches it.")
                           % {"namespace": namespace or "?"})
    authorize(actor, OPERATE, f"{kind}.stop_all", namespace, cluster=cluster.name)
    targets = stop_all_targets(cluster, namespace, kind)
    if len(targets) != expected_count:
        raise ClusterError(_("The namespace now holds %(now)d instead of %(confirmed)d: look again and confirm.")
                           % {"now": len(targets), "confirmed": expected_count})
    if not targets:
        raise ClusterError(_("Nothing to stop in %(namespace)s.") % {"namespace": namespace})
    from .tasks import delete_objects_task

    return start_operation(actor, cluster, OPERATE, f"{kind}.stop_all", f"{namespace}: {len(targets)} {kind}s",
                           delete_objects_task, kind, [list(t) for t in targets])


# ---------------------------------------------------------------- images and the lab (clusters/image_views.py)

def load_image(actor, cluster, image):
    """Queue `kind load docker-image IMAGE` into the kind cluster behind a portal cluster."""
    from .docker import IMAGE_REFERENCE
    from .tasks import load_image_task

    authorize(actor, ADMINISTER, "image.load", image, cluster=cluster.name)
    if not IMAGE_REFERENCE.match(image or ""):
        raise ClusterError(_("%(image)s is not an image reference (repository:tag).") % {"image": image[:80]})
    if not cluster.kind_cluster:
        raise ClusterError(_("%(name)s is not a kind cluster: push the image to a registry its nodes can pull "
                             "from instead.") % {"name": cluster.name})
    return start_operation(actor, cluster, ADMINISTER, "image.load", image, load_image_task, image)


def create_lab_cluster(actor, name, config="small"):
    """Queue deploy/up.sh: a kind cluster with Volcano and agents, then add it to the portal."""
    from . import lab
    from .tasks import create_lab_cluster_task

    target = f"{name} ({config})"
    authorize(actor, ADMINISTER, "lab.create", target, cluster=name)
    if not lab.NAME.match(name or "") or config not in lab.CONFIGS:
        raise ClusterError(_("A kind cluster name is lowercase letters, digits and dashes (at most 32), and the "
                             "configuration is small or lab."))
    problem = lab.docker_problem()
    if problem:
        raise ClusterError(problem)
    operation = Operation.objects.create(
        cluster=Cluster.objects.filter(kind_cluster=name).first(), cluster_name=name, actor=actor.user,
        actor_name=actor.name, client_ip=actor.ip, action="lab.create", target=target,
    )
    record(actor, "lab.create", target, cluster=name, message=_("queued"), detail={"operation": operation.pk})
    transaction.on_commit(lambda: create_lab_cluster_task.delay(operation.pk, name, config))
    return operation


def install_volcano(actor, cluster):
    """Queue deploy/volcano/install.sh against a portal cluster (nothing changes if Volcano is there)."""
    from .tasks import install_volcano_task

    return start_operation(actor, cluster, ADMINISTER, "lab.install_volcano", cluster.name, install_volcano_task)


def deploy_agents(actor, cluster):
    """Queue deploy/agent/deploy.sh against a portal cluster (builds and loads the image on kind clusters)."""
    from .tasks import deploy_agents_task

    return start_operation(actor, cluster, ADMINISTER, "lab.deploy_agents", cluster.name, deploy_agents_task)
