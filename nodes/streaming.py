"""Uploads passed on browser → portal → agent as the bytes arrive.

Django's ASGI handler reads a whole request body (into a temporary file) before it calls a view, so
a 1 GiB archive would be received completely and only then sent on: half the throughput, and the
disk written twice. This ASGI app takes the upload route ahead of Django. It checks the session,
the CSRF token and the user with Django's own middleware, then hands each piece of the body to
nodes.views.upload_body (which authorizes, audits and forwards through nodes/agent.py) through a
small bounded queue: the browser is read no faster than the agent takes the bytes.
"""

import asyncio
import io
import json
import queue
import re

from channels.db import database_sync_to_async
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.handlers.asgi import ASGIRequest
from django.http import QueryDict
from django.middleware.csrf import CsrfViewMiddleware
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

UPLOAD_ROUTE = re.compile(r"^/nodes/(?P<pk>\d+)/files/upload/$")
PIECE_BYTES = 1024 * 1024
QUEUE_PIECES = 8  # at most this many pieces wait between the browser and the agent
END = object()


class ClientGone(Exception):
    pass


class StreamingUploadApp:
    """Serves PUT/POST on UPLOAD_ROUTE itself; everything else goes to `inner` (Django)."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        match = scope["type"] == "http" and scope["method"] in ("PUT", "POST") and UPLOAD_ROUTE.match(scope["path"])
        if not match:
            return await self.inner(scope, receive, send)
        request = ASGIRequest(scope, io.BytesIO())
        pieces = queue.Queue(maxsize=QUEUE_PIECES)
        forward = asyncio.ensure_future(
            database_sync_to_async(forward_upload, thread_sensitive=False)(request, int(match["pk"]), pieces))
        await feed(receive, pieces, forward)
        status, payload = await forward
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]})
        await send({"type": "http.response.body", "body": json.dumps(payload).encode()})


async def feed(receive, pieces, forward):
    """Read the body and queue it in pieces until it ends, the client goes, or `forward` stops."""
    buffer = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            await put(pieces, ClientGone(), forward)
            return
        buffer += message.get("body", b"")
        more = message.get("more_body", False)
        if len(buffer) >= PIECE_BYTES or not more:
            if buffer and not await put(pieces, bytes(buffer), forward):
                return
            buffer.clear()
        if not more:
            await put(pieces, END, forward)
            return


async def put(pieces, item, forward):
    """Queue an item, waiting while the queue is full; False when the forwarder has already stopped."""
    while not forward.done():
        try:
            pieces.put_nowait(item)
            return True
        except queue.Full:
            await asyncio.sleep(0.002)
    return False


def chunks_from(pieces):
    while True:
        item = pieces.get()
        if item is END:
            return
        if isinstance(item, ClientGone):
            raise item
        yield item


def forward_upload(request, pk, pieces):
    """In a worker thread: Django's checks, then nodes.views.upload_body reading from the queue."""
    try:
        return checked_upload(request, pk, pieces)
    finally:
        translation.deactivate()  # this thread serves other requests next


def checked_upload(request, pk, pieces):
    from nodes.models import Node
    from nodes.views import upload_body
    from portal.audit import ERROR, Actor, record

    SessionMiddleware(lambda r: None).process_request(request)
    AuthenticationMiddleware(lambda r: None).process_request(request)
    LocaleMiddleware(lambda r: None).process_request(request)
    csrf = CsrfViewMiddleware(lambda r: None)
    csrf.process_request(request)
    if not request.user.is_authenticated:
        return 401, {"error": translation.gettext("Log in first.")}
    if csrf.process_view(request, upload_body, (), {}) is not None:
        return 403, {"error": translation.gettext("The page is out of date (CSRF check failed): reload it.")}
    node = Node.objects.select_related("cluster__agent_config").filter(pk=pk).first()
    if node is None:
        return 404, {"error": translation.gettext("There is no such node.")}
    actor, query = Actor.from_request(request), QueryDict(request.META.get("QUERY_STRING", ""))
    try:
        return upload_body(actor, node, query, chunks_from(pieces), request.META.get("CONTENT_LENGTH"),
                           request.content_type)
    except ClientGone:
        message = translation.gettext("The upload was interrupted: the browser went away before the end.")
        action = "node.upload_archive" if query.get("archive") == "1" else "node.upload"
        record(actor, action, f"{node}:{query.get('path', '')}", outcome=ERROR, message=message)
        return 400, {"error": message}
