import time

import pytest

from tests.support.bin import StandIns

IMAGES = {
    "myenv-image:latest": {"created": "2025-09-18 02:53:29 +0000 UTC", "size": "7.62GB"},
    "busybox:1.36": {"created": "2024-05-18 18:14:03 +0000 UTC", "size": "4.26MB"},
    "volcano-portal-agent:0.1.0": {"created": "2025-10-01 09:00:00 +0000 UTC", "size": "6.1GB"},
}


@pytest.fixture
def standins(tmp_path, monkeypatch):
    """docker/kind/kubectl/helm stand-ins first on this process's PATH (the portal runs them as real
    subprocesses), with three local images and a kind cluster "lab" of three workers."""
    tools = StandIns(tmp_path)
    tools.state = {"images": dict(IMAGES), "clusters": {"lab": {"workers": 3, "image": "kindest/node", "loaded": []}}}
    for key, value in tools.env().items():
        if key in ("PATH", "STANDIN_STATE", "STANDIN_REAL_KUBECTL"):
            monkeypatch.setenv(key, value)
    return tools


def wait_for(operation, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        operation.refresh_from_db()
        if operation.done:
            return operation
        time.sleep(0.05)
    raise AssertionError(f"operation {operation} did not finish: {operation.state} {operation.results[-5:]}")
