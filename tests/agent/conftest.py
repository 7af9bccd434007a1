"""Fixtures for the node agent's tests: one real agent process per session, with small limits."""

import hashlib
import os
import shutil
import time

import pytest
import requests

from tests.support.agent_process import start_agent

# Small limits keep the bad-input tests fast; they are the agent's real command-line options.
LIMITS = {
    "max_upload_bytes": 4 * 1024 * 1024,
    "max_archive_bytes": 8 * 1024 * 1024,
    "max_archive_entries": 200,
    "max_compression_ratio": 50,
}
AGENT_ARGS = [
    "--max-upload-bytes", str(LIMITS["max_upload_bytes"]),
    "--max-archive-bytes", str(LIMITS["max_archive_bytes"]),
    "--max-archive-entries", str(LIMITS["max_archive_entries"]),
    "--max-compression-ratio", str(LIMITS["max_compression_ratio"]),
    "--interrupt-grace", "1",
]


@pytest.fixture(scope="session")
def agent():
    with start_agent(extra_args=AGENT_ARGS) as running:
        yield running


class Api:
    """A requests session bound to one agent: api.get("/v1/runs") sends the token to agent.url."""

    def __init__(self, agent, token=True):
        self.agent = agent
        self.session = requests.Session()
        if token:
            self.session.headers.update(agent.headers)

    def request(self, method, path, **kwargs):
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, self.agent.url + path, **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def put(self, path, **kwargs):
        return self.request("PUT", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def close(self):
        self.session.close()


@pytest.fixture(scope="session")
def api(agent):
    client = Api(agent)
    yield client
    client.close()


@pytest.fixture
def ws(agent, api):
    """The agent's workspace, emptied, with no run active."""
    for run_id in api.get("/v1/runs").json()["active"]:
        api.post(f"/v1/runs/{run_id}/interrupt")
        wait_for_run(api, run_id)
    for name in os.listdir(agent.workspace):
        path = os.path.join(agent.workspace, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    return agent.workspace


def wait_for_run(api, run_id: str, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = api.get(f"/v1/runs/{run_id}").json()
        if status["state"] != "running":
            return status
        time.sleep(0.05)
    raise AssertionError(f"run {run_id} still running after {timeout} s")


def tree_digest(root: str) -> dict:
    """Every entry under root with its type and content hash (or link target), to compare trees byte for byte."""
    result = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            if os.path.islink(path):
                result[rel] = ("link", os.readlink(path))
            elif os.path.isdir(path):
                result[rel] = ("dir", oct(os.stat(path).st_mode))
            else:
                with open(path, "rb") as f:
                    result[rel] = ("file", hashlib.sha256(f.read()).hexdigest(), oct(os.stat(path).st_mode))
    return result
