"""Two real agents behind the fake API server's pod proxy, found by the DaemonSet's labels."""

import os
import shutil
import sys
import time
from types import SimpleNamespace

import pytest

from tests.conftest import kubeconfig_text
from tests.support.agent_process import start_agent
from tests.support.fake_k8s import FakeKubeAPI
from tests.support.k8s_seed import make_namespace, make_pod, seed_kind_cluster

AGENT_NAMESPACE = "volcano-portal-agents"
AGENT_LABELS = {"app.kubernetes.io/name": "volcano-portal-agent", "app.kubernetes.io/component": "agent",
                "app.kubernetes.io/part-of": "volcano-portal"}
TOKEN = "test-agent-token-0123456789abcdef"
# `python` in runs must be this interpreter (numpy and scikit-learn for the MNIST example).
RUN_PATH = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])


def add_agent_pod(api, node, agent_url, name=None):
    name = name or f"volcano-portal-agent-{node[-6:].replace('-', '')}"
    api.put(make_pod(name, AGENT_NAMESPACE, node, labels=AGENT_LABELS, image="volcano-portal-agent:0.1.0",
                     containers=["agent"]))
    api.register_pod_proxy(AGENT_NAMESPACE, name, 8700, agent_url)
    return name


@pytest.fixture(scope="module")
def agent_env():
    """A fake cluster `lab` (control plane + 2 workers) with an agent pod on each worker."""
    with FakeKubeAPI() as api:
        seed_kind_cluster(api, name="lab", workers=2, volcano=False)
        api.put(make_namespace(AGENT_NAMESPACE))
        with start_agent(token=TOKEN, env={"PATH": RUN_PATH}) as worker1, \
                start_agent(token=TOKEN, env={"PATH": RUN_PATH}) as worker2:
            add_agent_pod(api, "lab-worker", worker1.url)
            add_agent_pod(api, "lab-worker2", worker2.url)
            yield SimpleNamespace(api=api, agents={"lab-worker": worker1, "lab-worker2": worker2})


def empty(directory):
    for name in os.listdir(directory):
        path = os.path.join(directory, name)
        shutil.rmtree(path) if os.path.isdir(path) and not os.path.islink(path) else os.remove(path)


@pytest.fixture
def lab(agent_env, db):
    """The cluster row, its agent settings and discovered nodes; empty workspaces."""
    from clusters.models import Cluster
    from nodes import services
    from nodes.models import AgentConfig, Node

    for agent in agent_env.agents.values():
        empty(agent.workspace)
    cluster = Cluster.objects.create(name="lab", context="kind-lab", kubeconfig=kubeconfig_text(agent_env.api),
                                     server=agent_env.api.url)
    AgentConfig.objects.create(cluster=cluster, namespace=AGENT_NAMESPACE, port=8700, token=TOKEN)
    services.discover_nodes(cluster)
    return SimpleNamespace(
        cluster=cluster, api=agent_env.api, agents=agent_env.agents,
        worker1=Node.objects.get(cluster=cluster, name="lab-worker"),
        worker2=Node.objects.get(cluster=cluster, name="lab-worker2"),
    )


def wait_for(predicate, timeout=30, interval=0.1, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message}")
