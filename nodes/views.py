import mimetypes
import posixpath
from datetime import datetime, time as dtime, timezone as dt_timezone

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.handlers.asgi import ASGIRequest
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseNotAllowed, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clusters import kube
from clusters.models import Cluster, Operation
from clusters.selection import current_cluster
from portal.audit import Actor, authorize
from portal.roles import ADMINISTER, VIEW

from . import agent, charts, logstore, services
from .forms import AgentConfigForm, RegisterAgentForm, RunFilterForm, RunForm
from .models import AgentConfig, Node, Run

PAGE_SIZE = 200
# The agent's default keep-list (agent/README.md), shown and editable before an archive or a clear.
DEFAULT_KEEP = ["main.py", "requirements.txt", "data/"]
TEXT_SUFFIXES = {".log", ".txt", ".py", ".yaml", ".yml", ".json", ".csv", ".tsv", ".md", ".sh", ".cfg", ".ini",
                 ".toml", ".out", ".err", ".conf", ".xml", ".html", ".js", ".css", ".ipynb", ".rst", ".env"}


def _node(pk):
    return get_object_or_404(Node.objects.select_related("cluster__agent_config"), pk=pk)


def _error(request, exc):
    messages.error(request, str(exc))


# ---------------------------------------------------------------- streaming helpers


def streamed(request, chunks, close, **kwargs):
    """A StreamingHttpResponse that never holds the body: under ASGI an async iterator (Django would
    otherwise read a sync iterator whole into memory first), under WSGI the iterator itself."""
    if isinstance(request, ASGIRequest):
        async def body():
            iterator = iter(chunks)
            try:
                while True:
                    piece = await sync_to_async(next, thread_sensitive=False)(iterator, None)
                    if piece is None:
                        return
                    yield piece
            finally:
                await sync_to_async(close, thread_sensitive=False)()

        return StreamingHttpResponse(body(), **kwargs)

    def body():
        try:
            yield from chunks
        finally:
            close()

    return StreamingHttpResponse(body(), **kwargs)


def request_chunks(request, size=agent.CHUNK):
    """The raw request body, chunk by chunk (Django never parses or holds it)."""
    while True:
        piece = request.read(size)
        if not piece:
            return
        yield piece


# ---------------------------------------------------------------- nodes


@permission_required(VIEW, raise_exception=True)
def overview(request):
    cluster = current_cluster(request)
    error = None
    if cluster is not None:
        try:
            services.discover_nodes(cluster)
        except kube.KubeError as exc:
            error = str(exc)
    config = AgentConfig.objects.filter(cluster=cluster).first() if cluster else None
    return render(request, "nodes/overview.html", {
        "cluster": cluster,
        "error": error,
        "nodes": list(services.nodes_of(cluster)) if cluster else [],
        "registered": list(services.registered_nodes()),
        "config": config,
        "config_form": AgentConfigForm(initial={"namespace": config.namespace, "port": config.port} if config else None),
        "register_form": RegisterAgentForm(),
    })


@permission_required(VIEW, raise_exception=True)
def cards(request):
    """Every node's card, with usage read from all agents at once (polled by the overview page)."""
    cluster_pk = request.GET.get("cluster", "")
    if cluster_pk == "registered":
        nodes = services.registered_nodes()
    elif cluster_pk.isdigit():
        nodes = services.nodes_of(get_object_or_404(Cluster, pk=cluster_pk))
    else:
        raise Http404
    return render(request, "nodes/_cards.html", {"usages": services.refresh_nodes(nodes)})


@permission_required(VIEW, raise_exception=True)
def node_detail(request, pk):
    node = _node(pk)
    range_key = request.GET.get("range", "hour")
    if range_key not in charts.RANGES:
        range_key = "hour"
    usage = services.refresh_nodes([node])[0]
    node_charts, sample_count = charts.usage_charts(node, range_key)
    return render(request, "nodes/detail.html", {
        "node": node, "usage": usage, "charts": node_charts, "sample_count": sample_count,
        "ranges": [(key, label) for key, (_span, label) in charts.RANGES.items()], "range_key": range_key,
        "run_form": RunForm(), "recent_commands": services.recent_commands(node, request.user),
        "runs": Run.objects.filter(node=node)[:10],
        "sample_seconds": settings.NODE_SAMPLE_SECONDS,
    })


