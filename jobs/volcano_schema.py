"""Checking manifests before anything is sent: YAML with line numbers, the portal's own schema of
Volcano's Job and Queue (jobs/schemas/*.json, a strict subset of Volcano's CRDs), and the rules
Volcano's admission webhook enforces that the CRD schema does not (tasks present, unique task names,
minAvailable within the replicas, no policy event twice, ...).

Every problem is a sentence with the field's path (`tasks[0].replicas must be an integer`) and,
for YAML input, the line it is on.
"""

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path

import yaml
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from jsonschema import Draft7Validator

from clusters.manifests import yaml_documents

VCJOB_API_VERSION = "batch.volcano.sh/v1alpha1"
QUEUE_API_VERSION = "scheduling.volcano.sh/v1beta1"
VOLCANO_API_GROUPS = ("batch.volcano.sh", "scheduling.volcano.sh", "bus.volcano.sh")
SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
# Kinds that live outside namespaces, among those people put beside their jobs.
CLUSTER_SCOPED_KINDS = {
    "Namespace", "Queue", "Node", "PersistentVolume", "StorageClass", "PriorityClass", "ClusterRole",
    "ClusterRoleBinding", "CustomResourceDefinition", "HyperNode",
}
MAX_POD_NAME = 63


@dataclass
class Problem:
    message: str
    line: int | None = None

    def __str__(self):
        if self.line:
            return _("line %(line)s: %(message)s") % {"line": self.line, "message": self.message}
        return self.message


@dataclass
class Document:
    """One document of a manifest, with what is wrong with it (nothing, if it may be sent)."""

    position: int
    manifest: dict | None
    problems: list = field(default_factory=list)

    @property
    def api_version(self):
        return str((self.manifest or {}).get("apiVersion") or "")

    @property
    def kind(self):
        return str((self.manifest or {}).get("kind") or "")

    @property
    def name(self):
        return str(((self.manifest or {}).get("metadata") or {}).get("name") or "")

    @property
    def namespace(self):
        return str(((self.manifest or {}).get("metadata") or {}).get("namespace") or "")

    @property
    def is_vcjob(self):
        return self.api_version == VCJOB_API_VERSION and self.kind == "Job"

    @property
    def is_queue(self):
        return self.api_version == QUEUE_API_VERSION and self.kind == "Queue"

    @property
    def error(self):
        return "\n".join(str(problem) for problem in self.problems)


class ManifestError(Exception):
    """The text is not YAML at all; str() says where and why."""

    def __init__(self, problem):
        super().__init__(str(problem))
        self.problem = problem


# ---------------------------------------------------------------- reading YAML


