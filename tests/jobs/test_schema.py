"""The portal's own Volcano schema against Volcano's CRDs and examples, and the messages for bad manifests.

Volcano's files come from ../shared beside the checkout (tests may read them; the portal never does).
"""

import json
import os
from pathlib import Path

import pytest
import yaml
from django.http import QueryDict
from jsonschema import Draft7Validator

from clusters.kube import command_for
from jobs.forms import JobForm, QueueForm
from jobs.volcano_schema import ManifestError, check_manifest, read_documents, schema
from tests.jobs.conftest import SEED_VCJOB

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "volcano-crds"
if not SHARED.exists() and os.environ.get("CI") == "true":
    raise RuntimeError(f"CI lays shared/ beside the checkout, but {SHARED} is missing")
pytestmark = pytest.mark.skipif(not SHARED.exists(), reason="../shared/volcano-crds is not beside the checkout")


def crd_schema(file_name):
    crd = yaml.safe_load((SHARED / file_name).read_text())
    return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def crd_validator(file_name):
    return Draft7Validator(crd_schema(file_name))


def example(name):
    return [doc for doc in yaml.safe_load_all((SHARED / "examples" / name).read_text()) if doc]


def crd_errors(file_name, document):
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in crd_validator(file_name).iter_errors(document)]


# ---------------------------------------------------------------- our schema is a subset of Volcano's


def compare(root, ours, theirs, path):
    """Every field we know is a field of Volcano's, with the same type; our enums are within theirs."""
    problems = []
    while "$ref" in ours:
        ours = root["definitions"][ours["$ref"].rsplit("/", 1)[1]]
    if "type" in ours and "type" in theirs:
        our_types = set([ours["type"]] if isinstance(ours["type"], str) else ours["type"])
        their_types = {theirs["type"]} | ({"string", "integer"} if theirs.get("x-kubernetes-int-or-string") else set())
        if not our_types <= their_types:
            problems.append(f"{path}: type {our_types} vs {their_types}")
    if "enum" in ours and "enum" in theirs and not set(ours["enum"]) <= set(theirs["enum"]):
        problems.append(f"{path}: enum {ours['enum']} not within {theirs['enum']}")
    for name, sub in (ours.get("properties") or {}).items():
        their_properties = theirs.get("properties") or {}
        if name not in their_properties:
            problems.append(f"{path}.{name}: not in Volcano's schema")
        else:
            problems += compare(root, sub, their_properties[name], f"{path}.{name}")
    if "items" in ours and "items" in theirs:
        problems += compare(root, ours["items"], theirs["items"], f"{path}[]")
    return problems


@pytest.mark.parametrize("ours,crd", [("vcjob", "batch.volcano.sh_jobs.yaml"), ("queue", "scheduling.volcano.sh_queues.yaml")])
def test_our_schema_is_within_volcanos(ours, crd):
    ours, theirs = schema(ours), crd_schema(crd)
    assert compare(ours, ours["properties"]["spec"], theirs["properties"]["spec"], "spec") == []


def test_job_schema_covers_every_spec_field_of_volcanos():
    theirs = set(crd_schema("batch.volcano.sh_jobs.yaml")["properties"]["spec"]["properties"])
    ours = set(schema("vcjob")["properties"]["spec"]["properties"])
    assert ours == theirs  # unknown fields are refused, so every real one must be known
    their_task = set(crd_schema("batch.volcano.sh_jobs.yaml")["properties"]["spec"]["properties"]["tasks"]["items"]["properties"])
    assert set(schema("vcjob")["definitions"]["task"]["properties"]) == their_task


def test_job_phases_are_volcanos():
    from jobs.models import PHASES

    status = crd_schema("batch.volcano.sh_jobs.yaml")["properties"]["status"]["properties"]
    assert PHASES == status["state"]["properties"]["phase"]["enum"]


# ---------------------------------------------------------------- what is accepted