@require_POST
def agent_settings(request, cluster_pk):
    cluster = get_object_or_404(Cluster, pk=cluster_pk)
    authorize(Actor.from_request(request), ADMINISTER, "node.agent_settings", cluster.name, cluster=cluster.name)
    form = AgentConfigForm(request.POST)
    if form.is_valid():
        services.save_agent_config(Actor.from_request(request), cluster, **form.cleaned_data)
        messages.success(request, _("Agent settings of %(cluster)s saved.") % {"cluster": cluster.name})
    else:
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
    return redirect("nodes:overview")


@require_POST
def register(request):
    authorize(Actor.from_request(request), ADMINISTER, "node.register", request.POST.get("name", ""))
    form = RegisterAgentForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("nodes:overview")
    try:
        node = services.register_agent(Actor.from_request(request), **form.cleaned_data)
    except services.NodeError as exc:
        _error(request, exc)
    else:
        if node.status == Node.Status.OK:
            messages.success(request, _("Agent %(name)s registered.") % {"name": node.name})
        else:
            messages.warning(request, _("Agent %(name)s registered, but: %(problem)s") % {
                "name": node.name, "problem": node.status_message})
    return redirect("nodes:overview")


@require_POST
def unregister(request, pk):
    node = _node(pk)
    try:
        services.unregister_agent(Actor.from_request(request), node)
    except services.NodeError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("Agent %(name)s removed from the portal.") % {"name": node.name})
    return redirect("nodes:overview")


# ---------------------------------------------------------------- files


@permission_required(VIEW, raise_exception=True)
def files_index(request):
    cluster = current_cluster(request)
    nodes = [n for n in (list(services.nodes_of(cluster)) if cluster else []) + list(services.registered_nodes())
             if n.has_agent]
    return render(request, "nodes/files_index.html", {"nodes": nodes, "cluster": cluster})


def _breadcrumbs(path):
    crumbs, parts = [], [p for p in path.split("/") if p]
    for i, part in enumerate(parts):
        crumbs.append((part, "/".join(parts[: i + 1])))
    return crumbs


def _is_text(name):
    return posixpath.splitext(name.lower())[1] in TEXT_SUFFIXES or name in ("Dockerfile", "Makefile", "LICENSE")


