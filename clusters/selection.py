"""The current cluster: chosen in the navigation's switch, kept in the session, followed by every page."""

from .models import Cluster

SESSION_KEY = "current_cluster"


def current_cluster(request):
    """The cluster `?cluster=<pk>` names, else the one chosen in the switch, else the first one."""
    for candidate in (request.GET.get("cluster"), request.session.get(SESSION_KEY)):
        if candidate and str(candidate).isdigit():
            cluster = Cluster.objects.filter(pk=int(candidate)).first()
            if cluster:
                return cluster
    return Cluster.objects.first()


def choose_cluster(request, cluster):
    request.session[SESSION_KEY] = cluster.pk
