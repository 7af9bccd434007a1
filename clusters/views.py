import re

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.audit import Actor
from portal.roles import VIEW

from . import kube, manifests, services
from . import rows as rows_module
from .forms import AddClusterForm, ApplyForm, ImportContextForm, PodLogForm
from .models import Cluster
from .selection import choose_cluster, current_cluster

POD_LOG_PAGE_BYTES = 2 * 1024 * 1024  # the page shows at most this much; the download has it all
LOG_DOWNLOAD_PIECE = 64 * 1024


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


# ---------------------------------------------------------------- resource pages

PAGE_SIZE = 50
POD_PAGE_SIZES = (50, 100, 500)
REFRESH_SECONDS = 10


def _table(request, rows, sort_keys, default_sort):
    """Filter rows by ?q= (name contains), sort by ?sort=key or -key, and page them."""
    query = request.GET.get("q", "").strip().lower()
    if query:
        rows = [row for row in rows if query in row.name.lower()]
    sort = request.GET.get("sort", default_sort)
    key = sort.lstrip("-")
    if key in sort_keys:
        rows = sorted(rows, key=lambda row: sort_keys[key](row), reverse=sort.startswith("-"))
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def _resource_page(request, template, build):
    """Render a resource page for the current cluster; `build(cluster, namespace)` returns the context.

    htmx requests (filters, paging, the periodic refresh) get the table partial alone.
    """
    cluster = current_cluster(request)
    namespace = request.GET.get("namespace", "")
    context = {"cluster": cluster, "namespace": namespace, "refresh_seconds": REFRESH_SECONDS, "error": None}
    if cluster is not None:
        try:
            context.update(build(cluster, namespace))
            if not request.htmx:
                context["namespaces"] = kube.list_namespaces(cluster)
        except kube.KubeError as exc:
            context["error"] = str(exc)
    partial = template.replace("/", "/_", 1).replace(".html", "_table.html")
    return render(request, partial if request.htmx else template, context)


def _age_key(row):
    return row.created.timestamp() if row.created else 0


@permission_required(VIEW, raise_exception=True)
def node_list(request):
    def build(cluster, namespace):
        pods = kube.pods_per_node(cluster)
        rows = [rows_module.node_row(node, pods.get(node["metadata"]["name"], 0)) for node in kube.list_nodes(cluster)]
        return {"page": _table(request, rows, {"name": lambda r: r.name, "status": lambda r: r.status,
                                               "pods": lambda r: r.pods, "age": _age_key}, "name"),
                "show_namespace_filter": False}

    return _resource_page(request, "clusters/nodes.html", build)


@permission_required(VIEW, raise_exception=True)
def node_detail(request, pk, name):
    cluster = get_object_or_404(Cluster, pk=pk)
    context = {"cluster": cluster, "name": name, "error": None}
    try:
        node = kube.get_node(cluster, name)
        pods = kube.list_pods(cluster, field_selector=f"spec.nodeName={name}")
        context.update(
            node=rows_module.node_row(node, len(pods)),
            pods=sorted((rows_module.pod_row(p) for p in pods), key=lambda r: (r.namespace, r.name)),
            events=rows_module.events_warnings_first(kube.list_events(cluster, kind="Node", name=name)),
        )
    except kube.KubeError as exc:
        context["error"] = str(exc)
    return render(request, "clusters/node_detail.html", context)


def _pod_filters(request):
    """API-side filters: the pods page pages through the API (limit/continue), so it filters there too."""
    fields = []
    if request.GET.get("phase"):
        fields.append(f"status.phase={request.GET['phase']}")
    if request.GET.get("node"):
        fields.append(f"spec.nodeName={request.GET['node']}")
    if request.GET.get("name"):
        fields.append(f"metadata.name={request.GET['name']}")
    return {"field_selector": ",".join(fields), "label_selector": request.GET.get("labels", "").strip()}


@permission_required(VIEW, raise_exception=True)
def pod_list(request):
    def build(cluster, namespace):
        size = int(request.GET.get("size", POD_PAGE_SIZES[0]))
        size = size if size in POD_PAGE_SIZES else POD_PAGE_SIZES[0]
        page = kube.list_pods_page(cluster, namespace or None, limit=size,
                                   continue_token=request.GET.get("continue"), **_pod_filters(request))
        return {"pods": [rows_module.pod_row(p) for p in page.items], "next_token": page.continue_token,
                "remaining": page.remaining, "page_sizes": POD_PAGE_SIZES, "size": size,
                "phases": ["Pending", "Running", "Succeeded", "Failed", "Unknown"]}

    return _resource_page(request, "clusters/pods.html", build)