@pytest.mark.parametrize("text", [
    SEED_VCJOB,
    (SHARED / "examples" / "job.yaml").read_text() if SHARED.exists() else "",
    (SHARED / "examples" / "job-plugin.yaml").read_text() if SHARED.exists() else "",
    (SHARED / "examples" / "deployment-queue.yaml").read_text() if SHARED.exists() else "",
    (SHARED / "examples" / "hierarchical-jobs-queues.yaml").read_text() if SHARED.exists() else "",
], ids=["seed", "job.yaml", "job-plugin.yaml", "deployment-queue.yaml", "hierarchical-jobs-queues.yaml"])
def test_volcanos_examples_and_the_seed_job_pass(text):
    documents = read_documents(text)
    assert documents and all(not document.problems for document in documents), [d.error for d in documents]
    for document in documents:  # and Volcano's own CRD schema agrees
        crd = "batch.volcano.sh_jobs.yaml" if document.is_vcjob else "scheduling.volcano.sh_queues.yaml"
        assert crd_errors(crd, document.manifest) == []


def form_manifest(**values):
    data = {"cluster": "", "name": "train", "namespace": "default", "queue": "default", "task_name": "worker",
            "image": "busybox:1.36", "command": "", "replicas": "2", "min_available": "", "restart_policy": "OnFailure",
            "max_retry": "3", "gpus": "0"}
    data.update(values)
    form = JobForm(QueryDict(mutable=True) | data)
    form.fields["cluster"].required = False
    assert form.is_valid(), form.errors
    return form.manifest()


@pytest.mark.django_db
@pytest.mark.parametrize("values", [
    {},
    {"command": 'sh -c "echo hi; sleep 60"', "min_available": "1"},
    {"cpu_request": "500m", "cpu_limit": "2", "memory_request": "1Gi", "memory_limit": "2Gi", "gpus": "1"},
    {"env": "A=1\nB=two words", "priority_class": "high-priority", "restart_policy": "Never", "max_retry": "0"},
    {"workspace": "emptyDir"},
    {"workspace": "hostPath", "workspace_source": "/srv/work"},
    {"workspace": "pvc", "workspace_source": "train-data"},
], ids=["plain", "command", "resources", "env", "emptydir", "hostpath", "pvc"])
def test_every_form_built_job_is_valid_for_volcano(values):
    manifest = form_manifest(**values)
    assert check_manifest(manifest) == []
    assert crd_errors("batch.volcano.sh_jobs.yaml", manifest) == []


@pytest.mark.django_db
def test_the_form_defaults_min_available_to_the_replicas():
    assert form_manifest(replicas="3")["spec"]["minAvailable"] == 3
    assert form_manifest(replicas="3", min_available="0")["spec"]["minAvailable"] == 0


@pytest.mark.django_db
def test_form_built_queues_are_valid_for_volcano():
    form = QueueForm({"name": "research", "weight": "4", "reclaimable": "on", "capability_cpu": "8",
                      "capability_memory": "32Gi", "capability_gpu": "2", "deserved_cpu": "4"})
    form.fields["cluster"].required = False
    assert form.is_valid(), form.errors
    manifest = form.manifest()
    assert manifest["spec"]["capability"] == {"cpu": "8", "memory": "32Gi", "nvidia.com/gpu": "2"}
    assert check_manifest(manifest) == []
    assert crd_errors("scheduling.volcano.sh_queues.yaml", manifest) == []


def test_commands_are_valid_for_volcanos_command_schema():
    job = {"metadata": {"name": "test-job", "namespace": "default", "uid": "0b3c"}}
    command = command_for("batch.volcano.sh/v1alpha1", "Job", job, "AbortJob", "default")
    assert crd_errors("bus.volcano.sh_commands.yaml", command) == []
    without_uid = json.loads(json.dumps(command))
    del without_uid["target"]["uid"]
    assert crd_errors("bus.volcano.sh_commands.yaml", without_uid) == ["target: 'uid' is a required property"]


# ---------------------------------------------------------------- what is refused, and how it is said


def replace(text, old, new):
    assert old in text
    return text.replace(old, new, 1)