def read_documents(text, namespace="default"):
    """Every non-empty document of `text`, checked. Raises ManifestError if the YAML cannot be read.

    Namespaced objects without a namespace get `namespace` (like `kubectl -n`), so the manifest that
    is stored and sent says where it went.
    """
    try:
        parsed = yaml_documents(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ManifestError(Problem(_("The YAML cannot be read: %(problem)s") % {"problem": problem},
                                    mark.line + 1 if mark else None))
    documents = []
    for node, manifest in parsed:
        if manifest is None:
            continue
        position = len(documents) + 1
        if not isinstance(manifest, dict):
            problem = Problem(_("Document %(position)s is not a mapping of fields (key: value).")
                              % {"position": position}, node.start_mark.line + 1)
            documents.append(Document(position, None, [problem]))
            continue
        metadata = manifest.get("metadata")
        if isinstance(metadata, dict) and not metadata.get("namespace") and manifest.get("kind") not in \
                CLUSTER_SCOPED_KINDS:
            metadata["namespace"] = namespace
        problems = [Problem(message, line_of(node, path)) for path, message in check_manifest(manifest)]
        documents.append(Document(position, manifest, problems))
    return documents


def line_of(node, path):
    """The 1-based line of the deepest node of `path` that exists in the YAML."""
    line = node.start_mark.line + 1
    for part in path:
        if isinstance(node, yaml.MappingNode):
            found = next((value for key, value in node.value if key.value == part), None)
            if found is None:
                found = next((key for key, value in node.value if key.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            found = node.value[part]
        else:
            found = None
        if found is None:
            break
        node = found
        line = node.start_mark.line + 1
    return line


# ---------------------------------------------------------------- checks


def check_manifest(manifest):
    """[(path, message)] for one object: Volcano jobs and queues in full, other kinds their identity."""
    problems = []
    for key in ("apiVersion", "kind"):
        if not isinstance(manifest.get(key), str) or not manifest.get(key):
            problems.append(((key,), _("%(path)s is required") % {"path": key}))
    if problems:
        return problems
    if manifest["apiVersion"] == VCJOB_API_VERSION and manifest["kind"] == "Job":
        return check_vcjob(manifest)
    if manifest["apiVersion"] == QUEUE_API_VERSION and manifest["kind"] == "Queue":
        return check_queue(manifest)
    metadata = manifest.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str) or not metadata.get("name"):
        return [(("metadata",), _("%(path)s is required") % {"path": "metadata.name"})]
    return []


def check_vcjob(job):
    problems = schema_problems("vcjob", job)
    return problems or webhook_rules(job)


def check_queue(queue):
    return schema_problems("queue", queue)


@cache
def _validator(name):
    return Draft7Validator(json.loads((SCHEMA_DIR / f"{name}.json").read_text()))


def schema(name):
    return _validator(name).schema


def schema_problems(name, document):
    errors = sorted(_validator(name).iter_errors(document), key=lambda error: [str(p) for p in error.absolute_path])
    problems = []
    for error in errors:
        for path, message in _describe(error):
            if (path, message) not in problems:
                problems.append((path, message))
    return problems


TYPE_WORDS = {
    "integer": gettext_noop("an integer"), "string": gettext_noop("a string"),
    "object": gettext_noop("a mapping (key: value)"), "array": gettext_noop("a list"),
    "boolean": gettext_noop("true or false"), "number": gettext_noop("a number"),
}


def render_path(path):
    """("spec", "tasks", 0, "replicas") -> "tasks[0].replicas": paths inside spec are shown without it."""
    parts = list(path)
    if parts[:1] == ["spec"] and len(parts) > 1:
        parts = parts[1:]
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _describe(error):
    """[(path, message)] for one jsonschema error, in words a person can act on."""
    path = tuple(error.absolute_path)
    where = render_path(path) or _("the document")
    kind, hint = error.validator, error.schema.get("x-message")
    if kind == "required":
        missing = re.match(r"^'(.*)' is a required property$", error.message)
        name = missing.group(1) if missing else str(error.validator_value)
        child = path + (name,)
        return [(path, _("%(path)s is required") % {"path": render_path(child)})]
    if kind == "additionalProperties":
        known = set(error.schema.get("properties") or {})
        return [(path + (extra,), _("%(path)s is not a field Volcano knows here (check the spelling)")
                 % {"path": render_path(path + (extra,))}) for extra in sorted(set(error.instance) - known)]
    if "propertyNames" in error.schema_path:
        return [(path, _("%(path)s: %(name)s is not one of %(choices)s")
                 % {"path": where, "name": error.instance, "choices": ", ".join(error.validator_value)})]
    if kind == "type":
        if hint:
            return [(path, f"{where} {_(hint)}")]
        expected = error.validator_value if isinstance(error.validator_value, str) else error.validator_value[0]
        return [(path, _("%(path)s must be %(type)s") % {"path": where, "type": _(TYPE_WORDS.get(expected, expected))})]
    if kind in ("minItems", "minLength") and error.validator_value == 1:
        return [(path, _("%(path)s must not be empty") % {"path": where})]
    if kind == "minimum":
        return [(path, _("%(path)s must be at least %(minimum)s") % {"path": where, "minimum": error.validator_value})]
    if kind == "maximum":
        return [(path, _("%(path)s must be at most %(maximum)s") % {"path": where, "maximum": error.validator_value})]
    if kind == "enum":
        return [(path, _("%(path)s must be one of %(choices)s")
                 % {"path": where, "choices": ", ".join(str(choice) for choice in error.validator_value)})]
    if kind in ("pattern", "maxLength") and hint:
        return [(path, f'{where} "{error.instance}" {_(hint)}')]
    return [(path, f"{where}: {error.message}")]


# The schema's x-message hints, for makemessages (they are translated where they are shown).
SCHEMA_HINTS = [
    gettext_noop("must be lowercase letters, digits and '-', start and end with a letter or digit, at most 63 "
                 "characters"),
    gettext_noop("must be lowercase letters, digits, '-' and '.', start and end with a letter or digit"),
    gettext_noop("must be a quantity such as 500m, 2 or 4Gi"),
    gettext_noop("must be a path without ':'"),
]


# ---------------------------------------------------------------- what Volcano's webhook adds


def webhook_rules(job):
    """Volcano's admission webhook (validateJobCreate) checks these; the CRD schema does not."""
    name, spec = job["metadata"]["name"], job["spec"]
    problems = []
    seen_tasks, total = {}, 0
    for index, task in enumerate(spec["tasks"]):
        path = ("spec", "tasks", index)
        replicas = task.get("replicas", 0)
        total += replicas
        if task["name"] in seen_tasks:
            problems.append((path + ("name",), _('%(path)s: the task name "%(name)s" is already used by '
                                                  'tasks[%(other)s]; task names must be unique')
                             % {"path": render_path(path + ("name",)), "name": task["name"],
                                "other": seen_tasks[task["name"]]}))
        seen_tasks.setdefault(task["name"], index)
        if task.get("minAvailable", 0) > replicas:
            problems.append((path + ("minAvailable",), _("%(path)s (%(min)s) must not be greater than its "
                                                          "replicas (%(replicas)s)")
                             % {"path": render_path(path + ("minAvailable",)), "min": task["minAvailable"],
                                "replicas": replicas}))
        pod_name = f"{name}-{task['name']}-{max(replicas - 1, 0)}"
        if len(pod_name) > MAX_POD_NAME:
            problems.append((path + ("name",), _("%(path)s: the pod name %(pod)s would be longer than %(max)s "
                                                  "characters; shorten the job or task name")
                             % {"path": render_path(path + ("name",)), "pod": pod_name, "max": MAX_POD_NAME}))
        problems += policy_rules(task.get("policies") or [], path + ("policies",))
        problems += pod_rules(task["template"]["spec"], path + ("template", "spec"))
    if spec.get("minAvailable", 0) > total:
        problems.append((("spec", "minAvailable"), _("minAvailable (%(min)s) must not be greater than the total "
                                                     "replicas of all tasks (%(total)s)")
                         % {"min": spec["minAvailable"], "total": total}))
    problems += policy_rules(spec.get("policies") or [], ("spec", "policies"))
    problems += volume_rules(spec.get("volumes") or [])
    return problems


def policy_rules(policies, path):
    problems, events, exit_codes = [], {}, set()
    for index, policy in enumerate(policies):
        where = path + (index,)
        text = render_path(where)
        policy_events = ([policy["event"]] if policy.get("event") else []) + list(policy.get("events") or [])
        if policy_events and "exitCode" in policy:
            problems.append((where, _("%(path)s: give an event or an exitCode, not both") % {"path": text}))
        elif not policy_events and "exitCode" not in policy:
            problems.append((where, _("%(path)s: give an event or an exitCode") % {"path": text}))
        elif "exitCode" in policy:
            if policy["exitCode"] == 0:
                problems.append((where + ("exitCode",), _("%(path)s.exitCode: 0 is not an error code")
                                 % {"path": text}))
            elif policy["exitCode"] in exit_codes:
                problems.append((where + ("exitCode",), _("%(path)s.exitCode %(code)s is already used by another "
                                                          "policy") % {"path": text, "code": policy["exitCode"]}))
            exit_codes.add(policy["exitCode"])
        if not policy.get("action"):
            problems.append((where, _("%(path)s is required") % {"path": render_path(where + ("action",))}))
        for event in dict.fromkeys(policy_events):
            if event in events:
                problems.append((where, _("%(path)s: the event %(event)s is already handled by %(other)s; "
                                          "each event may appear in one policy only")
                                 % {"path": text, "event": event, "other": render_path(path + (events[event],))}))
            events.setdefault(event, index)
    if "*" in events and len(events) > 1:
        problems.append((path, _("%(path)s: a policy for every event (*) must be the only event policy")
                         % {"path": render_path(path)}))
    return problems


def pod_rules(pod_spec, path):
    problems, names = [], set()
    for group in ("initContainers", "containers"):
        for index, container in enumerate(pod_spec.get(group) or []):
            where = path + (group, index)
            if container["name"] in names:
                problems.append((where + ("name",), _('%(path)s: the container name "%(name)s" is used twice')
                                 % {"path": render_path(where + ("name",)), "name": container["name"]}))
            names.add(container["name"])
            resources = container.get("resources") or {}
            requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
            for resource, request in requests.items():
                limit = limits.get(resource)
                if "/" in resource and not resource.startswith("hugepages-") and \
                        (limit is None or quantity(limit) != quantity(request)):
                    problems.append((where + ("resources",), _("%(path)s: %(resource)s is an extended resource; its "
                                                               "limit must equal its request (%(request)s)")
                                     % {"path": render_path(where + ("resources",)), "resource": resource,
                                        "request": request}))
                elif limit is not None and quantity(request) > quantity(limit):
                    problems.append((where + ("resources",), _("%(path)s: the %(resource)s request %(request)s is "
                                                               "above its limit %(limit)s")
                                     % {"path": render_path(where + ("resources",)), "resource": resource,
                                        "request": request, "limit": limit}))
    return problems


def volume_rules(volumes):
    problems, mount_paths = [], set()
    for index, volume in enumerate(volumes):
        where = ("spec", "volumes", index)
        if volume["mountPath"] in mount_paths:
            problems.append((where, _("%(path)s: the mountPath %(mount)s is used twice")
                             % {"path": render_path(where), "mount": volume["mountPath"]}))
        mount_paths.add(volume["mountPath"])
        if bool(volume.get("volumeClaim")) == bool(volume.get("volumeClaimName")):
            problems.append((where, _("%(path)s: give either volumeClaimName (an existing claim) or volumeClaim "
                                      "(a new one)") % {"path": render_path(where)}))
    return problems


_QUANTITY = re.compile(r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$")
_SUFFIXES = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1), "k": Decimal(10**3),
             "M": Decimal(10**6), "G": Decimal(10**9), "T": Decimal(10**12), "P": Decimal(10**15),
             "E": Decimal(10**18), "Ki": Decimal(2**10), "Mi": Decimal(2**20), "Gi": Decimal(2**30),
             "Ti": Decimal(2**40), "Pi": Decimal(2**50), "Ei": Decimal(2**60)}


def quantity(value):
    """A Kubernetes quantity ("500m", "4Gi", 2) as a Decimal; the schema has already checked its form."""
    match = _QUANTITY.match(str(value).strip())
    try:
        return Decimal(match.group(1)) * _SUFFIXES[match.group(2)]
    except (AttributeError, KeyError, InvalidOperation):
        return Decimal(0)