@permission_required(VIEW, raise_exception=True)
def pod_detail(request, pk, namespace, name):
    cluster = get_object_or_404(Cluster, pk=pk)
    context = {"cluster": cluster, "namespace": namespace, "name": name, "error": None}
    try:
        pod = kube.get_pod(cluster, namespace, name)
        context.update(
            pod=rows_module.pod_row(pod),
            containers=[
                {"spec": spec, "status": next((s for s in (pod.get("status") or {}).get("containerStatuses") or []
                                               if s.get("name") == spec.get("name")), {})}
                for spec in pod["spec"].get("containers") or []
            ],
            conditions=(pod.get("status") or {}).get("conditions") or [],
            events=rows_module.events_warnings_first(kube.list_events(cluster, namespace, kind="Pod", name=name)),
            log_form=PodLogForm(initial={"container": (pod["spec"].get("containers") or [{}])[0].get("name")}),
        )
        context["log_form"].fields["container"].widget.choices = [(c, c) for c in context["pod"].containers]
    except kube.KubeError as exc:
        context["error"] = str(exc)
    return render(request, "clusters/pod_detail.html", context)


@permission_required(VIEW, raise_exception=True)
def pod_log(request, pk, namespace, name):
    """The log as text: a partial for the page, or a download (?download=1)."""
    cluster = get_object_or_404(Cluster, pk=pk)
    form = PodLogForm(request.GET)
    if not form.is_valid():
        return HttpResponse(" ".join(" ".join(e) for e in form.errors.values()), status=400)
    options = form.cleaned_data
    if request.GET.get("download") == "1":
        return _pod_log_download(request, cluster, namespace, name, options)
    try:
        text = kube.read_pod_log(
            cluster, namespace, name, container=options["container"] or None, tail_lines=options["tail"],
            since_seconds=options["since"], previous=options["previous"], limit_bytes=POD_LOG_PAGE_BYTES,
        )
    except kube.KubeError as exc:
        return render(request, "clusters/_pod_log.html", {"error": str(exc)})
    return render(request, "clusters/_pod_log.html", {"text": text})


def _pod_log_download(request, cluster, namespace, name, options):
    """The whole log, passed on as it is read: a log may be far larger than the portal's memory.

    An async iterator, because Django's ASGI handler would read a sync one whole before sending it."""
    try:
        stream = kube.open_pod_log_stream(cluster, namespace, name, container=options["container"] or None,
                                          since_seconds=options["since"], previous=options["previous"], follow=False)
    except kube.KubeError as exc:
        return HttpResponse(str(exc), status=502, content_type="text/plain; charset=utf-8")

    async def pieces():
        try:
            while piece := await sync_to_async(stream.read1, thread_sensitive=False)(LOG_DOWNLOAD_PIECE):
                yield piece
        finally:
            stream.release_conn()

    filename = f"{namespace}_{name}_{options['container'] or 'pod'}{'_previous' if options['previous'] else ''}.log"
    return StreamingHttpResponse(pieces(), content_type="text/plain; charset=utf-8",
                                 headers={"Content-Disposition": content_disposition_header(True, filename)})


def _operation_response(request, operation, fallback):
    """An action's answer: its live status block for htmx, else a redirect with a message."""
    if request.htmx:
        return render(request, "clusters/_operation_live.html", {"operation": operation})
    messages.info(request, _("%(action)s %(target)s: queued.") % {"action": operation.action, "target": operation.target})
    return redirect(fallback)


def _cluster_error_response(request, exc, fallback):
    if request.htmx:
        return render(request, "clusters/_error.html", {"error": str(exc)}, status=400)
    messages.error(request, str(exc))
    return redirect(fallback)


@require_POST
def pod_delete(request, pk, namespace, name):
    cluster = get_object_or_404(Cluster, pk=pk)
    operation = services.delete_objects(Actor.from_request(request), cluster, "pod", [(namespace, name)])
    return _operation_response(request, operation, "clusters:pods")


@require_POST
def objects_delete_selected(request, pk, kind):
    cluster = get_object_or_404(Cluster, pk=pk)
    objects = [tuple(item.split("/", 1)) for item in request.POST.getlist("selected") if item.count("/") == 1]
    fallback = {"pod": "clusters:pods", "deployment": "clusters:deployments", "service": "clusters:services"}.get(kind)
    if fallback is None:
        raise Http404
    try:
        operation = services.delete_objects(Actor.from_request(request), cluster, kind, objects)
    except services.ClusterError as exc:
        return _cluster_error_response(request, exc, fallback)
    return _operation_response(request, operation, fallback)


@permission_required(VIEW, raise_exception=True)
def deployment_list(request):
    def build(cluster, namespace):
        rows = [rows_module.deployment_row(d) for d in kube.list_deployments(cluster, namespace or None)]
        return {"page": _table(request, rows, {"name": lambda r: r.name, "namespace": lambda r: r.namespace,
                                               "ready": lambda r: r.ready, "age": _age_key}, "namespace")}

    return _resource_page(request, "clusters/deployments.html", build)


