"""Images (local Docker images, loading them into kind clusters) and the lab (kind clusters, Volcano, agents)."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.audit import Actor
from portal.roles import VIEW

from . import docker, kind, lab, services
from .models import Cluster, Operation

RECENT = 10


def kind_clusters_with_portal_clusters():
    """[(kind name, [portal clusters using it])], plus the error when kind cannot be asked."""
    try:
        names = kind.list_clusters()
    except kind.KindError as exc:
        return [], str(exc)
    by_kind = {}
    for cluster in Cluster.objects.exclude(kind_cluster=""):
        by_kind.setdefault(cluster.kind_cluster, []).append(cluster)
    return [(name, by_kind.get(name, [])) for name in names], None


@permission_required(VIEW, raise_exception=True)
def images(request):
    search = request.GET.get("q", "").strip()[:200]
    try:
        image_list, error = docker.list_images(search), None
    except docker.DockerError as exc:
        image_list, error = [], str(exc)
    context = {"images": image_list, "error": error, "search": search,
               "kind_clusters": Cluster.objects.exclude(kind_cluster="")}
    if request.htmx and request.htmx.target == "images-table":
        return render(request, "clusters/_images_table.html", context)
    context["kind_list"], context["kind_error"] = kind_clusters_with_portal_clusters()
    context["operations"] = Operation.objects.filter(action="image.load")[:RECENT]
    return render(request, "clusters/images.html", context)


@require_POST
def image_load(request):
    cluster_pk = request.POST.get("cluster", "")
    if not cluster_pk.isdigit():
        raise Http404
    cluster = get_object_or_404(Cluster, pk=cluster_pk)
    image = request.POST.get("image", "")
    try:
        operation = services.load_image(Actor.from_request(request), cluster, image)
    except services.ClusterError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Loading %(image)s into %(cluster)s; follow it below.")
                         % {"image": image, "cluster": cluster.name})
        if request.htmx:
            return render(request, "clusters/_operation_live.html", {"operation": operation})
    return redirect("clusters:images")


@permission_required(VIEW, raise_exception=True)
def lab_page(request):
    kind_list, kind_error = kind_clusters_with_portal_clusters()
    return render(request, "clusters/lab.html", {
        "docker_problem": lab.docker_problem(),
        "missing_tools": lab.missing_tools("kubectl", "helm"),
        "configs": lab.CONFIGS,
        "clusters": Cluster.objects.all(),
        "kind_list": kind_list,
        "kind_error": kind_error,
        "operations": Operation.objects.filter(action__startswith="lab.")[:RECENT],
    })


@require_POST
def lab_create(request):
    name = request.POST.get("name", "").strip()
    config = request.POST.get("config", "small")
    try:
        services.create_lab_cluster(Actor.from_request(request), name, config)
    except services.ClusterError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Creating the lab cluster %(name)s; this takes a few minutes.") % {"name": name})
    return redirect("clusters:lab")


@require_POST
def lab_cluster_action(request, pk, action):
    cluster = get_object_or_404(Cluster, pk=pk)
    actions = {"install-volcano": (services.install_volcano, _("Installing Volcano on %(name)s.")),
               "deploy-agents": (services.deploy_agents, _("Deploying the agents on %(name)s."))}
    if action not in actions:
        raise Http404
    start, message = actions[action]
    start(Actor.from_request(request), cluster)
    messages.success(request, message % {"name": cluster.name})
    return redirect("clusters:lab")
