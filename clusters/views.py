import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.audit import Actor
from portal.roles import VIEW

from . import kube, services
from .forms import AddClusterForm, ImportContextForm
from .models import Cluster
from .selection import choose_cluster


def local_contexts():
    """(path, context) pairs from the kubeconfig files this server can read (settings.KUBECONFIG_PATHS)."""
    found = []
    for path in settings.KUBECONFIG_PATHS:
        try:
            found += [(path, ctx) for ctx in kube.list_contexts(kube.read_kubeconfig_file(path))]
        except kube.KubeError:
            continue
    return found


@permission_required(VIEW, raise_exception=True)
def cluster_list(request):
    imported = set(Cluster.objects.values_list("context", flat=True))
    return render(request, "clusters/list.html", {
        "clusters": Cluster.objects.all(),
        "add_form": AddClusterForm(),
        "local_contexts": [(path, ctx, ctx.name in imported) for path, ctx in local_contexts()],
    })


@require_POST
def cluster_add(request):
    form = AddClusterForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            cluster = services.add_cluster(
                Actor.from_request(request),
                name=form.cleaned_data["name"],
                kubeconfig_text=form.cleaned_data["kubeconfig"],
                context=form.cleaned_data["context"],
            )
        except services.ClusterError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Cluster %(name)s added; checking the connection.") % {"name": cluster.name})
    else:
        for error in form.errors.values():
            messages.error(request, " ".join(error))
    return redirect("clusters:list")


@require_POST
def cluster_import(request):
    form = ImportContextForm(request.POST)
    if not form.is_valid():
        raise Http404
    source, context = form.cleaned_data["source"], form.cleaned_data["context"]
    # Only files the settings name, never a path chosen by the browser.
    if (source, context) not in {(path, ctx.name) for path, ctx in local_contexts()}:
        raise Http404
    try:
        cluster = services.import_context(
            Actor.from_request(request), path=source, context=context, name=form.cleaned_data["name"]
        )
    except services.ClusterError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Cluster %(name)s added; checking the connection.") % {"name": cluster.name})
    return redirect("clusters:list")


@require_POST
def cluster_check(request, pk):
    cluster = get_object_or_404(Cluster, pk=pk)
    services.check_connection(Actor.from_request(request), cluster)
    if request.htmx:
        return render(request, "clusters/_status_badge.html", {"cluster": cluster})
    messages.info(request, _("Checking %(name)s.") % {"name": cluster.name})
    return redirect("clusters:list")


@require_POST
def cluster_delete(request, pk):
    cluster = get_object_or_404(Cluster, pk=pk)
    services.delete_cluster(Actor.from_request(request), cluster)
    messages.success(request, _("Cluster %(name)s removed from the portal.") % {"name": cluster.name})
    return redirect("clusters:list")


@permission_required(VIEW, raise_exception=True)
def cluster_summary(request, pk):
    cluster = get_object_or_404(Cluster, pk=pk)
    try:
        summary, error = kube.cluster_summary(cluster), None
    except kube.KubeError as exc:
        summary, error = None, str(exc)
    return render(request, "clusters/_summary.html", {"cluster": cluster, "summary": summary, "error": error})


@require_POST
@permission_required(VIEW, raise_exception=True)
def cluster_select(request):
    pk = request.POST.get("cluster", "")
    if not pk.isdigit():
        raise Http404
    cluster = get_object_or_404(Cluster, pk=pk)
    choose_cluster(request, cluster)
    next_url = request.POST.get("next", "").split("?")[0]
    # A list page follows the switch; a page of one object of the old cluster would not exist.
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}) or re.match(
        r"^/clusters/\d+/", next_url
    ):
        next_url = "dashboard"
    return redirect(next_url)
