"""deploy/*.sh against stand-in docker/kind/kubectl/helm (tests/support/bin): the order of the steps,
idempotence, and a clear message and non-zero exit for every missing tool."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.bin import StandIns

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
NODE_IMAGE = next(line.split("=", 1)[1] for line in (DEPLOY / "versions.env").read_text().splitlines()
                  if line.startswith("KIND_NODE_IMAGE="))
pytestmark = pytest.mark.skipif(shutil.which("kubectl", path="/usr/bin:/usr/local/bin") is None
                                and os.environ.get("CI") != "true",
                                reason="the kubectl stand-in renders kustomizations with the real kubectl")


VALUE_OPTIONS = {"--context", "--kube-context", "--namespace", "-n", "--format", "--filter", "--output", "-o", "-f",
                 "-t", "-k", "--name", "--config", "--image", "--wait", "--repo", "--version", "--timeout",
                 "--selector", "--for"}


@pytest.fixture
def tools(tmp_path):
    return StandIns(tmp_path)


def run(tools, script, *args, **env):
    return subprocess.run([str(DEPLOY / script), *args], env=tools.env(**env), capture_output=True, text=True,
                          cwd=REPO, timeout=120)


def tool_order(tools):
    """(tool, first two words) of every call, the way a person would read the script's steps."""
    order = []
    for call in tools.calls():
        words, skip = [], False
        for arg in call["argv"]:
            if skip:
                skip = False
            elif arg.startswith("-"):
                skip = arg in VALUE_OPTIONS
            else:
                words.append(arg)
        order.append((call["tool"], " ".join(words[:2])))
    return order


def test_up_runs_the_steps_in_order_and_a_second_run_changes_nothing(tools):
    first = run(tools, "up.sh")
    assert first.returncode == 0, first.stdout + first.stderr
    assert [line for line in first.stdout.splitlines() if line.startswith("[")] == [
        "[1/3] kind cluster lab (small)", "[2/3] Volcano 1.13.0", "[3/3] node agents (volcano-portal-agent:0.1.0)"]
    order = tool_order(tools)

    def position(entry):
        tool, words = entry
        found = [i for i, (t, w) in enumerate(order) if t == tool and w.startswith(words)]
        assert found, (entry, order)
        return found[0]

    steps = [("docker", "info"), ("kind", "get clusters"), ("kind", "create cluster"), ("helm", "list"),
             ("helm", "upgrade volcano"), ("kubectl", "wait deployment/volcano-admission"),
             ("kubectl", "create"), ("kubectl", "wait vcjob/volcano-portal-verify"), ("docker", "image inspect"),
             ("docker", "build"), ("kind", "load docker-image"), ("kubectl", "apply"),
             ("kubectl", "create secret"), ("kubectl", "rollout status")]
    assert [position(s) for s in steps] == sorted(position(s) for s in steps)
    create = tools.calls("kind")[[c[:2] for c in tools.calls("kind")].index(["create", "cluster"])]
    assert create == ["create", "cluster", "--name", "lab", "--config", str(DEPLOY / "kind/small.yaml"),
                      "--image", NODE_IMAGE, "--wait", "180s"]
    upgrade = next(c for c in tools.calls("helm") if c[0] == "upgrade")
    assert upgrade[:4] == ["upgrade", "--install", "volcano", "volcano"]
    assert "--version" in upgrade and upgrade[upgrade.index("--version") + 1] == "1.13.0"
    assert upgrade[upgrade.index("--repo") + 1] == "https://volcano-sh.github.io/helm-charts"
    assert upgrade[upgrade.index("--kube-context") + 1] == "kind-lab"
    assert ["load", "docker-image", "volcano-portal-agent:0.1.0", "--name", "lab"] in tools.calls("kind")
    assert "Done: the lab lab is up." in first.stdout
    assert tools.state["clusters"]["lab"]["workers"] == 3

    tools.reset_calls()
    second = run(tools, "up.sh")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Nothing to change: the lab lab is already up." in second.stdout
    assert "= kind cluster lab exists" in second.stdout
    assert "= Volcano 1.13.0 is installed" in second.stdout
    mutating = [c for c in tool_order(tools) if c[1].split(" ")[0] in ("create", "upgrade", "build", "delete")]
    assert mutating == []
    assert not [line for line in second.stdout.splitlines() if line.startswith("+ ")]


