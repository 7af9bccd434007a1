from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from clusters.models import Cluster
from clusters.selection import current_cluster

# (label, url name). A section whose page is not built yet shows greyed out, not as a dead link.
NAVIGATION = [
    (_("Dashboard"), "dashboard"),
    (_("Clusters"), "clusters:list"),
    (_("Nodes"), "clusters:nodes"),
    (_("Pods"), "clusters:pods"),
    (_("Deployments"), "clusters:deployments"),
    (_("Services"), "clusters:services"),
    (_("Events"), "clusters:events"),
    (_("Images"), "clusters:images"),
    (_("Jobs"), "jobs:list"),
    (_("Queues"), "jobs:queues"),
    (_("Runs"), "nodes:runs"),
    (_("Files"), "nodes:files"),
    (_("Audit"), "audit"),
]


def navigation(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    items = []
    for label, url_name in NAVIGATION:
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            url = None
        items.append({"label": label, "url": url, "active": url is not None and request.path == url})
    if request.user.is_staff:
        items.append({"label": _("Admin"), "url": reverse("admin:index"), "active": False})
    return {"navigation": items, "all_clusters": Cluster.objects.all(), "current_cluster": current_cluster(request)}
