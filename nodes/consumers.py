"""The live run log: `/ws/runs/<pk>/log/?offset=N` sends the log from byte N as JSON messages

    {"offset": <byte offset after this text>, "text": "..."}      (batched, in order)
    {"end": true, "state": "succeeded", "offset": N}               (the log is complete)
    {"error": "a sentence", "offset": N}                           (the client reconnects from N)

After "end" or "error" the client closes the socket (and reconnects if the state was "queued" or
"ending", i.e. the run has not started yet or the portal has not yet recorded its end).

The log is followed from the agent (`/v1/runs/<id>/log/stream?offset=`) in a thread, or read from the
portal's copy once the run has finished. Offsets count bytes and only ever fall on whole UTF-8
characters, so a client that reconnects with its last offset gets no gap and no duplicate.
"""

import asyncio
import codecs
import json
import threading
from urllib.parse import parse_qs

from channels.db import database_sync_to_async

from portal.consumers import PermissionConsumer

from . import agent, logstore
from .models import Run

# Fragments are sent as soon as bytes arrive, but no more often than this (seconds): under a flood
# many small chunks become one message.
MIN_SEND_INTERVAL = 0.02
MAX_MESSAGE_BYTES = 256 * 1024
CLOSE_AFTER_END = 120


class RunLogConsumer(PermissionConsumer):
    run = None

    async def object_allowed(self):
        pk = self.scope["url_route"]["kwargs"]["pk"]
        self.run = await database_sync_to_async(
            lambda: Run.objects.select_related("node__cluster__agent_config").filter(pk=pk).first())()
        return self.run is not None

    async def opened(self):
        query = parse_qs(self.scope.get("query_string", b"").decode())
        try:
            self.offset = max(0, int(query.get("offset", ["0"])[0]))
        except ValueError:
            self.offset = 0
        self.follower = None
        self.queue = asyncio.Queue()
        self.task = asyncio.ensure_future(self.relay())

    async def disconnect(self, code):
        if getattr(self, "follower", None) is not None:
            self.follower.close()
        task = getattr(self, "task", None)
        if task is not None:
            task.cancel()

    # ------------------------------------------------------------ reading (in a thread)

    def produce(self, loop):
        """Thread: put ("data", bytes) items, then ("end", state) or ("error", message)."""
        put = lambda item: loop.call_soon_threadsafe(self.queue.put_nowait, item)  # noqa: E731
        offset = self.offset
        try:
            run = Run.objects.select_related("node__cluster__agent_config").get(pk=self.run.pk)
            if not run.finished and run.agent_run_id and run.node is not None:
                self.follower = agent.LogFollower(run.node, run.agent_run_id, offset)
                try:
                    for piece in self.follower:
                        offset += len(piece)
                        put(("data", piece))
                    if self.follower.closed:
                        return
                except agent.AgentError as exc:
                    if self.follower.closed:
                        return
                    run.refresh_from_db()
                    if not run.finished:
                        put(("error", str(exc)))
                        return
                run.refresh_from_db()
                # The agent's stream ended with the run; wait briefly for the portal's bookkeeping.
                if not run.finished:
                    put(("end", "ending"))
                    return
            if run.state == Run.State.QUEUED or (not run.finished and not run.agent_run_id):
                put(("end", run.state))
                return
            # Finished: serve what the portal copied (all of it, once the run has finished).
            handle = logstore.open_log(run)
            if handle is not None:
                with handle:
                    handle.seek(offset)
                    while not getattr(self.follower, "closed", False):
                        piece = handle.read(agent.CHUNK)
                        if not piece:
                            break
                        offset += len(piece)
                        put(("data", piece))
            put(("end", run.state))
        except Exception as exc:  # noqa: BLE001 - the page must hear of it, then reconnect
            put(("error", str(exc)))
        finally:
            from django.db import connection

            connection.close()

    # ------------------------------------------------------------ sending (on the event loop)

    async def relay(self):
        loop = asyncio.get_running_loop()
        thread = threading.Thread(target=self.produce, args=(loop,), daemon=True, name=f"run-log-{self.run.pk}")
        thread.start()
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        sent_offset = self.offset
        received = self.offset
        while True:
            kind, value = await self.queue.get()
            pieces, final = [], None
            while True:
                if kind == "data":
                    pieces.append(value)
                    received += len(value)
                else:
                    final = (kind, value)
                    break
                if self.queue.empty() or sum(map(len, pieces)) >= MAX_MESSAGE_BYTES:
                    break
                kind, value = self.queue.get_nowait()
            if pieces:
                text = decoder.decode(b"".join(pieces), final=final is not None and final[0] == "end")
                pending = len(decoder.getstate()[0])
                offset = received - pending
                if text:
                    await self.send(text_data=json.dumps({"offset": offset, "text": text}))
                    sent_offset = offset
            if final is not None:
                kind, value = final
                if kind == "end":
                    await self.send(text_data=json.dumps({"end": True, "state": value, "offset": sent_offset}))
                else:
                    await self.send(text_data=json.dumps({"error": value, "offset": sent_offset}))
                # The client closes once it has read everything: closing here would start the close
                # handshake while megabytes may still be queued for a slow reader, and its timeout
                # would cut them off. A client that never closes is let go after a while.
                await asyncio.sleep(CLOSE_AFTER_END)
                await self.close()
                return
            await asyncio.sleep(MIN_SEND_INTERVAL)