def test_up_with_the_lab_config_and_the_portal_in_the_cluster(tools):
    result = run(tools, "up.sh", "--name", "dl-cluster", "--config", "lab", "--portal", "cluster")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[4/4] the portal in the cluster (volcano-portal:0.1.0)" in result.stdout
    kind_create = next(c for c in tools.calls("kind") if c[:2] == ["create", "cluster"])
    assert kind_create[kind_create.index("--config") + 1] == str(DEPLOY / "kind/lab.yaml")
    assert tools.state["clusters"]["dl-cluster"]["workers"] == 2
    kubectl = tools.calls("kubectl")
    secret = next(c for c in kubectl if c[:3] == ["--context", "kind-dl-cluster", "create"] and "volcano-portal-secrets" in c)
    assert any(arg.startswith("--from-env-file=") for arg in secret), "secrets never on the command line"
    assert ["--context", "kind-dl-cluster", "apply", "-k", str(DEPLOY / "portal")] in kubectl
    assert any("job/volcano-portal-migrate" in c for c in kubectl)
    assert ["load", "docker-image", "volcano-portal:0.1.0", "--name", "dl-cluster"] in tools.calls("kind")
    again = run(tools, "up.sh", "--name", "dl-cluster", "--config", "lab", "--portal", "cluster")
    assert "Nothing to change" in again.stdout, again.stdout + again.stderr


@pytest.mark.parametrize("tool,hint", [
    ("docker", "get.docker.com"), ("kind", "kind.sigs.k8s.io/dl/v0.30.0"), ("kubectl", "dl.k8s.io/release/"),
    ("helm", "get-helm-3"),
])
def test_a_missing_tool_is_named_with_the_command_that_installs_it(tmp_path, tool, hint):
    tools = StandIns(tmp_path, missing={tool})
    result = run(tools, "up.sh")
    assert result.returncode == 3
    assert f"error: {tool} is not installed" in result.stderr
    assert hint in result.stderr
    assert not any(c[:2] == ["create", "cluster"] for c in tools.calls("kind"))


def test_every_missing_tool_is_reported_at_once(tmp_path):
    tools = StandIns(tmp_path, missing={"kind", "helm"})
    result = run(tools, "up.sh")
    assert result.returncode == 3
    assert "kind is not installed" in result.stderr and "helm is not installed" in result.stderr
    assert tools.calls() == []


def test_helm_is_not_needed_without_volcano(tmp_path):
    tools = StandIns(tmp_path, missing={"helm"})
    result = run(tools, "up.sh", "--no-volcano", "--no-agents")
    assert result.returncode == 0, result.stderr
    assert "[1/1] kind cluster lab (small)" in result.stdout


def test_no_docker_engine(tools):
    tools.update_state(engine="down")
    result = run(tools, "up.sh")
    assert result.returncode == 4
    assert "docker is installed but no Docker engine answers (is the daemon running?" in result.stderr
    assert "Cannot connect to the Docker daemon" in result.stderr
    assert [c["tool"] for c in tools.calls()] == ["docker"]


def test_an_existing_cluster_is_kept(tools):
    tools.update_state(clusters={"lab": {"workers": 3, "image": NODE_IMAGE, "loaded": []}})
    result = run(tools, "kind/create.sh", "--name", "lab")
    assert result.returncode == 0, result.stderr
    assert "= kind cluster lab exists" in result.stdout
    assert not any(c[:2] == ["create", "cluster"] for c in tools.calls("kind"))


def test_an_existing_volcano_release_is_kept_and_another_version_upgraded(tools):
    tools.update_state(releases={"volcano": {"namespace": "volcano-system", "chart": "volcano-1.13.0",
                                             "status": "deployed", "revision": 1}})
    result = run(tools, "volcano/install.sh", "--context", "kind-lab")
    assert result.returncode == 0 and "= Volcano 1.13.0 is installed" in result.stdout
    assert [c[0] for c in tools.calls("helm")] == ["list"]
    assert tools.calls("kubectl") == []

    tools.update_state(releases={"volcano": {"namespace": "volcano-system", "chart": "volcano-1.12.2",
                                             "status": "deployed", "revision": 1}})
    result = run(tools, "volcano/install.sh", "--context", "kind-lab", "--no-verify")
    assert result.returncode == 0, result.stderr
    assert "+ installed Volcano 1.13.0" in result.stdout
    assert tools.state["releases"]["volcano"] == {"namespace": "volcano-system", "chart": "volcano-1.13.0",
                                                  "status": "deployed", "revision": 2}
    assert not any(c[:1] == ["create"] for c in tools.calls("kubectl"))


