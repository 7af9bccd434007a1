"""Celery tasks: start runs and follow them to the end (copying their logs), copy files between nodes,
sample node usage. Each pushes its changes live (portal.live)."""

import logging
from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from clusters.tasks import operation_running, publish_operation
from portal import live
from portal.audit import ERROR, OK, Actor, record
from portal.errors import UserFacingError

from . import agent, logstore, services
from .models import Node, Run

log = logging.getLogger(__name__)

AGENT_FINISHED = {"succeeded": Run.State.SUCCEEDED, "failed": Run.State.FAILED,
                  "interrupted": Run.State.INTERRUPTED, "lost": Run.State.LOST}


# What the tasks write: never interrupt_requested_at, which a request may set meanwhile.
TASK_FIELDS = ["state", "message", "agent_run_id", "exit_code", "started_at", "ended_at", "log_size", "log_file",
               "synced_at", "unreachable_since"]


def publish_run(run):
    live.notify_template(live.group_name("run", run.pk), "nodes/_run_state.html", {"run": run, "oob": True})


def _parse_time(value):
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _load(run_id):
    return Run.objects.select_related("node__cluster__agent_config").filter(pk=run_id).first()


def _finish(run, state, message=""):
    run.state = state
    run.message = message or run.message
    run.ended_at = run.ended_at or timezone.now()
    run.save(update_fields=TASK_FIELDS)
    actor = Actor.from_ids(run.user_id, run.client_ip)
    record(actor, "node.run.result", f"{run.node_name}: {run.command}"[:255], cluster=run.cluster_name,
           outcome=OK if state == Run.State.SUCCEEDED else ERROR, message=run.message,
           detail={"run": run.pk, "state": state, "exit_code": run.exit_code, "log_size": run.log_size,
                   "log_file": run.log_file})
    publish_run(run)


@shared_task
def start_run(run_id):
    run = _load(run_id)
    if run is None or run.state != Run.State.QUEUED:
        return
    if run.interrupt_requested_at:
        _finish(run, Run.State.INTERRUPTED, _("Interrupted before it started."))
        return
    if run.node is None:
        _finish(run, Run.State.ERROR, _("The node is no longer known to the portal."))
        return
    logstore.reset(run)
    try:
        started = agent.start_run(run.node, run.command, cwd=run.cwd, env=run.env)
    except agent.AgentError as exc:
        _finish(run, Run.State.ERROR, str(exc))
        return
    run.agent_run_id = started["id"]
    run.state = Run.State.RUNNING
    run.started_at = _parse_time(started.get("started_at")) or timezone.now()
    run.synced_at = timezone.now()
    run.save(update_fields=TASK_FIELDS)
    publish_run(run)
    sync_run.apply_async((run.pk,), countdown=settings.RUN_SYNC_SECONDS)


def _copy_log(run):
    """Copy the log bytes the portal does not have yet; returns the agent's view of the log."""
    while True:
        piece = agent.read_log(run.node, run.agent_run_id, offset=run.log_size, limit=4 * agent.CHUNK)
        if piece.data:
            logstore.write_at(run, run.log_size, piece.data)
            run.log_size += len(piece.data)
        if not piece.data or run.log_size >= piece.size:
            return piece


@shared_task
def sync_run(run_id):
    """Copy an active run's new log bytes and state from its agent; finish it when it has ended.

    Re-queues itself every RUN_SYNC_SECONDS while the run is active. Marks the run lost when the
    agent has been unreachable for RUN_LOST_AFTER_SECONDS or no longer knows it; the copied log stays.
    """
    run = _load(run_id)
    if run is None or run.state != Run.State.RUNNING:
        return
    now = timezone.now()
    try:
        if run.node is None:
            raise agent.AgentError(_("The node is no longer known to the portal."), status=404, code="not_found")
        status = agent.run_status(run.node, run.agent_run_id)
        _copy_log(run)
    except agent.AgentError as exc:
        if exc.status == 404 and exc.code == "not_found":
            run.save(update_fields=TASK_FIELDS)
            _finish(run, Run.State.LOST, _("The agent no longer knows this run: %(error)s") % {"error": exc})
            return
        run.unreachable_since = run.unreachable_since or now
        run.message = str(exc)
        run.synced_at = now
        if now - run.unreachable_since >= timedelta(seconds=settings.RUN_LOST_AFTER_SECONDS):
            run.save(update_fields=TASK_FIELDS)
            _finish(run, Run.State.LOST, _("The agent disappeared; the log is kept up to %(size)s bytes. (%(error)s)")
                    % {"size": run.log_size, "error": exc})
            return
        run.save(update_fields=TASK_FIELDS)
        publish_run(run)
        sync_run.apply_async((run.pk,), countdown=settings.RUN_SYNC_SECONDS)
        return
    was_unreachable = run.unreachable_since is not None
    run.unreachable_since = None
    run.synced_at = now
    state = AGENT_FINISHED.get(status.get("state"))
    if state is not None:
        run.exit_code = status.get("exit_code")
        run.ended_at = _parse_time(status.get("ended_at")) or now
        message = ""
        if status.get("signal"):
            message = _("Ended by signal %(signal)s.") % {"signal": status["signal"]}
        run.message = message
        _finish(run, state)
        return
    if was_unreachable:
        run.message = ""
    run.save(update_fields=TASK_FIELDS)
    if was_unreachable:
        publish_run(run)
    sync_run.apply_async((run.pk,), countdown=settings.RUN_SYNC_SECONDS)


