from datetime import datetime, time

from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from clusters.models import Cluster

from .forms import AuditFilterForm
from .models import AuditEvent
from .roles import VIEW


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """For load balancers and probes: the database answers. Says nothing else."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@permission_required(VIEW, raise_exception=True)
def dashboard(request):
    return render(request, "portal/dashboard.html", {"clusters": Cluster.objects.all()})


@permission_required(VIEW, raise_exception=True)
def audit_log(request):
    form = AuditFilterForm(request.GET or None)
    events = AuditEvent.objects.all()
    if form.is_valid():
        data = form.cleaned_data
        for field in ("actor_name", "action", "target", "cluster"):
            if data.get(field):
                events = events.filter(**{f"{field}__icontains": data[field]})
        if data.get("outcome"):
            events = events.filter(outcome=data["outcome"])
        if data.get("since"):
            events = events.filter(created_at__gte=_start_of(data["since"]))
        if data.get("until"):
            events = events.filter(created_at__lt=_start_of(data["until"]) + timezone.timedelta(days=1))
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    template = "portal/_audit_table.html" if request.htmx else "portal/audit.html"
    return render(request, template, {"form": form, "page": page, "query": query.urlencode()})


def _start_of(day):
    return timezone.make_aware(datetime.combine(day, time.min))
