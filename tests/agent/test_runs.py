import os
import sys
import threading
import time

import psutil
import pytest
import requests

from .conftest import wait_for_run

PY = sys.executable


def start(api, **body):
    response = api.post("/v1/runs", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def log_of(api, run_id, **params):
    return api.get(f"/v1/runs/{run_id}/log", params=params)


def living(pids):
    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            pass
    return alive


def in_group(pgid):
    members = []
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) == pgid and proc.status() != psutil.STATUS_ZOMBIE:
                members.append(proc.pid)
        except (ProcessLookupError, psutil.NoSuchProcess):
            pass
    return members


def stream(agent, run_id, offset=0, timeout=60):
    with requests.get(f"{agent.url}/v1/runs/{run_id}/log/stream", params={"offset": offset}, headers=agent.headers,
                      stream=True, timeout=timeout) as response:
        assert response.status_code == 200, response.text
        return b"".join(response.iter_content(chunk_size=None))


def test_shell_command_output_status_and_log(api, ws):
    run = start(api, command="echo out; echo err >&2; exit 3")
    assert run["state"] in ("running", "failed") and run["pid"] > 0 and len(run["id"]) == 32  # it may end at once
    done = wait_for_run(api, run["id"])
    assert done["state"] == "failed" and done["exit_code"] == 3
    assert done["started_at"] <= done["ended_at"] and done["log_size"] == len(b"out\nerr\n")
    response = log_of(api, run["id"])
    assert response.content == b"out\nerr\n"  # stdout and stderr in one log, in order
    assert response.headers["X-Log-Size"] == "8" and response.headers["X-Run-State"] == "failed"


def test_argv_env_cwd_and_python_unbuffered(api, ws):
    os.makedirs(os.path.join(ws, "sub", "dir"))
    code = "import os; print(os.getcwd()); print(os.environ['GREETING']); print(os.environ['PYTHONUNBUFFERED'])"
    run = start(api, argv=[PY, "-c", code], env={"GREETING": "hello world"}, cwd="sub/dir")
    done = wait_for_run(api, run["id"])
    assert done["state"] == "succeeded" and done["exit_code"] == 0 and done["cwd"] == "sub/dir"
    lines = log_of(api, run["id"]).text.splitlines()
    assert lines == [os.path.join(os.path.realpath(ws), "sub", "dir"), "hello world", "1"]


def test_runs_do_not_see_the_agent_token(api, ws, agent):
    run = start(api, command="env")
    wait_for_run(api, run["id"])
    output = log_of(api, run["id"]).text
    assert "PATH=" in output and agent.token not in output and "AGENT_TOKEN" not in output


def test_log_offset_limit_and_tail(api, ws):
    run = start(api, command="printf 0123456789")
    wait_for_run(api, run["id"])
    part = log_of(api, run["id"], offset=3, limit=4)
    assert part.content == b"3456" and part.headers["X-Log-Offset"] == "3" and part.headers["X-Next-Offset"] == "7"
    assert log_of(api, run["id"], offset=-3).content == b"789"
    assert log_of(api, run["id"], offset=50).content == b""


def test_only_one_active_run(api, ws):
    first = start(api, command="sleep 30")
    second = api.post("/v1/runs", json={"command": "echo no"})
    assert second.status_code == 409
    assert second.json()["error"] == "run_active" and second.json()["active_run_id"] == first["id"]
    assert first["id"] in second.json()["message"]
    assert requests.get(f"{api.agent.url}/v1/health").json()["run_active"] is True
    listing = api.get("/v1/runs").json()
    assert listing["active"] == [first["id"]] and listing["runs"][0]["id"] == first["id"]
    api.post(f"/v1/runs/{first['id']}/interrupt")
    assert wait_for_run(api, first["id"])["state"] == "interrupted"


def test_workspace_changes_wait_for_the_active_run(api, ws):
    run = start(api, command="sleep 30")
    assert api.post("/v1/workspace/clear").status_code == 409
    response = api.post("/v1/workspace/archive", data=b"PK\x05\x06" + b"\0" * 18)
    assert response.status_code == 409 and response.json()["active_run_id"] == run["id"]
    api.post(f"/v1/runs/{run['id']}/interrupt")
    wait_for_run(api, run["id"])


def test_interrupt_shell_that_spawned_children_leaves_no_process(api, ws):
    with open(os.path.join(ws, "child.py"), "w") as f:
        f.write("import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nprint('child up', flush=True)\n"
                "time.sleep(120)\n")
    run = start(api, command=f"{PY} child.py & {PY} -c 'import time; time.sleep(120)' & wait")
    deadline = time.monotonic() + 10
    while b"child up" not in log_of(api, run["id"]).content and time.monotonic() < deadline:
        time.sleep(0.05)
    pids = [run["pid"]] + [p.pid for p in psutil.Process(run["pid"]).children(recursive=True)]
    assert len(pids) >= 3
    response = api.post(f"/v1/runs/{run['id']}/interrupt")
    assert response.status_code == 202 and response.json()["interrupt_requested_at"]
    done = wait_for_run(api, run["id"])
    assert done["state"] == "interrupted"
    time.sleep(0.2)
    assert living(pids) == [] and in_group(run["pid"]) == []