BROKEN = [
    # (id, manifest, the message, whether Volcano's CRD schema alone would refuse it too)
    ("replicas-string", replace(SEED_VCJOB, "replicas: 2", 'replicas: "2"'),
     "line 9: tasks[0].replicas must be an integer", True),
    ("tasks-missing", SEED_VCJOB.split("  tasks:")[0], "line 6: tasks is required", False),
    ("tasks-empty", SEED_VCJOB.split("  tasks:")[0] + "  tasks: []\n", "line 8: tasks must not be empty", True),
    ("duplicate-task-names", SEED_VCJOB + SEED_VCJOB.split("  tasks:\n")[1],
     'line 19: tasks[1].name: the task name "sleep" is already used by tasks[0]; task names must be unique', False),
    ("min-available-above-replicas", replace(SEED_VCJOB, "minAvailable: 1", "minAvailable: 3"),
     "line 6: minAvailable (3) must not be greater than the total replicas of all tasks (2)", False),
    ("duplicate-policy-events", replace(SEED_VCJOB, "  tasks:\n", "  policies:\n    - event: PodEvicted\n      action: RestartJob\n"
                                        "    - events: [PodFailed, PodEvicted]\n      action: AbortJob\n  tasks:\n"),
     "line 11: policies[1]: the event PodEvicted is already handled by policies[0]; each event may appear in one policy only",
     False),
    ("unknown-field", replace(SEED_VCJOB, "  minAvailable: 1\n", "  minAvailable: 1\n  minAvaliable: 2\n"),
     "line 7: minAvaliable is not a field Volcano knows here (check the spelling)", False),
    ("uppercase-name", replace(SEED_VCJOB, "name: test-job", "name: Test_Job"),
     "line 4: metadata.name \"Test_Job\" must be lowercase letters, digits and '-', start and end with a letter or digit, "
     "at most 63 characters", False),
    ("container-without-image", replace(SEED_VCJOB, "            - image: busybox\n              command", "            - command"),
     "line 14: tasks[0].template.spec.containers[0].image is required", False),
    ("bad-quantity", replace(SEED_VCJOB, "              name: sleep-container\n",
                             "              name: sleep-container\n              resources:\n                requests:\n"
                             "                  memory: 2 GB\n"),
     'line 19: tasks[0].template.spec.containers[0].resources.requests.memory "2 GB" must be a quantity such as 500m, 2 or 4Gi',
     True),
    ("gpu-without-limit", replace(SEED_VCJOB, "              name: sleep-container\n",
                                  "              name: sleep-container\n              resources:\n                requests:\n"
                                  "                  nvidia.com/gpu: 1\n"),
     "line 18: tasks[0].template.spec.containers[0].resources: nvidia.com/gpu is an extended resource; its limit must "
     "equal its request (1)", False),
    ("restart-policy", replace(SEED_VCJOB, "restartPolicy: Never", "restartPolicy: Sometimes"),
     "line 17: tasks[0].template.spec.restartPolicy must be one of Always, OnFailure, Never", False),
    ("exit-code-zero", replace(SEED_VCJOB, "  tasks:\n", "  policies:\n    - exitCode: 0\n      action: RestartJob\n  tasks:\n"),
     "line 9: policies[0].exitCode: 0 is not an error code", False),
]


@pytest.mark.parametrize("name,text,message,crd_refuses", BROKEN, ids=[case[0] for case in BROKEN])
def test_each_broken_manifest_is_refused_with_its_message(name, text, message, crd_refuses):
    [document] = read_documents(text)
    assert message in [str(problem) for problem in document.problems]
    # Where Volcano's CRD schema lets it through, it is one of the webhook's rules (or a typo the
    # API server would silently drop): the portal is the one that catches it before sending.
    assert bool(crd_errors("batch.volcano.sh_jobs.yaml", document.manifest)) == crd_refuses


def test_unreadable_yaml_says_where():
    with pytest.raises(ManifestError) as error:
        read_documents(SEED_VCJOB.replace("  schedulerName: volcano", "  schedulerName: [volcano"))
    assert str(error.value).startswith("line 8: The YAML cannot be read:")


def test_documents_that_are_not_mappings_are_refused():
    [document] = read_documents("- just\n- a list\n")
    assert str(document.problems[0]) == "line 1: Document 1 is not a mapping of fields (key: value)."


def test_namespaced_documents_get_the_chosen_namespace_and_cluster_scoped_ones_none():
    job, queue = read_documents(SEED_VCJOB + "---\n" + (SHARED / "examples/deployment-queue.yaml").read_text(),
                                namespace="team-a")
    assert job.namespace == "team-a" and job.manifest["metadata"]["namespace"] == "team-a"
    assert queue.namespace == "" and "namespace" not in queue.manifest["metadata"]