@permission_required(VIEW, raise_exception=True)
def files(request, pk):
    node = _node(pk)
    try:
        path = services.clean_path(request.GET.get("path", ""))
    except services.NodeError:
        raise Http404
    page = max(1, int(request.GET.get("page", "1")) if request.GET.get("page", "1").isdigit() else 1)
    listing, error = None, None
    try:
        listing = agent.list_files(node, path, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    except agent.AgentError as exc:
        error = str(exc)
    entries = []
    if listing:
        for entry in listing["entries"]:
            entry = dict(entry)
            entry["path"] = f"{path}/{entry['name']}" if path else entry["name"]
            entry["text"] = entry["type"] == "file" and _is_text(entry["name"])
            entry["modified"] = datetime.fromtimestamp(entry["mtime"], tz=dt_timezone.utc) if entry.get("mtime") else None
            entries.append(entry)
    total = listing["total"] if listing else 0
    other_nodes = [n for n in list(services.nodes_of(node.cluster) if node.cluster_id else [])
                   + list(services.registered_nodes()) if n.has_agent and n.pk != node.pk]
    context = {
        "node": node, "path": path, "parent": posixpath.dirname(path), "crumbs": _breadcrumbs(path),
        "entries": entries, "error": error, "page": page, "total": total,
        "pages": max(1, -(-total // PAGE_SIZE)), "has_next": page * PAGE_SIZE < total,
        "other_nodes": other_nodes, "default_keep": "\n".join(DEFAULT_KEEP),
        "operations": Operation.objects.filter(action="node.copy", actor=request.user)[:5],
    }
    return render(request, "nodes/files.html", context)


@permission_required(VIEW, raise_exception=True)
def preview(request, pk):
    node = _node(pk)
    path = services.clean_path(request.GET.get("path", ""))
    limit = settings.FILE_PREVIEW_MAX_BYTES
    text, error, truncated, size = "", None, False, None
    try:
        response = agent.open_file(node, path, byte_range=f"bytes=0-{limit - 1}")
        try:
            content_range = response.headers.get("Content-Range", "")
            size = int(content_range.rsplit("/", 1)[1]) if "/" in content_range else None
            data = b""
            for piece in response.iter_content(agent.CHUNK):
                data += piece
                if len(data) >= limit:
                    break
        finally:
            response.close()
        truncated = size is not None and size > limit
        text = data[:limit].decode("utf-8", errors="replace")
    except agent.AgentError as exc:
        if exc.status == 416:  # an empty file has no byte 0
            text = ""
        else:
            error = str(exc)
    return render(request, "nodes/preview.html", {
        "node": node, "path": path, "parent": posixpath.dirname(path), "text": text, "error": error,
        "truncated": truncated, "size": size, "limit": limit,
    })


@permission_required(VIEW, raise_exception=True)
def download(request, pk):
    node = _node(pk)
    path = services.clean_path(request.GET.get("path", ""))
    try:
        response = services.open_download(Actor.from_request(request), node, path)
    except services.NodeError as exc:
        _error(request, exc)
        return redirect(reverse("nodes:browse", args=[node.pk]) + f"?path={posixpath.dirname(path)}")
    headers = {"Content-Disposition": content_disposition_header(True, posixpath.basename(path) or "download")}
    if response.headers.get("Content-Length"):
        headers["Content-Length"] = response.headers["Content-Length"]
    content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return streamed(request, response.iter_content(agent.CHUNK), response.close, content_type=content_type,
                    headers=headers)


def upload(request, pk):
    """The raw request body (PUT or POST) streamed to the agent: `?path=dir/name` for one file, or
    `?archive=1[&keep=…]` to replace the workspace with an archive. Answers JSON for the page's script.

    Served by the web server, nodes.streaming takes this route ahead of Django so the body is passed
    on as it arrives; this view serves the same request through Django (the test client, WSGI)."""
    if request.method not in ("PUT", "POST"):
        return HttpResponseNotAllowed(["PUT", "POST"])
    status, payload = upload_body(Actor.from_request(request), _node(pk), request.GET, request_chunks(request),
                                  request.META.get("CONTENT_LENGTH"), request.content_type)
    return JsonResponse(payload, status=status)


def upload_body(actor, node, query, chunks, length, content_type):
    """Stream an upload to the node's agent; (HTTP status, JSON payload) for the page's script."""
    archive = query.get("archive") == "1"
    keep = query.getlist("keep") if ("keep" in query or archive) else None
    if keep is not None:
        keep = [item for item in keep if item.strip()]
        if query.get("keep_default") == "1":
            keep = None
    try:
        result = services.upload(
            actor, node, path=query.get("path", ""), chunks=chunks,
            length=int(length) if length and str(length).isdigit() else None, archive=archive, keep=keep,
            fmt=query.get("format") or None, content_type=content_type or None,
        )
    except PermissionDenied as exc:
        return 403, {"error": str(exc)}
    except services.NodeError as exc:
        return 400, {"error": str(exc)}
    if archive:
        message = _("Archive unpacked: %(files)s files, %(bytes)s bytes.") % {
            "files": result.get("files"), "bytes": result.get("bytes")}
    else:
        message = _("Uploaded %(path)s.") % {"path": result.get("path", query.get("path", ""))}
    return 200, {"ok": True, "message": message, "result": result}


def _back_to(node, path):
    return redirect(reverse("nodes:browse", args=[node.pk]) + (f"?path={path}" if path else ""))


@require_POST
def delete(request, pk):
    node = _node(pk)
    path = request.POST.get("path", "")
    try:
        services.delete_path(Actor.from_request(request), node, path)
    except services.NodeError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("Deleted %(path)s.") % {"path": path})
    return _back_to(node, posixpath.dirname(path.strip("/")))


@require_POST
def mkdir(request, pk):
    node = _node(pk)
    parent = request.POST.get("parent", "")
    name = request.POST.get("name", "").strip()
    path = f"{parent}/{name}" if parent else name
    try:
        services.make_directory(Actor.from_request(request), node, path)
    except services.NodeError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("Folder %(path)s created.") % {"path": path})
    return _back_to(node, parent)


@require_POST
def clear(request, pk):
    node = _node(pk)
    keep = [line.strip() for line in request.POST.get("keep", "").splitlines() if line.strip()]
    try:
        result = services.clear_workspace(Actor.from_request(request), node, keep)
    except services.NodeError as exc:
        _error(request, exc)
    else:
        messages.success(request, _("Workspace cleared; kept: %(kept)s.") % {
            "kept": ", ".join(result.get("kept") or []) or _("nothing")})
    return _back_to(node, "")


@require_POST
def copy(request, pk):
    source = _node(pk)
    destination_pk = request.POST.get("destination", "")
    if not destination_pk.isdigit():
        messages.error(request, _("Choose the node to copy to."))
        return _back_to(source, posixpath.dirname(request.POST.get("path", "")))
    destination = _node(destination_pk)
    path = request.POST.get("path", "")
    try:
        operation = services.copy_path(Actor.from_request(request), source, path, destination,
                                       request.POST.get("destination_path", ""))
    except services.NodeError as exc:
        _error(request, exc)
    else:
        messages.info(request, _("Copying %(what)s; the progress shows below.") % {"what": operation.target})
    return _back_to(source, posixpath.dirname(path.strip("/")))


# ---------------------------------------------------------------- runs


@require_POST
def run_start(request, pk):
    node = _node(pk)
    form = RunForm(request.POST)
    if not form.is_valid():
        authorize(Actor.from_request(request), "portal.operate_workloads", "node.run", node.name,
                  cluster=node.cluster_label)
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("nodes:detail", node.pk)
    try:
        run = services.start_run(Actor.from_request(request), node, form.cleaned_data["command"],
                                 cwd=form.cleaned_data["cwd"], env=form.cleaned_data["env"])
    except services.NodeError as exc:
        _error(request, exc)
        return redirect("nodes:detail", node.pk)
    return redirect("nodes:run", run.pk)


@permission_required(VIEW, raise_exception=True)
def runs(request):
    form = RunFilterForm(request.GET or None)
    queryset = Run.objects.all()
    if form.is_valid():
        data = form.cleaned_data
        if data["node"]:
            queryset = queryset.filter(node_name__icontains=data["node"])
        if data["user"]:
            queryset = queryset.filter(user_name__icontains=data["user"])
        if data["state"]:
            queryset = queryset.filter(state=data["state"])
        if data["since"]:
            queryset = queryset.filter(created_at__gte=datetime.combine(data["since"], dtime.min, dt_timezone.utc))
        if data["until"]:
            queryset = queryset.filter(created_at__lte=datetime.combine(data["until"], dtime.max, dt_timezone.utc))
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "nodes/runs.html", {"form": form, "page": page, "query": query.urlencode()})


