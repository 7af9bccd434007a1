"""Every manifest in deploy/: parsed, kustomize-built, validated against the Kubernetes schemas offline,
and consistent with the images, labels and ports the portal and the scripts use."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from agent.config import DEFAULT_PORT

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
KUBECTL = shutil.which("kubectl")
KUBE_VERSIONS = ["1.30.0", "1.34.0"]  # the oldest we promise, and the kind node image's (deploy/versions.env)
AGENT_LABELS = {"app.kubernetes.io/name": "volcano-portal-agent", "app.kubernetes.io/component": "agent"}
KUSTOMIZATIONS = ["agent", "lab/agent", "portal", "portal/base", "portal/data", "portal/external", "portal/ingress"]
# Custom resources and non-Kubernetes YAML the schemas do not know; they get their own checks below.
NOT_KUBERNETES = {"kind/small.yaml", "kind/lab.yaml", "volcano/test-job.yaml"}


def versions():
    values = {}
    for line in (DEPLOY / "versions.env").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, value = line.split("=", 1)
            values[key] = value
    return values


def yaml_files():
    return sorted(p for p in DEPLOY.rglob("*.yaml"))


def rel(path):
    return str(path.relative_to(DEPLOY))


def require_kubectl():
    if KUBECTL is None:
        if os.environ.get("CI") == "true":
            pytest.fail("kubectl is required in CI to build the kustomizations")
        pytest.skip("kubectl is not installed")


def build(directory):
    require_kubectl()
    result = subprocess.run([KUBECTL, "kustomize", str(DEPLOY / directory)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def by_kind(docs, kind):
    return [d for d in docs if d["kind"] == kind]


@pytest.mark.parametrize("path", yaml_files(), ids=rel)
def test_every_yaml_file_parses(path):
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    assert docs, f"{rel(path)} is empty"
    for doc in docs:
        assert isinstance(doc, dict) and "kind" in doc and "apiVersion" in doc, rel(path)


@pytest.mark.parametrize("directory", KUSTOMIZATIONS)
def test_every_kustomization_builds_and_validates(directory):
    validate = pytest.importorskip("kubernetes_validate")
    docs = build(directory)
    assert docs
    for version in KUBE_VERSIONS:
        for doc in docs:
            validate.validate(doc, version, strict=True)


@pytest.mark.parametrize("path", [p for p in yaml_files() if rel(p) not in NOT_KUBERNETES
                                  and p.name != "kustomization.yaml"], ids=rel)
def test_every_plain_manifest_validates(path):
    validate = pytest.importorskip("kubernetes_validate")
    for doc in yaml.safe_load_all(path.read_text()):
        for version in KUBE_VERSIONS:
            validate.validate(doc, version, strict=True)


def test_every_manifest_file_is_in_a_kustomization_or_documented():
    listed = set()
    for kustomization in DEPLOY.rglob("kustomization.yaml"):
        for resource in yaml.safe_load(kustomization.read_text()).get("resources", []):
            listed.add((kustomization.parent / resource).resolve())
    for path in yaml_files():
        if path.name == "kustomization.yaml" or rel(path) in NOT_KUBERNETES:
            continue
        assert path.resolve() in listed or path.name.endswith(".example.yaml"), rel(path)


def test_kind_configs():
    small = yaml.safe_load((DEPLOY / "kind/small.yaml").read_text())
    lab = yaml.safe_load((DEPLOY / "kind/lab.yaml").read_text())
    for config in (small, lab):
        assert config["kind"] == "Cluster" and config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
        assert config["networking"]["apiServerAddress"] == "127.0.0.1"
    assert [n["role"] for n in small["nodes"]] == ["control-plane", "worker", "worker", "worker"]
    assert [n["role"] for n in lab["nodes"]] == ["control-plane", "worker", "worker"]
    reserved = {}
    for node in lab["nodes"]:
        (patch,) = node["kubeadmConfigPatches"]
        patch = yaml.safe_load(patch)  # each patch is a YAML document of its own
        assert patch["kind"] == ("InitConfiguration" if node["role"] == "control-plane" else "JoinConfiguration")
        reserved[node["role"]] = patch["nodeRegistration"]["kubeletExtraArgs"]["system-reserved"]
        if node["role"] == "worker":
            assert node["extraMounts"] == [{"hostPath": "/mnt/data", "containerPath": "/data"}]
    assert reserved == {"control-plane": "cpu=2000m,memory=2Gi", "worker": "cpu=3000m,memory=6Gi"}


def test_pinned_versions():
    v = versions()
    assert re.fullmatch(r"v0\.\d+\.\d+", v["KIND_VERSION"])
    assert re.fullmatch(r"kindest/node:v1\.\d+\.\d+@sha256:[0-9a-f]{64}", v["KIND_NODE_IMAGE"])
    assert re.fullmatch(r"1\.1\d\.\d+", v["VOLCANO_VERSION"]), "a current Volcano 1.1x release, without the v"
    assert v["VOLCANO_CHART_REPO"] == "https://volcano-sh.github.io/helm-charts"
    node_minor = re.search(r"v1\.(\d+)", v["KIND_NODE_IMAGE"]).group(1)
    assert f"1.{node_minor}.0" in KUBE_VERSIONS, "validate against the Kubernetes version the lab runs"


def test_volcano_test_job_is_the_seeds_busybox_job():
    job = yaml.safe_load((DEPLOY / "volcano/test-job.yaml").read_text())
    assert job["apiVersion"] == "batch.volcano.sh/v1alpha1" and job["kind"] == "Job"
    assert job["spec"]["schedulerName"] == "volcano" and job["spec"]["minAvailable"] == 1
    (task,) = job["spec"]["tasks"]
    assert task["replicas"] == 2
    (container,) = task["template"]["spec"]["containers"]
    assert container["image"].startswith("busybox:") and container["command"][0] == "sleep"
    assert task["template"]["spec"]["restartPolicy"] == "Never"


def test_agent_image_labels_and_port_match_what_the_portal_discovers():
    image = versions()["AGENT_IMAGE"]
    for directory in ("agent", "lab/agent"):
        (daemonset,) = by_kind(build(directory), "DaemonSet")
        template = daemonset["spec"]["template"]
        assert AGENT_LABELS.items() <= template["metadata"]["labels"].items()
        assert daemonset["spec"]["selector"]["matchLabels"] == AGENT_LABELS
        (container,) = template["spec"]["containers"]
        assert container["image"] == image
        assert container["ports"][0]["containerPort"] == DEFAULT_PORT == 8700
        assert daemonset["metadata"]["namespace"] == "volcano-portal-agents"
    lab_kinds = {d["kind"] for d in build("lab/agent")}
    assert "Secret" not in lab_kinds, "the scripts' variant must never overwrite the real token"
    assert image in (DEPLOY / "agent/Dockerfile").read_text()


def test_portal_images_and_labels_are_consistent():
    image = versions()["PORTAL_IMAGE"]
    docs = build("portal")
    workloads = by_kind(docs, "Deployment") + by_kind(docs, "Job")
    assert {w["metadata"]["labels"]["app.kubernetes.io/component"] for w in workloads} == {
        "web", "worker", "beat", "migrate"}
    for workload in workloads:
        spec = workload["spec"]["template"]["spec"]
        (container,) = spec["containers"]
        assert container["image"] == image
        assert container["args"] == [workload["metadata"]["labels"]["app.kubernetes.io/component"]]
        assert workload["metadata"]["labels"]["app.kubernetes.io/part-of"] == "volcano-portal"
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["resources"]["requests"]["cpu"] and container["resources"]["requests"]["memory"]
        sources = [s.get("secretRef", s.get("configMapRef"))["name"] for s in container["envFrom"]]
        assert sources == ["volcano-portal-config", "volcano-portal-secrets"]
    for statefulset in by_kind(docs, "StatefulSet"):
        (container,) = statefulset["spec"]["template"]["spec"]["containers"]
        assert re.fullmatch(r"(postgres|redis):\d+\.\d+(\.\d+)?", container["image"]), "pinned, not :latest"
    for doc in docs:
        if doc["kind"] != "Namespace" and doc["kind"] not in ("ClusterRole", "ClusterRoleBinding"):
            assert doc["metadata"]["namespace"] == "volcano-portal", doc["metadata"]["name"]
    assert image in (DEPLOY / "portal/Dockerfile").read_text()


def test_portal_deployments_replicas_probes_and_production_settings():
    docs = build("portal")
    deployments = {d["metadata"]["labels"]["app.kubernetes.io/component"]: d for d in by_kind(docs, "Deployment")}
    assert deployments["beat"]["spec"]["replicas"] == 1
    assert deployments["beat"]["spec"]["strategy"]["type"] == "Recreate"
    assert deployments["worker"]["spec"]["replicas"] >= 2
    (web,) = deployments["web"]["spec"]["template"]["spec"]["containers"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert web[probe]["httpGet"]["path"] == "/healthz"
        assert {"name": "Host", "value": "localhost"} in web[probe]["httpGet"]["httpHeaders"]
    (worker,) = deployments["worker"]["spec"]["template"]["spec"]["containers"]
    assert "ping" in worker["livenessProbe"]["exec"]["command"]
    (config,) = by_kind(docs, "ConfigMap")
    assert config["data"]["PORTAL_MODE"] == "production"
    assert "localhost" in config["data"]["DJANGO_ALLOWED_HOSTS"].split(",")
    (job,) = by_kind(docs, "Job")
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert {s["metadata"]["labels"]["app.kubernetes.io/component"] for s in by_kind(docs, "StatefulSet")} == {
        "postgres", "redis"}
    assert "StatefulSet" not in {d["kind"] for d in build("portal/external")}
    assert by_kind(build("portal/ingress"), "Ingress")[0]["spec"]["rules"][0]["http"]["paths"][0]["backend"][
        "service"]["name"] == "volcano-portal-web"


def test_the_secret_example_holds_every_key_the_manifests_read():
    example = yaml.safe_load((DEPLOY / "portal/secret.example.yaml").read_text())
    keys = set(example["stringData"])
    assert {"DJANGO_SECRET_KEY", "PORTAL_ENCRYPTION_KEYS", "DATABASE_URL", "REDIS_URL", "POSTGRES_PASSWORD"} <= keys
    for doc in build("portal"):
        for ref in re.findall(r"'key': '(\w+)', 'name': 'volcano-portal-secrets'", str(doc)):
            assert ref in keys
    assert "Secret" not in {d["kind"] for d in build("portal") if d["metadata"]["name"] == "volcano-portal-secrets"}
    deploy_script = (DEPLOY / "portal/deploy.sh").read_text()
    for key in ("DJANGO_SECRET_KEY", "PORTAL_ENCRYPTION_KEYS", "DATABASE_URL", "REDIS_URL", "POSTGRES_PASSWORD"):
        assert f"{key}=" in deploy_script


def test_least_rbac_for_the_portal():
    docs = build("portal")
    (role,) = by_kind(docs, "ClusterRole")
    rules = {}
    for rule in role["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                rules[(group, resource)] = set(rule["verbs"])
    text = str(role)
    assert "*" not in text, "no wildcards"
    for forbidden in ("secrets", "configmaps", "pods/exec", "pods/attach", "roles", "clusterroles"):
        assert all(resource != forbidden for _group, resource in rules), forbidden
    assert rules[("", "pods/log")] == {"get"}
    assert {"get", "create"} <= rules[("", "pods/proxy")]
    assert rules[("", "pods/eviction")] == {"create"}
    assert rules[("bus.volcano.sh", "commands")] == {"create"}
    assert {"create", "delete"} <= rules[("batch.volcano.sh", "jobs")]
    assert {"create", "delete"} <= rules[("scheduling.volcano.sh", "queues")]
    assert {"patch", "delete"} <= rules[("apps", "deployments")]
    for resource in ("nodes", "pods", "services", "namespaces", "events"):
        assert {"get", "list", "watch"} <= rules[("", resource)]
    (binding,) = by_kind(docs, "ClusterRoleBinding")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "volcano-portal", "namespace": "volcano-portal"}]
    # Every rule carries its reason in the file's comments.
    source = (DEPLOY / "portal/base/rbac.yaml").read_text()
    assert source.count("\n  # ") >= 10


def test_portal_dockerfile():
    dockerfile = (DEPLOY / "portal/Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.MULTILINE)
    assert re.search(r"^RUN pip install \.$", dockerfile, re.MULTILINE)
    user = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert user and not user[-1].startswith(("root", "0"))
    assert 'ENTRYPOINT ["portal-entrypoint"]' in dockerfile
    entrypoint = (DEPLOY / "portal/entrypoint.sh").read_text()
    for role in ("web) exec uvicorn", "worker) exec celery -A portal worker", "beat) exec celery -A portal beat",
                 "migrate) python manage.py migrate"):
        assert role in entrypoint
