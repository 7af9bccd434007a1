from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from clusters import kube
from clusters.models import Cluster
from clusters.rows import events_warnings_first, pod_row
from clusters.selection import current_cluster
from portal.audit import Actor
from portal.roles import VIEW

from . import services
from .forms import JobForm, QueueForm, TemplateForm, YamlSubmitForm, as_yaml, template_initial
from .models import PHASES, JobAction, JobSubmission, JobTemplate
from .summaries import podgroup_of, summarize_job, summarize_queue
from .volcano_schema import check_vcjob

REFRESH_SECONDS = 10


def _initial_cluster(request):
    cluster = current_cluster(request)
    return {"cluster": cluster.pk} if cluster else {}


# ---------------------------------------------------------------- jobs list and detail


@permission_required(VIEW, raise_exception=True)
def job_list(request):
    cluster = current_cluster(request)
    namespace = request.GET.get("namespace", "")
    context = {"cluster": cluster, "namespace": namespace, "refresh_seconds": REFRESH_SECONDS, "error": None,
               "job_rows": []}
    if cluster is not None:
        try:
            jobs = [summarize_job(job) for job in kube.list_vcjobs(cluster, namespace or None)]
            query = request.GET.get("q", "").strip().lower()
            phase = request.GET.get("phase", "")
            jobs = sorted(
                (job for job in jobs if query in job.name.lower() and (not phase or job.phase == phase)),
                key=lambda job: (job.created_at is None, -(job.created_at.timestamp() if job.created_at else 0)))
            submitted = {row.uid: row for row in JobSubmission.objects.filter(
                cluster=cluster, uid__in=[job.uid for job in jobs]).exclude(uid="")}
            context["job_rows"] = [(job, submitted.get(job.uid)) for job in jobs]
            if not request.htmx:
                context["namespaces"] = kube.list_namespaces(cluster)
        except kube.KubeError as exc:
            context["error"] = str(exc)
    context["phases"] = PHASES
    return render(request, "jobs/_jobs_table.html" if request.htmx else "jobs/list.html", context)


@permission_required(VIEW, raise_exception=True)
def job_detail(request, cluster_pk, namespace, name):
    cluster = get_object_or_404(Cluster, pk=cluster_pk)
    context = {"cluster": cluster, "namespace": namespace, "name": name, "error": None, "job": None}
    context["submissions"] = JobSubmission.objects.filter(cluster=cluster, namespace=namespace, name=name,
                                                          kind="Job").order_by("-created_at")[:5]
    try:
        raw = kube.get_vcjob(cluster, namespace, name)
    except kube.KubeError as exc:
        context["error"] = (_("The Volcano job %(namespace)s/%(name)s is not in cluster %(cluster)s (any more).")
                            % {"namespace": namespace, "name": name, "cluster": cluster.name}
                            if exc.status == 404 else str(exc))
        return render(request, "jobs/detail.html", context, status=404 if exc.status == 404 else 200)
    job = summarize_job(raw)
    context.update(job=job, raw=raw, tasks=raw["spec"].get("tasks") or [],
                   conditions=(raw.get("status") or {}).get("conditions") or [],
                   actions=JobAction.objects.filter(cluster=cluster, uid=job.uid)[:20])
    try:
        context["podgroup"] = podgroup_of(raw, kube.list_podgroups(cluster, namespace))
        context["pods"] = sorted((pod_row(pod) for pod in kube.list_job_pods(cluster, namespace, name)),
                                 key=lambda row: row.name)
        context["events"] = events_warnings_first(
            kube.list_events(cluster, namespace, kind="Job", name=name)
            + (kube.list_events(cluster, namespace, kind="PodGroup", name=context["podgroup"]["metadata"]["name"])
               if context["podgroup"] else []))
    except kube.KubeError as exc:
        context["error"] = str(exc)
    return render(request, "jobs/detail.html", context)


@require_POST
def job_action(request, cluster_pk, namespace, name, action):
    cluster = get_object_or_404(Cluster, pk=cluster_pk)
    if action not in services.JOB_COMMANDS:
        raise Http404
    job_action = services.act_on_job(Actor.from_request(request), cluster, namespace, name, action)
    if request.htmx:
        return render(request, "jobs/_action_live.html", {"job_action": job_action})
    messages.info(request, _("%(action)s of %(namespace)s/%(name)s requested.")
                  % {"action": job_action.get_action_display().capitalize(), "namespace": namespace, "name": name})
    return redirect("jobs:detail", cluster.pk, namespace, name)


# ---------------------------------------------------------------- submitting


@permission_required(VIEW, raise_exception=True)
def submit(request):
    """The job form and the YAML box, side by side; a template (?template=<pk>) fills the form."""
    initial = _initial_cluster(request)
    template = None
    if request.GET.get("template", "").isdigit():
        template = get_object_or_404(JobTemplate, pk=request.GET["template"])
        initial.update(template_initial(template))
    form = JobForm(initial=initial)
    return render(request, "jobs/submit.html", {
        "form": form, "yaml_form": YamlSubmitForm(initial=_initial_cluster(request)),
        "templates": JobTemplate.objects.all(), "template": template, "template_form": TemplateForm(),
        "preview": _preview(JobForm(data=initial)) if template else None,
    })


def _preview(form):
    """(yaml, problems) of what the form would submit; problems are the same checks a submission runs."""
    if not form.is_valid():
        return None
    manifest = form.manifest()
    return {"yaml": as_yaml(manifest), "problems": [message for _path, message in check_vcjob(manifest)]}


@require_POST
@permission_required(VIEW, raise_exception=True)
def preview(request):
    form = JobForm(request.POST)
    return render(request, "jobs/_preview.html", {"form": form, "preview": _preview(form)})


