from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.apps import apps
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import get_supported_language_variant

from . import live
from .roles import VIEW

# Close codes in the 4000 range are the application's own: the page shows why it was closed.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404


def language_of(scope):
    """The page's language: the language cookie, as LocaleMiddleware would read it."""
    code = scope.get("cookies", {}).get(settings.LANGUAGE_COOKIE_NAME) or settings.LANGUAGE_CODE
    try:
        return get_supported_language_variant(code)
    except LookupError:
        return settings.LANGUAGE_CODE


class PermissionConsumer(AsyncWebsocketConsumer):
    """A websocket that only a logged-in user holding `permission` may open.

    Subclasses add `object_allowed()` for per-object checks and do their work in `opened()`.
    """

    permission = VIEW

    async def connect(self):
        self.language = language_of(self.scope)
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not await database_sync_to_async(user.has_perm)(self.permission):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        if not await self.object_allowed():
            await self.close(code=CLOSE_NOT_FOUND)
            return
        await self.before_accept()
        await self.accept()
        await self.opened()

    async def object_allowed(self):
        return True

    async def before_accept(self):
        """Join groups here: once the client sees the socket open, no update may be missed."""

    async def opened(self):
        pass


# kind in the URL -> the model whose rows may be watched.
LIVE_TOPICS = {
    "run": "nodes.Run",
    "node": "nodes.Node",
    "cluster": "clusters.Cluster",
    "jobsubmission": "jobs.JobSubmission",
    "vcjobs": "clusters.Cluster",
    "queues": "clusters.Cluster",
    "operation": "clusters.Operation",
}


# kind -> (template, context name): the object's current fragment, sent as soon as a socket opens,
# so an update that happened between the page's render and the socket's opening is not missed.
LIVE_SNAPSHOTS = {
    "cluster": ("clusters/_status_badge.html", "cluster"),
    "operation": ("clusters/_operation.html", "operation"),
    "jobsubmission": ("jobs/_submission_live.html", "row"),
}


class LiveGroupConsumer(PermissionConsumer):
    """Joins the group of one object (`/ws/live/<kind>/<pk>/`) and relays its fragments."""

    group = None

    async def object_allowed(self):
        kwargs = self.scope["url_route"]["kwargs"]
        model_label = LIVE_TOPICS.get(kwargs["kind"])
        if model_label is None:
            return False
        model = apps.get_model(model_label)
        exists = await database_sync_to_async(model.objects.filter(pk=kwargs["pk"]).exists)()
        if exists:
            self.group = live.group_name(kwargs["kind"], kwargs["pk"])
        return exists

    async def before_accept(self):
        await self.channel_layer.group_add(self.group, self.channel_name)

    async def opened(self):
        kwargs = self.scope["url_route"]["kwargs"]
        if kwargs["kind"] in LIVE_SNAPSHOTS:
            await self.send(text_data=await database_sync_to_async(self.snapshot)(kwargs["kind"], kwargs["pk"]))

    def snapshot(self, kind, pk):
        template, name = LIVE_SNAPSHOTS[kind]
        obj = apps.get_model(LIVE_TOPICS[kind]).objects.get(pk=pk)
        with translation.override(self.language):
            return render_to_string(template, {name: obj, "oob": True})

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def live_fragment(self, event):
        html = event["html"]
        if isinstance(html, dict):
            html = html.get(self.language) or html.get(settings.LANGUAGE_CODE) or next(iter(html.values()))
        await self.send(text_data=html)