@shared_task
def sync_active_runs():
    """Beat: restart the follow-up of active runs whose sync chain was lost (a worker died)."""
    stale = timezone.now() - timedelta(seconds=max(3 * settings.RUN_SYNC_SECONDS, 30))
    for run_id in Run.objects.filter(state=Run.State.RUNNING).filter(
            Q(synced_at__lt=stale) | Q(synced_at__isnull=True)).values_list("pk", flat=True):
        sync_run.delay(run_id)


@shared_task
def sample_nodes():
    """Beat: one usage sample of every node with an agent; prune samples past the retention."""
    nodes = Node.objects.exclude(status__in=[Node.Status.GONE, Node.Status.MISSING]).select_related(
        "cluster__agent_config")
    taken, pruned = services.sample_usage([n for n in nodes if n.has_agent])
    return {"samples": taken, "pruned": pruned}


# ---------------------------------------------------------------- artifact hand-off


def _walk(node, path):
    """(files, folders) under a workspace folder, paging through big listings."""
    files, folders, pending = [], [], [path]
    while pending:
        folder = pending.pop()
        offset = 0
        while True:
            listing = agent.list_files(node, folder, offset=offset, limit=1000)
            for entry in listing["entries"]:
                child = f"{folder}/{entry['name']}" if folder else entry["name"]
                if entry["type"] == "dir":
                    folders.append(child)
                    pending.append(child)
                elif entry["type"] == "file":
                    files.append((child, entry.get("size") or 0))
            offset += len(listing["entries"])
            if not listing["entries"] or offset >= listing.get("total", 0):
                break
    return files, folders


@shared_task
def copy_between_nodes(operation_id, source_id, path, destination_id, destination_path):
    """Stream a file (or every file of a folder) agent → portal → agent, with progress."""
    with operation_running(operation_id) as operation:
        source = Node.objects.select_related("cluster__agent_config").get(pk=source_id)
        destination = Node.objects.select_related("cluster__agent_config").get(pk=destination_id)
        try:
            try:
                agent.list_files(source, path, limit=1)
                is_folder = True
            except agent.AgentError as exc:
                if exc.code != "not_a_directory":
                    raise
                is_folder = False
            if is_folder:
                files, folders = _walk(source, path)
                agent.make_directory(destination, destination_path)
                for folder in folders:
                    agent.make_directory(destination, destination_path + folder[len(path):])
                pairs = [(f, destination_path + f[len(path):], size) for f, size in files]
            else:
                pairs = [(path, destination_path, None)]
            total = sum(size or 0 for _f, _d, size in pairs)
            done = 0
            last_shown = -1
            for source_file, destination_file, _size in pairs:
                response = agent.open_file(source, source_file)
                try:
                    length = int(response.headers.get("Content-Length") or 0) or None
                    if len(pairs) == 1:
                        total = length or 0

                    def chunks(response=response):
                        nonlocal done, last_shown
                        for piece in response.iter_content(agent.CHUNK):
                            done += len(piece)
                            progress = int(done * 100 / total) if total else None
                            if progress is not None and progress >= last_shown + 5:
                                last_shown = progress
                                operation.progress = min(progress, 100)
                                operation.save(update_fields=["progress"])
                                publish_operation(operation)
                            yield piece

                    agent.upload_file(destination, destination_file, chunks(), length=length)
                finally:
                    response.close()
        except agent.AgentError as exc:
            raise UserFacingError(str(exc)) from exc
        operation.progress = 100
        operation.message = _("Copied %(files)s file(s), %(bytes)s bytes.") % {"files": len(pairs), "bytes": done}
        operation.results = [{"object": dest, "ok": True, "message": _("copied")} for _s, dest, _z in pairs[:50]]
