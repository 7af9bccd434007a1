import os
import subprocess
import sys

import pytest
import requests

from tests.support.agent_process import REPO_ROOT, AgentProcess, start_agent

PROTECTED = [
    ("GET", "/v1/resources"),
    ("GET", "/v1/files"),
    ("GET", "/v1/files/content?path=x"),
    ("PUT", "/v1/files/content?path=x"),
    ("DELETE", "/v1/files?path=x"),
    ("POST", "/v1/files/mkdir?path=x"),
    ("POST", "/v1/workspace/archive"),
    ("POST", "/v1/workspace/clear"),
    ("POST", "/v1/runs"),
    ("GET", "/v1/runs"),
    ("GET", "/v1/runs/abc"),
    ("GET", "/v1/runs/abc/log"),
    ("GET", "/v1/runs/abc/log/stream"),
    ("POST", "/v1/runs/abc/interrupt"),
    ("GET", "/openapi.json"),
    ("GET", "/no/such/endpoint"),
]


def test_health_needs_no_token_and_reveals_nothing_else(agent):
    response = requests.get(f"{agent.url}/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"status", "version", "node", "workspace", "uptime_seconds", "run_active"}
    assert body["status"] == "ok"
    assert body["workspace"] == os.path.realpath(agent.workspace)
    assert agent.token not in response.text


@pytest.mark.parametrize("method,path", PROTECTED)
def test_every_other_endpoint_needs_the_token(agent, method, path):
    for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": f"Basic {agent.token}"},
                    {"Authorization": f"Bearer {agent.token}x"}, {"X-Agent-Token": "wrong"},
                    {"X-Agent-Token": agent.token[:-1]}, {"Authorization": "Bearer"}, {"Authorization": ""}):
        response = requests.request(method, f"{agent.url}{path}", headers=headers)
        assert response.status_code == 401, (method, path, headers)
        assert response.json()["error"] == "unauthorized"
        assert "Authorization: Bearer" in response.json()["message"]


def test_token_in_x_agent_token_header_for_the_api_server_proxy(agent):
    # The Kubernetes API server's proxy strips Authorization, so the portal sends the token this way.
    response = requests.get(f"{agent.url}/v1/runs", headers={"X-Agent-Token": agent.token})
    assert response.status_code == 200
    both = {"X-Agent-Token": agent.token, "Authorization": "Bearer kubernetes-credentials"}
    assert requests.get(f"{agent.url}/v1/runs", headers=both).status_code == 200


def test_openapi_description_with_token(api):
    spec = api.get("/openapi.json").json()
    for path in ("/v1/health", "/v1/resources", "/v1/files", "/v1/files/content", "/v1/workspace/archive",
                 "/v1/workspace/clear", "/v1/runs", "/v1/runs/{run_id}/log/stream"):
        assert path in spec["paths"]


def test_unknown_endpoint_is_a_json_404(api):
    response = api.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def _run_agent(args, env_extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENT_")}
    env.update(env_extra or {}, PYTHONPATH=REPO_ROOT)
    return subprocess.run([sys.executable, "-m", "agent", *args], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=20)


def test_refuses_to_start_without_a_token(tmp_path):
    result = _run_agent(["--workspace", str(tmp_path / "ws"), "--state-dir", str(tmp_path / "st")])
    assert result.returncode == 2
    assert "no token" in result.stderr and "--insecure-no-token" in result.stderr


@pytest.mark.parametrize("token", ["short", "REPLACE_WITH_A_RANDOM_TOKEN"])
def test_refuses_a_weak_or_placeholder_token(tmp_path, token):
    result = _run_agent(["--workspace", str(tmp_path / "ws"), "--state-dir", str(tmp_path / "st")],
                        {"AGENT_TOKEN": token})
    assert result.returncode == 2 and "openssl rand" in result.stderr


def test_refuses_a_state_dir_inside_the_workspace(tmp_path):
    result = _run_agent(["--workspace", str(tmp_path), "--state-dir", str(tmp_path / "state"), "--token", "x" * 20])
    assert result.returncode == 2
    assert "must not contain each other" in result.stderr


def test_insecure_flag_serves_without_token_and_says_so_loudly():
    with start_agent(insecure=True) as agent:
        assert requests.get(f"{agent.url}/v1/runs").status_code == 200
        assert "WITHOUT A TOKEN" in agent.output()


def test_token_from_a_file(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("file-token-0123456789\n")
    with AgentProcess(token_file=str(token_file)) as agent:
        assert requests.get(f"{agent.url}/v1/runs").status_code == 401
        ok = requests.get(f"{agent.url}/v1/runs", headers={"Authorization": "Bearer file-token-0123456789"})
        assert ok.status_code == 200
        assert "file-token-0123456789" not in agent.output()


def test_token_and_token_file_together_are_refused(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("file-token-0123456789")
    result = _run_agent(["--workspace", str(tmp_path / "ws"), "--state-dir", str(tmp_path / "st"),
                         "--token-file", str(token_file)], {"AGENT_TOKEN": "another-token-123456"})
    assert result.returncode == 2
    assert "not both" in result.stderr