def test_interrupt_escalates_to_sigkill(api, ws):
    code = ("import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); "
            "signal.signal(signal.SIGTERM, signal.SIG_IGN); print('stubborn', flush=True); time.sleep(120)")
    run = start(api, argv=[PY, "-c", code])
    while b"stubborn" not in log_of(api, run["id"]).content:
        time.sleep(0.05)
    began = time.monotonic()
    api.post(f"/v1/runs/{run['id']}/interrupt")
    done = wait_for_run(api, run["id"])
    assert done["state"] == "interrupted" and done["signal"] == "SIGKILL" and done["exit_code"] == -9
    assert 1.5 < time.monotonic() - began < 6  # grace is 1 s per step in these tests
    assert api.post(f"/v1/runs/{run['id']}/interrupt").json()["state"] == "interrupted"  # idempotent


def test_processes_left_behind_by_an_ended_run_are_stopped(api, ws):
    run = start(api, command=f"{PY} -c 'import time; time.sleep(120)' & echo started")
    done = wait_for_run(api, run["id"])
    assert done["state"] == "succeeded"
    time.sleep(0.2)
    assert in_group(run["pid"]) == []


def test_stream_100000_lines_to_several_readers_none_lost(api, ws, agent):
    code = "import sys\nw = sys.stdout.write\nfor i in range(100000): w(f'line {i}\\n')\n"
    run = start(api, argv=[PY, "-c", code])
    results = {}

    def read(name):
        results[name] = stream(agent, run["id"])

    readers = [threading.Thread(target=read, args=(n,)) for n in range(4)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join(60)
    expected = "".join(f"line {i}\n" for i in range(100000)).encode()
    assert wait_for_run(api, run["id"])["state"] == "succeeded"
    for name in range(4):
        lines = results[name].decode().splitlines()
        assert len(lines) == 100000 and lines == [f"line {i}" for i in range(100000)], name
    assert stream(agent, run["id"]) == expected  # a reader after the end gets everything and the end
    assert stream(agent, run["id"], offset=len(expected) - 11) == b"line 99999\n"


def test_stream_survives_a_silent_run_and_does_not_block_others(api, ws, agent):
    run = start(api, argv=[PY, "-c", "import time; print('a', flush=True); time.sleep(2.5); print('b')"])
    received = []
    began = time.monotonic()

    def follow():
        with requests.get(f"{agent.url}/v1/runs/{run['id']}/log/stream", headers=agent.headers, stream=True,
                          timeout=30) as response:
            for chunk in response.iter_content(chunk_size=None):
                received.append((time.monotonic() - began, chunk))

    reader = threading.Thread(target=follow)
    reader.start()
    time.sleep(1.0)
    assert [c for _, c in received] == [b"a\n"]
    ping = time.monotonic()
    assert requests.get(f"{agent.url}/v1/health", timeout=5).status_code == 200
    assert api.get("/v1/files").status_code == 200
    assert time.monotonic() - ping < 0.5
    reader.join(15)
    assert not reader.is_alive()
    assert b"".join(c for _, c in received) == b"a\nb\n"
    assert received[-1][0] > 2.0


@pytest.mark.parametrize("body,words", [
    ({"command": "x", "argv": ["x"]}, "either"),
    ({}, "either"),
    ({"command": "  "}, "empty"),
    ({"argv": []}, "non-empty"),
    ({"command": "true", "cwd": "../"}, "'..'"),
    ({"command": "true", "cwd": "missing"}, "Nothing exists"),
    ({"command": "true", "env": {"A=B": "c"}}, "not valid"),
    ({"argv": ["/no/such/program"]}, "could not be started"),
    ({"command": 42}, "not valid"),
])
def test_bad_run_requests(api, ws, body, words):
    response = api.post("/v1/runs", json=body)
    assert response.status_code in (400, 404) and words in response.json()["message"], response.json()
    assert api.get("/v1/runs").json()["active"] == []


def test_cwd_must_be_a_directory(api, ws):
    open(os.path.join(ws, "file"), "w").close()
    assert api.post("/v1/runs", json={"command": "true", "cwd": "file"}).status_code == 400


def test_unknown_run_is_404(api, ws):
    for method, path in [("GET", "/v1/runs/nope"), ("GET", "/v1/runs/nope/log"), ("GET", "/v1/runs/nope/log/stream"),
                         ("POST", "/v1/runs/nope/interrupt")]:
        response = api.request(method, path)
        assert response.status_code == 404 and response.json()["error"] == "not_found"
