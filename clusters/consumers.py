import asyncio
import codecs
import json
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.utils import translation
from django.utils.translation import gettext as _

from portal.consumers import PermissionConsumer

from . import kube
from .models import Cluster

LOG_CHUNK_BYTES = 64 * 1024
MAX_TAIL_LINES = 100_000


class PodLogConsumer(PermissionConsumer):
    """Follows one container's log (`read_namespaced_pod_log(follow=True)`) into the page.

    Messages: {"type": "log", "text": ...} as output arrives, then {"type": "end", "message": ...}.
    The blocking HTTP read runs in a thread; closing the socket shuts the stream down.
    """

    async def object_allowed(self):
        kwargs = self.scope["url_route"]["kwargs"]
        self.cluster = await database_sync_to_async(Cluster.objects.filter(pk=kwargs["pk"]).first)()
        self.namespace, self.pod = kwargs["namespace"], kwargs["name"]
        return self.cluster is not None

    async def opened(self):
        self.stream = None
        self.follower = asyncio.create_task(self.follow())

    def options(self):
        query = {key: values[0] for key, values in parse_qs(self.scope.get("query_string", b"").decode()).items()}
        tail = query.get("tail", "")
        return {"container": query.get("container") or None,
                "tail_lines": min(int(tail), MAX_TAIL_LINES) if tail.isdigit() else 500}

    async def follow(self):
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        try:
            with translation.override(self.language):
                self.stream = await asyncio.to_thread(
                    kube.open_pod_log_stream, self.cluster, self.namespace, self.pod, **self.options())
            while True:
                chunk = await asyncio.to_thread(self.stream.read1, LOG_CHUNK_BYTES)
                if not chunk:
                    break
                await self.send(text_data=json.dumps({"type": "log", "text": decoder.decode(chunk)}))
            with translation.override(self.language):
                message = _("The container stopped: the log has ended.")
        except kube.KubeError as exc:
            message = str(exc)
        except Exception as exc:  # noqa: BLE001 - the page must learn why the stream stopped
            with translation.override(self.language):
                message = _("The log stream broke off: %(error)s") % {"error": exc}
        await self.send(text_data=json.dumps({"type": "end", "message": message}))
        await self.close()

    async def disconnect(self, code):
        if getattr(self, "stream", None) is not None:
            self.stream.shutdown()
        if getattr(self, "follower", None) is not None:
            self.follower.cancel()
