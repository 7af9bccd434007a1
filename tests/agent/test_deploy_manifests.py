import glob
import os
import re

import pytest
import yaml

from agent.config import DEFAULT_PORT, PLACEHOLDER_PREFIX
from tests.support.agent_process import REPO_ROOT

DEPLOY = os.path.join(REPO_ROOT, "deploy", "agent")
LABELS = {"app.kubernetes.io/name": "volcano-portal-agent", "app.kubernetes.io/component": "agent"}


def documents():
    docs = {}
    for path in sorted(glob.glob(os.path.join(DEPLOY, "*.yaml"))):
        with open(path) as f:
            docs[os.path.basename(path)] = [d for d in yaml.safe_load_all(f) if d]
    return docs


def by_kind(kind):
    return [d for docs in documents().values() for d in docs if d.get("kind") == kind]


def test_every_yaml_parses_and_kustomization_lists_them():
    docs = documents()
    kustomization = docs.pop("kustomization.yaml")[0]
    assert sorted(kustomization["resources"]) == sorted(docs)
    assert kustomization["namespace"] == by_kind("Namespace")[0]["metadata"]["name"]


def test_no_service_exposes_the_agent():
    kinds = {d["kind"] for docs in documents().values() for d in docs}
    assert "Service" not in kinds and "Ingress" not in kinds


def test_daemonset_labels_node_name_probes_and_volumes():
    (daemonset,) = by_kind("DaemonSet")
    template = daemonset["spec"]["template"]
    assert LABELS.items() <= template["metadata"]["labels"].items()
    assert template["metadata"]["labels"]["app.kubernetes.io/part-of"] == "volcano-portal"
    assert daemonset["spec"]["selector"]["matchLabels"] == LABELS
    (container,) = template["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env["NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
    assert env["AGENT_TOKEN_FILE"]["value"].startswith("/etc/volcano-portal-agent/")
    assert "AGENT_TOKEN" not in env
    assert env["AGENT_PORT"]["value"] == str(DEFAULT_PORT)
    assert container["ports"][0]["containerPort"] == DEFAULT_PORT
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["path"] == "/v1/health"
        assert container[probe]["httpGet"]["port"] == "http"
    assert container["resources"]["requests"]["cpu"] and container["resources"]["requests"]["memory"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["workspace"] == env["AGENT_WORKSPACE"]["value"]
    assert mounts["state"] == env["AGENT_STATE_DIR"]["value"]
    volumes = {v["name"]: v for v in template["spec"]["volumes"]}
    assert volumes["workspace"]["hostPath"]["type"] == "DirectoryOrCreate"
    assert volumes["token"]["secret"]["secretName"] == by_kind("Secret")[0]["metadata"]["name"]
    terms = template["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    expression = terms["nodeSelectorTerms"][0]["matchExpressions"][0]
    assert expression == {"key": "node-role.kubernetes.io/control-plane", "operator": "DoesNotExist"}
    assert template["spec"]["automountServiceAccountToken"] is False


def test_secret_holds_only_a_placeholder_the_agent_refuses():
    (secret,) = by_kind("Secret")
    assert secret["stringData"]["token"].startswith(PLACEHOLDER_PREFIX)


def test_dockerfile_pins_a_pytorch_runtime_and_runs_the_agent():
    with open(os.path.join(DEPLOY, "Dockerfile")) as f:
        dockerfile = f.read()
    base = re.search(r"^FROM (\S+)", dockerfile, re.MULTILINE).group(1)
    assert base.startswith("pytorch/pytorch:") and "runtime" in base and not base.endswith(":latest")
    assert 'ENTRYPOINT ["python", "-m", "agent"]' in dockerfile
    assert f"AGENT_PORT={DEFAULT_PORT}" in dockerfile


def test_manifests_match_the_kubernetes_schema():
    validate = pytest.importorskip("kubernetes_validate")
    for name, docs in documents().items():
        if name != "kustomization.yaml":
            for doc in docs:
                validate.validate(doc, "1.30", strict=True)