@require_POST
def deployment_action(request, pk, namespace, name, action):
    cluster = get_object_or_404(Cluster, pk=pk)
    actor = Actor.from_request(request)
    try:
        if action == "scale":
            replicas = request.POST.get("replicas", "")
            replicas = int(replicas) if replicas.isdigit() else -1
            operation = services.scale_deployment(actor, cluster, namespace, name, replicas)
        elif action == "restart":
            operation = services.restart_deployment(actor, cluster, namespace, name)
        elif action == "delete":
            operation = services.delete_objects(actor, cluster, "deployment", [(namespace, name)])
        else:
            raise Http404
    except services.ClusterError as exc:
        return _cluster_error_response(request, exc, "clusters:deployments")
    return _operation_response(request, operation, "clusters:deployments")


@permission_required(VIEW, raise_exception=True)
def service_list(request):
    def build(cluster, namespace):
        rows = [rows_module.service_row(s) for s in kube.list_services(cluster, namespace or None)]
        return {
            "page": _table(request, rows, {"name": lambda r: r.name, "namespace": lambda r: r.namespace,
                                           "type": lambda r: r.type, "age": _age_key}, "namespace"),
            "summary": {
                "total": len(rows),
                "load_balancer": sum(r.type == "LoadBalancer" for r in rows),
                "node_port": sum(r.type == "NodePort" for r in rows),
                "namespaces": len({r.namespace for r in rows}),
            },
        }

    return _resource_page(request, "clusters/services.html", build)


@require_POST
def service_delete(request, pk, namespace, name):
    cluster = get_object_or_404(Cluster, pk=pk)
    operation = services.delete_objects(Actor.from_request(request), cluster, "service", [(namespace, name)])
    return _operation_response(request, operation, "clusters:services")


@permission_required(VIEW, raise_exception=True)
def event_list(request):
    def build(cluster, namespace):
        rows = rows_module.events_warnings_first(kube.list_events(cluster, namespace or None))
        if request.GET.get("type") in ("Warning", "Normal"):
            rows = [row for row in rows if row.type == request.GET["type"]]
        return {"page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))}

    return _resource_page(request, "clusters/events.html", build)


@require_POST
def node_action(request, pk, name, action):
    cluster = get_object_or_404(Cluster, pk=pk)
    actor = Actor.from_request(request)
    if action in ("cordon", "uncordon"):
        operation = services.cordon_node(actor, cluster, name, action == "cordon")
    elif action == "drain":
        operation = services.drain_node(actor, cluster, name)
    else:
        raise Http404
    return _operation_response(request, operation, "clusters:nodes")


@permission_required(VIEW, raise_exception=True)
def apply_manifest(request):
    """Paste or upload multi-document YAML; every document is checked before anything is sent."""
    cluster = current_cluster(request)
    form = ApplyForm(request.POST or None, request.FILES or None)
    context = {"cluster": cluster, "form": form, "documents": None, "operation": None}
    if request.method == "POST" and cluster is not None and form.is_valid():
        try:
            documents = manifests.validate_manifests(form.cleaned_data["text"])
        except manifests.ManifestError as exc:
            form.add_error(None, str(exc))
        else:
            context["documents"] = documents
            if not any(d.errors for d in documents):
                context["operation"] = services.apply_manifests(
                    Actor.from_request(request), cluster, [d.body for d in documents])
    return render(request, "clusters/apply.html", context)


@permission_required(VIEW, raise_exception=True)
def stop_all(request):
    """Delete all pods, deployments or services of one namespace, after a confirmation naming the count."""
    cluster = current_cluster(request)
    data = request.POST if request.method == "POST" else request.GET
    namespace, kind = data.get("namespace", ""), data.get("kind", "pod")
    if kind not in services.DELETABLE_KINDS:
        raise Http404
    context = {"cluster": cluster, "namespace": namespace, "kind": kind, "kinds": services.DELETABLE_KINDS,
               "protected": sorted(services.PROTECTED_NAMESPACES), "error": None, "operation": None}
    if cluster is not None:
        try:
            context["namespaces"] = [n for n in kube.list_namespaces(cluster) if n not in services.PROTECTED_NAMESPACES]
            context["targets"] = services.stop_all_targets(cluster, namespace, kind) if namespace else []
            if request.method == "POST":
                context["operation"] = services.stop_all(
                    Actor.from_request(request), cluster, namespace, kind, int(data.get("count", "-1") or -1))
        except (kube.KubeError, services.ClusterError) as exc:
            context["error"] = str(exc)
    return render(request, "clusters/stop_all.html", context)