@require_POST
@permission_required(VIEW, raise_exception=True)
def submit_form(request):
    form = JobForm(request.POST)
    if not form.is_valid():
        return render(request, "jobs/submit.html", {
            "form": form, "yaml_form": YamlSubmitForm(initial=_initial_cluster(request)),
            "templates": JobTemplate.objects.all(), "template_form": TemplateForm(), "preview": None,
        }, status=400)
    batch = services.submit_manifest(Actor.from_request(request), form.cleaned_data["cluster"],
                                     as_yaml(form.manifest()), namespace=form.cleaned_data["namespace"],
                                     source=JobSubmission.Source.FORM)
    return redirect("jobs:batch", batch)


@require_POST
@permission_required(VIEW, raise_exception=True)
def submit_yaml(request):
    form = YamlSubmitForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "jobs/submit.html", {
            "form": JobForm(initial=_initial_cluster(request)), "yaml_form": form, "yaml_open": True,
            "templates": JobTemplate.objects.all(), "template_form": TemplateForm(), "preview": None,
        }, status=400)
    try:
        batch = services.submit_manifest(Actor.from_request(request), form.cleaned_data["cluster"],
                                         form.cleaned_data["manifest"], namespace=form.cleaned_data["namespace"])
    except services.JobsError as exc:
        messages.error(request, str(exc))
        return redirect("jobs:submit")
    return redirect("jobs:batch", batch)


@require_POST
@permission_required(VIEW, raise_exception=True)
def template_save(request):
    form, template_form = JobForm(request.POST), TemplateForm(request.POST)
    if not (form.is_valid() and template_form.is_valid()):
        for errors in list(form.errors.values()) + list(template_form.errors.values()):
            messages.error(request, " ".join(errors))
        return redirect("jobs:submit")
    template = services.save_template(Actor.from_request(request), template_form.cleaned_data["template_name"],
                                      form.template_values(), template_form.cleaned_data["description"])
    messages.success(request, _("Template %(name)s saved.") % {"name": template.name})
    return redirect(f"{reverse('jobs:submit')}?template={template.pk}")


@permission_required(VIEW, raise_exception=True)
def batch(request, batch):
    rows = list(JobSubmission.objects.filter(batch=batch).order_by("position"))
    if not rows:
        raise Http404
    # Until the worker has sent them, the page also polls: a push before its socket opened is not lost.
    waiting = any(row.result == JobSubmission.Result.QUEUED for row in rows)
    return render(request, "jobs/batch.html", {"rows": rows, "first": rows[0], "waiting": waiting})


# ---------------------------------------------------------------- history


@permission_required(VIEW, raise_exception=True)
def history(request):
    """Every submission made through the portal; the user's own unless ?who=all."""
    rows = JobSubmission.objects.select_related("cluster")
    who = request.GET.get("who", "")
    if who != "all":
        rows = rows.filter(user=request.user)
    for field in ("name", "namespace", "cluster_name"):
        if request.GET.get(field):
            rows = rows.filter(**{f"{field}__icontains": request.GET[field]})
    if request.GET.get("result"):
        rows = rows.filter(result=request.GET["result"])
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "jobs/history.html", {"page": page, "who": who, "query": query.urlencode(),
                                                 "results": JobSubmission.Result.choices})


@permission_required(VIEW, raise_exception=True)
def submission(request, pk):
    row = get_object_or_404(JobSubmission, pk=pk)
    return render(request, "jobs/submission.html", {
        "row": row, "manifest_yaml": as_yaml(row.manifest) if row.manifest is not None else row.text,
        "actions": row.actions.all() if row.pk else [],
        "siblings": JobSubmission.objects.filter(batch=row.batch).exclude(pk=row.pk).order_by("position"),
    })


# ---------------------------------------------------------------- queues


@permission_required(VIEW, raise_exception=True)
def queue_list(request):
    cluster = current_cluster(request)
    context = {"cluster": cluster, "error": None, "queues": [], "refresh_seconds": REFRESH_SECONDS,
               "show_namespace_filter": False}
    if cluster is not None:
        try:
            query = request.GET.get("q", "").strip().lower()
            context["queues"] = sorted((summarize_queue(queue) for queue in kube.list_queues(cluster)
                                        if query in queue["metadata"]["name"]), key=lambda queue: queue.name)
        except kube.KubeError as exc:
            context["error"] = str(exc)
    if request.htmx:
        return render(request, "jobs/_queues_table.html", context)
    context["form"] = QueueForm(initial=_initial_cluster(request))
    return render(request, "jobs/queues.html", context)


@require_POST
def queue_create(request):
    form = QueueForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
        return redirect("jobs:queues")
    cluster = form.cleaned_data["cluster"]
    try:
        services.create_queue(Actor.from_request(request), cluster, form.manifest())
    except services.JobsError as exc:
        messages.error(request, str(exc))
    else:
        messages.info(request, _("Creating queue %(name)s.") % {"name": form.cleaned_data["name"]})
    return redirect(f"{reverse('jobs:queues')}?cluster={cluster.pk}")


@require_POST
def queue_action(request, cluster_pk, name, action):
    cluster = get_object_or_404(Cluster, pk=cluster_pk)
    if action not in (*services.QUEUE_COMMANDS, "delete"):
        raise Http404
    try:
        services.act_on_queue(Actor.from_request(request), cluster, name, action)
    except services.JobsError as exc:
        messages.error(request, str(exc))
    else:
        messages.info(request, {"open": _("Opening queue %(name)s."), "close": _("Closing queue %(name)s."),
                                "delete": _("Deleting queue %(name)s.")}[action] % {"name": name})
    return redirect(f"{reverse('jobs:queues')}?cluster={cluster.pk}")