@permission_required(VIEW, raise_exception=True)
def run_detail(request, pk):
    run = get_object_or_404(Run.objects.select_related("node"), pk=pk)
    return render(request, "nodes/run.html", {"run": run})


@require_POST
def run_interrupt(request, pk):
    run = get_object_or_404(Run.objects.select_related("node__cluster__agent_config"), pk=pk)
    try:
        services.interrupt_run(Actor.from_request(request), run)
    except services.NodeError as exc:
        _error(request, exc)
    else:
        messages.info(request, _("Interrupt sent to run %(run)s.") % {"run": run.pk})
    if request.htmx:
        run.refresh_from_db()
        return render(request, "nodes/_run_state.html", {"run": run})
    return redirect("nodes:run", run.pk)


@require_POST
def run_rerun(request, pk):
    run = get_object_or_404(Run.objects.select_related("node__cluster__agent_config"), pk=pk)
    try:
        new = services.rerun(Actor.from_request(request), run)
    except services.NodeError as exc:
        _error(request, exc)
        return redirect("nodes:run", run.pk)
    return redirect("nodes:run", new.pk)


@permission_required(VIEW, raise_exception=True)
def run_log(request, pk):
    """The whole log: the portal's copy once the run has finished, else read from the agent."""
    run = get_object_or_404(Run.objects.select_related("node__cluster__agent_config"), pk=pk)
    headers = {"Content-Disposition": content_disposition_header(True, f"run-{run.pk}.log")}
    if run.finished or not run.agent_run_id or run.node is None:
        handle = logstore.open_log(run)
        if handle is None:
            return StreamingHttpResponse(iter([b""]), content_type="text/plain; charset=utf-8", headers=headers)
        headers["Content-Length"] = str(logstore.size(run))
        return streamed(request, iter(lambda: handle.read(agent.CHUNK), b""), handle.close,
                        content_type="text/plain; charset=utf-8", headers=headers)

    def from_agent():
        offset = 0
        while True:
            piece = agent.read_log(run.node, run.agent_run_id, offset=offset, limit=4 * agent.CHUNK)
            if not piece.data:
                return
            offset = piece.next_offset
            yield piece.data
            if offset >= piece.size:
                return

    return streamed(request, from_agent(), lambda: None, content_type="text/plain; charset=utf-8", headers=headers)
