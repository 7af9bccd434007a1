import os
import sys
import time

import psutil
import requests

from tests.support.agent_process import start_agent

from .test_runs import in_group, living

PY = sys.executable


def _api(agent, method, path, **kwargs):
    return requests.request(method, agent.url + path, headers=agent.headers, timeout=10, **kwargs)


def _wait_for_output(agent, run_id, text: bytes):
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if text in _api(agent, "GET", f"/v1/runs/{run_id}/log").content:
            return
        time.sleep(0.05)
    raise AssertionError(f"{text!r} never appeared in the log of {run_id}")


def test_agent_killed_during_a_run(tmp_path):
    workspace, state = str(tmp_path / "ws"), str(tmp_path / "state")
    first = start_agent(workspace=workspace, state_dir=state)
    orphans = []
    try:
        finished = _api(first, "POST", "/v1/runs", json={"command": "echo finished before the crash"}).json()
        while _api(first, "GET", f"/v1/runs/{finished['id']}").json()["state"] == "running":
            time.sleep(0.05)
        code = "import time; print('epoch 1', flush=True); time.sleep(120)"
        active = _api(first, "POST", "/v1/runs", json={"command": f"{PY} -c \"{code}\""}).json()
        _wait_for_output(first, active["id"], b"epoch 1")
        orphans = [active["pid"]] + [p.pid for p in psutil.Process(active["pid"]).children(recursive=True)]
        first.kill()
        assert living(orphans), "the run outlives a crashed agent until the next one starts"

        second = start_agent(workspace=workspace, state_dir=state, token=first.token)
        try:
            lost = _api(second, "GET", f"/v1/runs/{active['id']}").json()
            assert lost["state"] == "lost" and lost["ended_at"] and "agent stopped" in lost["reason"]
            assert _api(second, "GET", f"/v1/runs/{active['id']}/log").content == b"epoch 1\n"
            stream = _api(second, "GET", f"/v1/runs/{active['id']}/log/stream")
            assert stream.content == b"epoch 1\n"  # ends at once: the run is over
            assert _api(second, "GET", f"/v1/runs/{finished['id']}/log").content == b"finished before the crash\n"
            assert _api(second, "GET", f"/v1/runs/{finished['id']}").json()["state"] == "succeeded"
            time.sleep(0.2)
            assert living(orphans) == [] and in_group(active["pid"]) == []
            listing = _api(second, "GET", "/v1/runs").json()
            assert listing["active"] == [] and {r["id"] for r in listing["runs"]} == {finished["id"], active["id"]}
            assert _api(second, "POST", "/v1/runs", json={"command": "true"}).status_code == 201
        finally:
            second.stop()
    finally:
        for pid in living(orphans):
            psutil.Process(pid).kill()
        first.cleanup()


def test_graceful_stop_ends_active_runs(tmp_path):
    workspace, state = str(tmp_path / "ws"), str(tmp_path / "state")
    agent = start_agent(workspace=workspace, state_dir=state)
    run = _api(agent, "POST", "/v1/runs", json={"command": "sleep 120"}).json()
    agent.stop()
    assert living([run["pid"]]) == []
    again = start_agent(workspace=workspace, state_dir=state)
    try:
        assert _api(again, "GET", f"/v1/runs/{run['id']}").json()["state"] == "interrupted"
    finally:
        again.stop()


def test_leftover_staging_is_removed_on_start(tmp_path):
    workspace = tmp_path / "ws"
    (workspace / ".agent-tmp-0123").mkdir(parents=True)
    (workspace / ".agent-tmp-0123" / "half.bin").write_bytes(b"x")
    (workspace / "mine.txt").write_text("stays")
    with start_agent(workspace=str(workspace), state_dir=str(tmp_path / "state")):
        assert sorted(os.listdir(workspace)) == ["mine.txt"]


def test_more_active_runs_when_configured(tmp_path):
    with start_agent(extra_args=["--max-active-runs", "2"]) as agent:
        ids = [_api(agent, "POST", "/v1/runs", json={"command": "sleep 60"}).json()["id"] for _ in range(2)]
        third = _api(agent, "POST", "/v1/runs", json={"command": "sleep 60"})
        assert third.status_code == 409 and sorted(third.json()["active_run_ids"]) == sorted(ids)
