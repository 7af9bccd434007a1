"""The live run log over a real websocket (uvicorn), runs started by a real Celery worker on real agents:
resuming from an offset without gap or duplicate, several watchers, interrupt, and a lost agent."""

import json
import shlex
import sys

import pytest
import websocket
from django.core.files.storage import default_storage
from django.test import Client

from nodes.models import Node, Run
from nodes import services
from tests.support.agent_process import start_agent

from .conftest import RUN_PATH, TOKEN, add_agent_pod, wait_for

SCRIPT = ("import sys, time\n"
          "for i in range({n}):\n"
          "    print(f'\\x1b[32mline {{i}}\\x1b[0m ✓ ünïcode', flush=True)\n"
          "    time.sleep({pause})\n")


def session_cookie(user):
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def open_socket(live_portal, path, cookie):
    return websocket.create_connection(live_portal.replace("http", "ws", 1) + path, cookie=f"sessionid={cookie}",
                                       origin=live_portal, timeout=20)


def start(client, node, code):
    command = f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}"
    client.post(f"/nodes/{node.pk}/run/", {"command": command})
    run = Run.objects.order_by("-pk").first()
    return wait_for(lambda: (r := Run.objects.get(pk=run.pk)).state != "queued" and r, message="the run to start")


def read_log(socket, stop_after=None):
    """(text, last offset, end message) — stops after `stop_after` text messages if given."""
    text, offset, count = "", None, 0
    while True:
        message = json.loads(socket.recv())
        if "text" in message:
            text += message["text"]
            offset = message["offset"]
            count += 1
            if stop_after and count >= stop_after:
                return text, offset, None
        elif message.get("end") and message["state"] not in ("queued", "ending"):
            return text, offset, message
        elif message.get("end") or message.get("error"):
            return text, offset, message


@pytest.mark.django_db(transaction=True)
def test_reconnecting_resumes_without_gap_or_duplicate_and_several_people_watch(
        lab, live_portal, celery_worker, login, operator, viewer, settings):
    settings.RUN_SYNC_SECONDS = 0.2
    run = start(login(operator), lab.worker1, SCRIPT.format(n=400, pause=0.004))
    cookie = session_cookie(viewer)
    watcher = open_socket(live_portal, f"/ws/runs/{run.pk}/log/?offset=0", cookie)
    first = open_socket(live_portal, f"/ws/runs/{run.pk}/log/?offset=0", cookie)
    part1, offset, _end = read_log(first, stop_after=3)
    first.close()
    pieces = [part1]
    while True:  # reconnect from the last offset, until the log is complete
        again = open_socket(live_portal, f"/ws/runs/{run.pk}/log/?offset={offset}", cookie)
        more, new_offset, end = read_log(again)
        again.close()
        pieces.append(more)
        offset = new_offset if new_offset is not None else offset
        if end and end.get("end") and end["state"] not in ("queued", "ending"):
            break
    everyone, _o, _e = read_log(watcher)
    watcher.close()
    run = wait_for(lambda: (r := Run.objects.get(pk=run.pk)).finished and r, message="the run to finish")
    archived = default_storage.open(run.log_file).read().decode()
    assert archived.count("\n") == 400 and "line 399" in archived
    assert "".join(pieces) == archived
    assert everyone == archived


@pytest.mark.django_db(transaction=True)
def test_interrupt_changes_the_state_live(lab, live_portal, celery_worker, login, operator, settings):
    settings.RUN_SYNC_SECONDS = 0.2
    client = login(operator)
    run = start(client, lab.worker1, "import time\nwhile True:\n    print('tick', flush=True)\n    time.sleep(0.05)\n")
    cookie = session_cookie(operator)
    state = open_socket(live_portal, f"/ws/live/run/{run.pk}/", cookie)
    log = open_socket(live_portal, f"/ws/runs/{run.pk}/log/?offset=0", cookie)
    text, _offset, _end = read_log(log, stop_after=2)
    assert "tick" in text
    response = client.post(f"/nodes/runs/{run.pk}/interrupt/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    fragments = []
    while 'data-state="interrupted"' not in "".join(fragments):
        fragments.append(state.recv())
    state.close()
    _rest, _offset, end = read_log(log)
    log.close()
    run.refresh_from_db()
    assert run.state == "interrupted" and run.interrupt_requested_at and run.ended_at
    assert end.get("end") or end.get("error")


@pytest.mark.django_db(transaction=True)
def test_a_run_whose_agent_disappears_is_lost_with_its_log_kept(lab, celery_worker, login, operator, settings):
    settings.RUN_SYNC_SECONDS = 0.2
    settings.RUN_LOST_AFTER_SECONDS = 0.5
    with start_agent(token=TOKEN, env={"PATH": RUN_PATH}) as doomed:
        add_agent_pod(lab.api, "lab-control-plane", doomed.url, name="volcano-portal-agent-doomed")
        services.discover_nodes(lab.cluster)
        node = Node.objects.get(name="lab-control-plane")
        run = start(login(operator), node, SCRIPT.format(n=40, pause=0.05))
        wait_for(lambda: Run.objects.get(pk=run.pk).log_size > 0, message="some log")
        doomed.kill()
        run = wait_for(lambda: (r := Run.objects.get(pk=run.pk)).finished and r, message="the run to be lost")
    lab.api.delete("v1", "Pod", "volcano-portal-agent-doomed", "volcano-portal-agents")
    assert run.state == "lost" and "disappeared" in run.message
    kept = default_storage.open(run.log_file).read().decode()
    assert kept.startswith("\x1b[32mline 0") and len(kept.encode()) == run.log_size


@pytest.mark.django_db(transaction=True)
def test_log_sockets_need_a_role_and_a_known_run(live_portal, make_user):
    with pytest.raises(websocket.WebSocketBadStatusException):
        open_socket(live_portal, "/ws/runs/999/log/", session_cookie(make_user("nobody")))
    with pytest.raises(websocket.WebSocketBadStatusException):
        open_socket(live_portal, "/ws/runs/999/log/", session_cookie(make_user("vera", "viewer")))