def test_volcano_installed_without_helm_is_left_alone(tools):
    tools.update_state(volcano_not_helm=True)
    result = run(tools, "volcano/install.sh")
    assert result.returncode == 0
    assert "installed, but not by Helm" in result.stdout
    assert [c[0] for c in tools.calls("helm")] == ["list"]


def test_volcano_uninstall_is_idempotent(tools):
    run(tools, "volcano/install.sh", "--no-verify")
    first = run(tools, "volcano/uninstall.sh", "--purge")
    assert first.returncode == 0, first.stderr
    assert "+ uninstalled Volcano" in first.stdout
    assert ["uninstall", "volcano", "--namespace", "volcano-system", "--wait"] in tools.calls("helm")
    second = run(tools, "volcano/uninstall.sh")
    assert second.returncode == 0 and "= no Helm release volcano" in second.stdout


def test_the_agent_token_goes_through_stdin_never_the_command_line(tools):
    run(tools, "kind/create.sh")
    token = "a-token-for-the-tests-0123456789"
    result = run(tools, "agent/deploy.sh", "--context", "kind-lab", "--kind-cluster", "lab", AGENT_TOKEN=token)
    assert result.returncode == 0, result.stdout + result.stderr
    (create,) = [c for c in tools.calls() if c["tool"] == "kubectl" and "create" in c["argv"]]
    assert create["stdin"] == token
    assert token not in json.dumps([c["argv"] for c in tools.calls()])
    assert token not in result.stdout + result.stderr
    applied = next(c for c in tools.calls() if c["tool"] == "kubectl" and c["argv"][-3:] == ["apply", "-f", "-"])
    assert "kind: Secret" not in applied["stdin"], "the placeholder Secret must never be applied"
    assert "image: volcano-portal-agent:0.1.0" in applied["stdin"]


def test_agents_on_a_cluster_without_kind_need_only_kubectl(tmp_path):
    tools = StandIns(tmp_path, missing={"docker", "kind", "helm"})
    result = run(tools, "agent/deploy.sh", "--context", "prod", AGENT_IMAGE_OVERRIDE="registry.lab/agent:0.1.0")
    assert result.returncode == 0, result.stdout + result.stderr
    applied = next(c for c in tools.calls() if c["argv"][-3:] == ["apply", "-f", "-"])
    assert "image: registry.lab/agent:0.1.0" in applied["stdin"]


def test_down_deletes_the_cluster_once(tools):
    run(tools, "kind/create.sh")
    first = run(tools, "down.sh")
    assert first.returncode == 0 and "+ deleted kind cluster lab" in first.stdout
    assert ["delete", "cluster", "--name", "lab"] in tools.calls("kind")
    tools.reset_calls()
    second = run(tools, "down.sh")
    assert second.returncode == 0 and "nothing to delete" in second.stdout
    assert not any(c[0] == "delete" for c in tools.calls("kind"))


@pytest.mark.parametrize("script", ["up.sh", "down.sh", "kind/create.sh", "volcano/install.sh", "volcano/verify.sh",
                                    "volcano/uninstall.sh", "agent/deploy.sh", "portal/deploy.sh"])
def test_unknown_options_and_help(tools, script):
    bad = run(tools, script, "--bogus")
    assert bad.returncode == 2 and "unknown option --bogus" in bad.stderr
    help_ = run(tools, script, "--help")
    assert help_.returncode == 0 and "deploy/" in help_.stdout
    assert tools.calls() == []


def test_bad_choices_are_refused(tools):
    assert run(tools, "up.sh", "--portal", "cloud").returncode == 2
    assert run(tools, "up.sh", "--config", "huge").returncode == 2
    assert tools.calls() == []
