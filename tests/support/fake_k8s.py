"""A fake Kubernetes API server for tests: a real HTTP server on 127.0.0.1 that keeps objects.

The unmodified ``kubernetes`` Python client, kubectl, Celery workers and daphne subprocesses reach it
through a generated kubeconfig, exactly as they would reach a cluster.

    api = FakeKubeAPI().start()
    path = api.write_kubeconfig(tmp_path / "kubeconfig")
    client = kubernetes.config.new_client_from_config(config_file=str(path), context="kind-lab")
    ...
    api.stop()

Standalone (serves until Ctrl-C and prints the kubeconfig path it wrote)::

    python -m tests.support.fake_k8s --port 18080 --seed kind --pods 5000

What it answers, the way kube-apiserver 1.30 does:

* discovery: ``/version``, ``/api``, ``/api/v1``, ``/apis``, ``/apis/<group>[/<version>]``;
  a group is listed only while it has resources (``uninstall_group`` / ``volcano=False`` remove Volcano);
* for every registered resource (``RESOURCES`` below, plus any CustomResourceDefinition created later):
  list (cluster-wide and namespaced), get, create (201), replace, patch (merge, strategic merge,
  JSON patch, server-side apply), delete, deletecollection, and watch;
  labelSelector, fieldSelector, limit/continue (+ remainingItemCount), resourceVersion, timeoutSeconds,
  allowWatchBookmarks; Status bodies for 400/401/403/404/409/410/415/422/429/503 with the real messages;
* subresources: ``/status`` (writes change only status, and main-resource writes keep status, as for
  built-in types and CRDs with a status subresource), ``/scale`` (autoscaling/v1 Scale),
  ``pods/log`` (container, tailLines, sinceSeconds, sinceTime, timestamps, previous, limitBytes, follow),
  ``pods/eviction`` (blocked with 429 by a matching PodDisruptionBudget that allows no disruption),
  ``pods/<name>[:<port>]/proxy/<path>`` (forwarded to a URL registered with ``register_pod_proxy``);
* ``Accept: application/json;as=Table`` (what kubectl's default output asks for): a meta.k8s.io/v1 Table
  with the same columns kubectl shows for pods, nodes, deployments, services, namespaces, events, and
  Name/Age for the rest.

Design, and why:

* Standard library ``ThreadingHTTPServer`` speaking HTTP/1.1 with keep-alive, one daemon thread per
  connection, in a background thread. Streams (watch, log follow, proxy) are chunked responses written
  as data arrives, with TCP_NODELAY, so a followed log line reaches the client at once. Blocking threads
  make streaming a proxied 1 GiB upload simple (read a chunk, write a chunk) and need no event loop that
  sync tests, Celery and daphne would have to share. No dependency on Django or on any other package.
* kmock 0.8 was the alternative (see the research notes): its creates grow quadratically with the store,
  it has no namespaces list, PUT, deletecollection or fieldSelector, answers 200 to custom creates (the
  client then returns None), fills no metadata and ignores watch timeoutSeconds.
* The store is a dict per resource keyed by (namespace, name), plus a cached sorted key list for paging,
  so a create is O(1) and a page of 500 out of 5,000 pods is a bisect and a slice. One global integer
  resourceVersion is bumped by every write. Stored objects are never mutated (every write stores a new
  dict), so lists and watch events can share them without copies. An event log of the last
  ``event_log_size`` writes serves watches from a resourceVersion; older ones get a 410 Expired ERROR event.
* Seeding from tests goes straight to the store (``put``, ``bulk_put``, ``get``, ``list``, ``delete``),
  with the same defaults a create over HTTP gets, so 5,000 pods take a fraction of a second.
* Auth: with a token, every request but ``/version`` and the health checks needs ``Authorization:
  Bearer <token>`` (401 otherwise). ``forbid(verb, resource)`` turns matching requests into 403 with
  kube-apiserver's RBAC message. client-go (so kubectl) sends a kubeconfig's token only over TLS, so
  ``tls=True`` serves https with a self-signed certificate (made with ``cryptography``, a project
  dependency) whose CA the generated kubeconfig carries; the Python client works either way.
* DELETE answers with the deleted object where the OpenAPI spec (and so the typed client) expects one
  (pods, services, serviceaccounts, PVCs, custom resources) and with a Success Status elsewhere.
* ``requests_log`` records (method, percent-decoded path, query dict, Content-Type) of every request,
  so tests can assert what the portal sent.
* Pod proxy: like kube-apiserver, the ``Authorization`` header the server authenticated is removed
  before forwarding (the real authentication filter deletes it), so an agent token must travel in
  another header (for example ``X-Agent-Authorization``); every other end-to-end header, the method,
  the query string and the body are forwarded, and both bodies are streamed chunk by chunk.

What it does not do:

* No controllers: a Deployment makes no ReplicaSet or pods, a Volcano Job no pods or PodGroup, a Command
  is only stored, deleting a pod is immediate (no graceful termination), and nothing fills status.
  Tests set the state they need with ``put``. The only cascade: deleting a namespace deletes what is in it.
* No admission, no OpenAPI schema validation (only a few checks: names, pod containers, deployment
  selector), no managedFields. Server-side apply merges the applied object into the live one (it never
  removes fields a manager stopped applying). Strategic merge patch is a JSON merge patch in which the
  common lists (containers, env, ports, volumes, volumeMounts, conditions, ...) are merged by their key
  and ``$patch: delete``/``replace`` work; other ``$`` directives are dropped.
* A continue token pages through the current state, not a snapshot at the first page's resourceVersion.
* No websockets (exec/attach/port-forward), no protobuf, no aggregated (v2) discovery: clients fall back
  to the legacy discovery documents, as they do with older servers. No OpenAPI documents (``/openapi``),
  so ``kubectl apply``/``create`` with client-side validation need ``--validate=false``.
* Lists honour resourceVersion only by answering with the current one; a watch from a resourceVersion
  newer than the current one just waits.
"""
from __future__ import annotations

import argparse
import base64
import bisect
import datetime as dt
import http.client
import json
import os
import random
import re
import select
import socket
import ssl
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import NamedTuple
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import yaml


# --------------------------------------------------------------------------- resources

@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    short_names: tuple = ()
    subresources: tuple = ()  # of "status", "scale", "log", "proxy", "eviction"

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> str:
        return f"{self.api_version}/{self.plural}"

    @property
    def qualified(self) -> str:
        """How error messages name the resource: ``pods``, ``deployments.apps``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def builtin(self) -> bool:
        return self.group in BUILTIN_GROUPS


def _r(group, version, plural, kind, namespaced, short_names=(), subresources=()):
    return Resource(group, version, plural, kind, namespaced, tuple(short_names), tuple(subresources))


# One line per resource. Custom resources are added when their CustomResourceDefinition is created.
RESOURCES = [
    _r("", "v1", "namespaces", "Namespace", False, ["ns"], ["status"]),
    _r("", "v1", "nodes", "Node", False, ["no"], ["status"]),
    _r("", "v1", "pods", "Pod", True, ["po"], ["status", "log", "proxy", "eviction"]),
    _r("", "v1", "services", "Service", True, ["svc"], ["status"]),
    _r("", "v1", "events", "Event", True, ["ev"]),
    _r("", "v1", "configmaps", "ConfigMap", True, ["cm"]),
    _r("", "v1", "secrets", "Secret", True),
    _r("", "v1", "serviceaccounts", "ServiceAccount", True, ["sa"]),
    _r("", "v1", "endpoints", "Endpoints", True, ["ep"]),
    _r("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", True, ["pvc"], ["status"]),
    _r("apps", "v1", "deployments", "Deployment", True, ["deploy"], ["status", "scale"]),
    _r("apps", "v1", "replicasets", "ReplicaSet", True, ["rs"], ["status", "scale"]),
    _r("apps", "v1", "statefulsets", "StatefulSet", True, ["sts"], ["status", "scale"]),
    _r("apps", "v1", "daemonsets", "DaemonSet", True, ["ds"], ["status"]),
    _r("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, ["pdb"], ["status"]),
    _r("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", False,
       ["crd", "crds"], ["status"]),
]
BUILTIN_GROUPS = {"", "apps", "policy", "apiextensions.k8s.io", "autoscaling"}
VOLCANO_GROUPS = ("batch.volcano.sh", "scheduling.volcano.sh", "bus.volcano.sh")

# Minimal Volcano CRDs (names, scope, subresources as in Volcano's own CRD files; no schema).
VOLCANO_CRDS = [
    # group, version, plural, kind, scope, short names, status subresource, printer columns
    ("batch.volcano.sh", "v1alpha1", "jobs", "Job", "Namespaced", ["vcjob", "vj"], True),
    ("bus.volcano.sh", "v1alpha1", "commands", "Command", "Namespaced", [], False),
    ("scheduling.volcano.sh", "v1beta1", "podgroups", "PodGroup", "Namespaced", ["pg", "podgroup-v1beta1"], False),
    ("scheduling.volcano.sh", "v1beta1", "queues", "Queue", "Cluster", ["q", "queue-v1beta1"], True),
]


def make_crd(group, version, plural, kind, scope="Namespaced", short_names=(), status=True) -> dict:
    """A CustomResourceDefinition object with one served version and a permissive schema."""
    names = {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower()}
    if short_names:
        names["shortNames"] = list(short_names)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}",
                     "annotations": {"controller-gen.kubebuilder.io/version": "v0.20.0"}},
        "spec": {
            "group": group,
            "names": names,
            "scope": scope,
            "versions": [{
                "name": version, "served": True, "storage": True,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
                "subresources": {"status": {}} if status else {},
            }],
        },
        "status": {"acceptedNames": names, "storedVersions": [version],
                   "conditions": [{"type": "Established", "status": "True", "reason": "InitialNamesAccepted",
                                   "message": "the initial names have been accepted",
                                   "lastTransitionTime": now_rfc3339()}]},
    }


def volcano_crds() -> list[dict]:
    return [make_crd(g, v, p, k, scope, short, status) for g, v, p, k, scope, short, status in VOLCANO_CRDS]


def resources_from_crd(crd: dict) -> list[Resource]:
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    out = []
    for version in spec.get("versions") or []:
        if not version.get("served", True):
            continue
        subresources = ["status"] if "status" in (version.get("subresources") or {}) else []
        if "scale" in (version.get("subresources") or {}):
            subresources.append("scale")
        out.append(Resource(spec["group"], version["name"], names["plural"], names["kind"],
                            spec.get("scope", "Namespaced") == "Namespaced",
                            tuple(names.get("shortNames") or ()), tuple(subresources)))
    return out


# --------------------------------------------------------------------------- errors

REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
           406: "NotAcceptable", 409: "Conflict", 410: "Expired", 415: "UnsupportedMediaType", 422: "Invalid",
           429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout"}


def status_body(code: int, message: str, reason: str | None = None, details: dict | None = None) -> dict:
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason or REASONS.get(code, "Unknown")}
    if details is not None:
        body["details"] = details
    body["code"] = code
    return body


class ApiError(Exception):
    """Raised by handlers; answered as a Status body with this code."""

    def __init__(self, code: int, message: str, reason: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.code = code
        self.body = status_body(code, message, reason, details)


def _details(res: Resource, name: str) -> dict:
    d = {"name": name}
    if res.group:
        d["group"] = res.group
    d["kind"] = res.plural
    return d


def not_found(res: Resource, name: str) -> ApiError:
    return ApiError(404, f'{res.qualified} "{name}" not found', "NotFound", _details(res, name))


def namespace_not_found(name: str) -> ApiError:
    return ApiError(404, f'namespaces "{name}" not found', "NotFound", {"name": name, "kind": "namespaces"})


def invalid(res: Resource, name: str, field: str, cause_reason: str, message: str) -> ApiError:
    kind_q = f"{res.kind}.{res.group}" if res.group else res.kind
    details = {"name": name}
    if res.group:
        details["group"] = res.group
    details.update(kind=res.kind, causes=[{"reason": cause_reason, "message": message, "field": field}])
    return ApiError(422, f'{kind_q} "{name}" is invalid: {field}: {message}', "Invalid", details)


NO_ROUTE = "the server could not find the requested resource"


# --------------------------------------------------------------------------- small helpers

def now_rfc3339(t: float | None = None) -> str:
    return dt.datetime.fromtimestamp(time.time() if t is None else t, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str) -> float:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _clone(obj):
    """Deep copy of a JSON document (faster than copy.deepcopy, and proves it is JSON)."""
    return json.loads(json.dumps(obj))


def _dumps(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def human_age(seconds: float) -> str:
    """kubectl's duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m{s % 60}s" if s % 60 else f"{m}m"
    if m < 180:
        return f"{m}m"
    h = m // 60
    if h < 8:
        return f"{h}h{m % 60}m" if m % 60 else f"{h}h"
    if h < 48:
        return f"{h}h"
    if h < 24 * 8:
        return f"{h // 24}d{h % 24}h" if h % 24 else f"{h // 24}d"
    if h < 24 * 365 * 2:
        return f"{h // 24}d"
    if h < 24 * 365 * 8:
        return f"{h // 24 // 365}y{(h // 24) % 365}d"
    return f"{h // 24 // 365}y"


_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
NAME_RULES = {
    "subdomain": (_SUBDOMAIN, 253, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                  "characters, '-' or '.', and must start and end with an alphanumeric character (e.g. "
                  "'example.com', regex used for validation is "
                  r"'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"),
    "label": (_LABEL_1123, 63, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
              "or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
              "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"),
    "1035": (_LABEL_1035, 63, "a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
             "start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
             "'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"),
}
NAME_RULE_OF_KIND = {"Namespace": "label", "Service": "1035"}


# --------------------------------------------------------------------------- selectors

class Requirement(NamedTuple):
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!"
    values: tuple


_SET_REQ = re.compile(r"^\s*([^\s!=()]+)\s+(in|notin)\s*\(([^)]*)\)\s*$")


def _split_selector(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def parse_label_selector(text: str | None) -> list[Requirement]:
    reqs = []
    for part in _split_selector(text or ""):
        m = _SET_REQ.match(part)
        if m:
            values = tuple(v.strip() for v in m.group(3).split(",") if v.strip())
            reqs.append(Requirement(m.group(1), m.group(2), values))
        elif "!=" in part:
            k, v = part.split("!=", 1)
            reqs.append(Requirement(k.strip(), "!=", (v.strip(),)))
        elif "=" in part:
            k, v = part.split("==", 1) if "==" in part else part.split("=", 1)
            reqs.append(Requirement(k.strip(), "=", (v.strip(),)))
        elif part.startswith("!"):
            reqs.append(Requirement(part[1:].strip(), "!", ()))
        elif re.match(r"^[A-Za-z0-9_./-]+$", part):
            reqs.append(Requirement(part, "exists", ()))
        else:
            raise ApiError(400, f"unable to parse requirement: found '{part}', expected: in, notin, =, ==, !=, gt, lt")
    return reqs


def labels_match(reqs: list[Requirement], labels: dict | None) -> bool:
    labels = labels or {}
    for key, op, values in reqs:
        present = key in labels
        value = labels.get(key)
        if op == "=" and value != values[0]:
            return False
        if op == "!=" and present and value == values[0]:
            return False
        if op == "in" and (not present or value not in values):
            return False
        if op == "notin" and present and value in values:
            return False
        if op == "exists" and not present:
            return False
        if op == "!" and present:
            return False
    return True


# Field labels the real server accepts, besides metadata.name and metadata.namespace.
FIELD_LABELS = {
    "pods": {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
             "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"},
    "events": {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
               "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
               "reason", "reportingComponent", "source", "type"},
    "nodes": {"spec.unschedulable"},
    "namespaces": {"status.phase"},
    "secrets": {"type"},
    "replicasets": {"status.replicas"},
    "jobs": {"status.successful"},
}


def parse_field_selector(text: str | None, res: Resource) -> list[Requirement]:
    reqs = []
    allowed = {"metadata.name", "metadata.namespace"} | FIELD_LABELS.get(res.plural, set()) if res.builtin \
        else {"metadata.name", "metadata.namespace"}
    for part in _split_selector(text or ""):
        if "!=" in part:
            k, v, op = *part.split("!=", 1), "!="
        elif "=" in part:
            k, v = part.split("==", 1) if "==" in part else part.split("=", 1)
            op = "="
        else:
            raise ApiError(400, f"invalid selector: '{text}'; can't understand '{part}'")
        k = k.strip()
        if k not in allowed:
            raise ApiError(400, f'field label not supported: {k}')
        reqs.append(Requirement(k, op, (v.strip(),)))
    return reqs


def _field_value(obj: dict, path: str) -> str:
    if path == "source":  # events: source.component
        path = "source.component"
    value = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def fields_match(reqs: list[Requirement], obj: dict) -> bool:
    for key, op, values in reqs:
        equal = _field_value(obj, key) == values[0]
        if equal != (op == "="):
            return False
    return True


# --------------------------------------------------------------------------- patches

def merge_patch(target, patch):
    """RFC 7386 JSON merge patch (returns a new document)."""
    if not isinstance(patch, dict):
        return _clone(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# list field name -> merge key, for strategic merge patch
STRATEGIC_LIST_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name", "env": "name",
    "volumes": "name", "volumeMounts": "mountPath", "volumeDevices": "devicePath", "imagePullSecrets": "name",
    "conditions": "type", "ownerReferences": "uid", "containerStatuses": "name", "initContainerStatuses": "name",
    "addresses": "type", "hostAliases": "ip", "topologySpreadConstraints": "topologyKey", "tasks": "name",
}


def strategic_merge_patch(target, patch, field: str = ""):
    """Merge patch, but lists of known objects are merged by their key (simplified strategic merge)."""
    if isinstance(patch, list):
        return _merge_list(target, patch, field)
    if not isinstance(patch, dict):
        return _clone(patch)
    if patch.get("$patch") == "replace":
        return {k: _clone(v) for k, v in patch.items() if not k.startswith("$")}
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            result.pop(key, None)
        else:
            result[key] = strategic_merge_patch(result.get(key), value, key)
    return result


def _list_merge_key(field: str, items: list) -> str | None:
    if field == "ports":
        first = next((i for i in items if isinstance(i, dict)), {})
        return "containerPort" if "containerPort" in first else "port"
    return STRATEGIC_LIST_KEYS.get(field)


def _merge_list(target, patch: list, field: str):
    key = _list_merge_key(field, patch)
    if not key or not isinstance(target, list) or not all(isinstance(i, dict) for i in patch):
        return [_clone(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
    result = list(target)
    for item in patch:
        if item.get("$patch") == "replace":
            return [_clone(i) for i in patch if i.get("$patch") != "replace"]
        index = next((n for n, old in enumerate(result) if isinstance(old, dict) and old.get(key) == item.get(key)),
                     None)
        if item.get("$patch") == "delete":
            if index is not None:
                result.pop(index)
        elif index is None:
            result.append(strategic_merge_patch({}, item))
        else:
            result[index] = strategic_merge_patch(result[index], item)
    return result


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise ApiError(422, f"invalid JSON pointer: {path}", "Invalid")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc, parts):
    for part in parts:
        if isinstance(doc, list):
            doc = doc[int(part)]
        elif isinstance(doc, dict):
            doc = doc[part]
        else:
            raise KeyError(part)
    return doc


def json_patch(doc, operations):
    """RFC 6902 JSON patch: add, remove, replace, move, copy, test."""
    doc = _clone(doc)
    if not isinstance(operations, list):
        raise ApiError(400, "json: cannot unmarshal object into Go value of type jsonpatch.Patch", "BadRequest")
    for op in operations:
        try:
            name, parts = op["op"], _pointer(op["path"])
            if name in ("move", "copy"):
                source = _pointer(op["from"])
                value = _clone(_walk(doc, source))
                if name == "move":
                    doc = _remove(doc, source)
                doc = _add(doc, parts, value)
            elif name == "add":
                doc = _add(doc, parts, _clone(op["value"]))
            elif name == "remove":
                doc = _remove(doc, parts)
            elif name == "replace":
                _walk(doc, parts)  # must exist
                doc = _add(_remove(doc, parts), parts, _clone(op["value"]))
            elif name == "test":
                if _walk(doc, parts) != op["value"]:
                    raise ApiError(422, f"the server rejected our request due to an error in our request: "
                                        f"testing value {op['path']} failed", "Invalid")
            else:
                raise ApiError(400, f"Unexpected kind: {name}", "BadRequest")
        except (KeyError, IndexError, ValueError, TypeError) as e:
            raise ApiError(422, f"the server rejected our request due to an error in our request: "
                                f"doc is missing path: \"{op.get('path')}\": {e!r}", "Invalid")
    return doc


def _add(doc, parts, value):
    if not parts:
        return value
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, list):
        if last == "-":
            parent.append(value)
        else:
            index = int(last)
            if index > len(parent):
                raise IndexError(index)
            parent.insert(index, value)
    elif isinstance(parent, dict):
        parent[last] = value
    else:
        raise KeyError(last)
    return doc


def _remove(doc, parts):
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, list):
        parent.pop(int(last))
    else:
        del parent[last]
    return doc


# --------------------------------------------------------------------------- the store

class WatchEvent(NamedTuple):
    rv: int
    type: str  # ADDED, MODIFIED, DELETED
    resource: str  # Resource.key
    obj: dict
    old: dict | None


class Store:
    """Objects per resource, keyed by (namespace, name); one resourceVersion counter; an event log."""

    def __init__(self, event_log_size: int = 20000):
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.objects: dict[str, dict[tuple, dict]] = {}
        self._sorted: dict[str, list] = {}
        self.rv = 0
        self.events: list[WatchEvent] = []
        self.event_log_size = event_log_size
        self.oldest_watchable_rv = 0  # events after this rv are all in the log

    def next_rv(self) -> int:
        self.rv += 1
        return self.rv

    def get(self, res: Resource, namespace: str, name: str) -> dict | None:
        return self.objects.get(res.key, {}).get((namespace or "", name))

    def sorted_keys(self, res: Resource) -> list:
        keys = self._sorted.get(res.key)
        if keys is None:
            keys = self._sorted[res.key] = sorted(self.objects.get(res.key, {}))
        return keys

    def write(self, res: Resource, obj: dict, event_type: str, old: dict | None = None) -> None:
        """Store obj (already carrying its new resourceVersion) and log the event. Caller holds the lock."""
        meta = obj["metadata"]
        key = (meta.get("namespace") or "", meta["name"])
        bucket = self.objects.setdefault(res.key, {})
        if event_type == "DELETED":
            bucket.pop(key, None)
            self._sorted.pop(res.key, None)
        else:
            if key not in bucket:
                self._sorted.pop(res.key, None)
            bucket[key] = obj
        self.events.append(WatchEvent(int(meta["resourceVersion"]), event_type, res.key, obj, old))
        if len(self.events) > 2 * self.event_log_size:
            dropped = len(self.events) - self.event_log_size
            self.oldest_watchable_rv = self.events[dropped - 1].rv
            del self.events[:dropped]
        self.changed.notify_all()

    def events_after(self, rv: int) -> list[WatchEvent]:
        index = bisect.bisect_right(self.events, rv, key=lambda e: e.rv)
        return self.events[index:]

    def drop_resource(self, res: Resource) -> None:
        self.objects.pop(res.key, None)
        self._sorted.pop(res.key, None)


class RequestRecord(NamedTuple):
    method: str
    path: str  # percent-decoded, as routed: /api/v1/namespaces/ns/pods/agent:8080/proxy/v1/runs
    query: dict
    content_type: str | None


class _LogStream:
    def __init__(self):
        self.lines: list[tuple[float, str]] = []  # (unix time, line without newline)
        self.ended = False


# --------------------------------------------------------------------------- the server

class FakeKubeAPI:
    """The fake API server. See the module docstring."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, token: str | None = "fake-token",
                 version: str = "v1.30.0", volcano: bool = True, watch_timeout: float = 30.0,
                 event_log_size: int = 20000, user: str = "kind-lab", tls: bool = False):
        self.host = host
        self.tls = tls  # https with a self-signed certificate; kubectl sends the token only over TLS
        self._requested_port = port
        self.token = token
        self.version = version
        self.user = user  # the user name RBAC messages mention
        self.watch_timeout = watch_timeout  # a watch without timeoutSeconds ends after this
        self.store = Store(event_log_size)
        self.resources: dict[str, Resource] = {}  # Resource.key -> Resource
        self._by_kind: dict[tuple[str, str], Resource] = {}  # (apiVersion, kind) -> Resource
        for res in RESOURCES:
            self.register_resource(res)
        self.requests_log: list[RequestRecord] = []
        self._forbidden: list[tuple[str, str, str | None]] = []
        self._latency: list[tuple[re.Pattern | None, float]] = []
        self._faults: list[list] = []  # [regex, method, status, message, remaining]
        self._logs: dict[tuple, _LogStream] = {}
        self._logs_changed = threading.Condition()
        self._pod_proxies: dict[tuple[str, str, str], str] = {}
        self._next_cluster_ip = 10
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.started_at = time.time()
        for name in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        if volcano:
            self.bulk_put(volcano_crds())

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> "FakeKubeAPI":
        server = _Server((self.host, self._requested_port), _Handler)
        server.api = self
        if self.tls:
            cert_file, key_file = self_signed_certificate()
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert_file, key_file)
            context.set_alpn_protocols(["http/1.1"])
            server.ssl_context = context
        self._server = server
        self._stopping.clear()
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"fake-k8s:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if not self._server:
            return
        self._stopping.set()
        with self.store.changed:
            self.store.changed.notify_all()
        with self._logs_changed:
            self._logs_changed.notify_all()
        self._server.shutdown()
        self._server.close_all_connections()
        self._server.server_close()
        self._thread.join(5)
        self._server.join_handlers(5)
        self._server = None

    def __enter__(self):
        return self.start() if not self._server else self

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self) -> int:
        return self._server.server_address[1] if self._server else self._requested_port

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    # ---------------------------------------------------------------- kubeconfig

    def kubeconfig(self, context: str = "kind-lab", cluster: str = "kind-lab", user: str = "kind-lab",
                   namespace: str | None = None) -> dict:
        ctx = {"cluster": cluster, "user": user}
        if namespace:
            ctx["namespace"] = namespace
        return {
            "apiVersion": "v1", "kind": "Config", "preferences": {}, "current-context": context,
            "clusters": [{"name": cluster, "cluster": self._cluster_entry()}],
            "users": [{"name": user, "user": {"token": self.token} if self.token else {}}],
            "contexts": [{"name": context, "context": ctx}],
        }

    def _cluster_entry(self) -> dict:
        entry = {"server": self.url}
        if self.tls:
            cert_file, _ = self_signed_certificate()
            entry["certificate-authority-data"] = base64.b64encode(Path(cert_file).read_bytes()).decode()
        return entry

    def write_kubeconfig(self, path, contexts: list[str] | None = None) -> Path:
        """Write a kubeconfig whose contexts (default: just ``kind-lab``) all point at this server."""
        contexts = contexts or ["kind-lab"]
        return write_kubeconfig(path, {name: self for name in contexts}, current=contexts[0])

    # ---------------------------------------------------------------- resource registration

    def register_resource(self, res: Resource) -> None:
        with self.store.lock:
            self.resources[res.key] = res
            self._by_kind[(res.api_version, res.kind)] = res

    def uninstall_group(self, group: str) -> None:
        """Remove a group's resources, their objects and their CRDs (a cluster without, say, Volcano)."""
        with self.store.lock:
            for res in [r for r in self.resources.values() if r.group == group]:
                self._unregister(res)
            crds = self.resources["apiextensions.k8s.io/v1/customresourcedefinitions"]
            for (ns, name), crd in list(self.store.objects.get(crds.key, {}).items()):
                if crd["spec"]["group"] == group:
                    self._delete_now(crds, crd)

    def _unregister(self, res: Resource) -> None:
        self.resources.pop(res.key, None)
        self._by_kind.pop((res.api_version, res.kind), None)
        self.store.drop_resource(res)

    def resource_for(self, api_version: str, kind: str) -> Resource:
        res = self._by_kind.get((api_version, kind))
        if not res:
            raise KeyError(f"no resource registered for {api_version} {kind}")
        return res

    def _find_resource(self, api_version: str, plural: str) -> Resource | None:
        return self.resources.get(f"{api_version}/{plural}")

    # ---------------------------------------------------------------- direct store API (no HTTP)

    def put(self, obj: dict) -> dict:
        """Create or replace an object with the defaults a create fills; returns the stored copy."""
        with self.store.lock:
            return self._put_one(_clone(obj))

    def bulk_put(self, objs) -> int:
        """put() for many objects under one lock (5,000 pods in a fraction of a second)."""
        count = 0
        with self.store.lock:
            for obj in objs:
                self._put_one(_clone(obj))
                count += 1
        return count

    def _put_one(self, obj: dict) -> dict:
        res = self.resource_for(obj.get("apiVersion", ""), obj.get("kind", ""))
        meta = obj.setdefault("metadata", {})
        if not res.namespaced:
            meta.pop("namespace", None)
        elif not meta.get("namespace"):
            meta["namespace"] = "default"
        old = self.store.get(res, meta.get("namespace"), meta.get("name", ""))
        if old is None:
            return self._create(res, obj, meta.get("namespace"), check_namespace=False, reset_status=False)
        meta["resourceVersion"] = old["metadata"]["resourceVersion"]
        return self._replace(res, old, obj, keep_status=False, keep_identity=False)

    def get(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> dict | None:
        res = self.resource_for(api_version, kind)
        with self.store.lock:
            obj = self.store.get(res, namespace if res.namespaced else "", name)
            return _clone(obj) if obj else None

    def list(self, api_version: str, kind: str, namespace: str | None = None) -> list[dict]:
        res = self.resource_for(api_version, kind)
        with self.store.lock:
            return [_clone(o) for (ns, _), o in sorted(self.store.objects.get(res.key, {}).items())
                    if namespace is None or ns == namespace]

    def delete(self, api_version: str, kind: str, name: str, namespace: str | None = None) -> bool:
        res = self.resource_for(api_version, kind)
        with self.store.lock:
            obj = self.store.get(res, namespace if res.namespaced else "", name)
            if obj:
                self._delete_now(res, obj)
            return obj is not None

    def patch_status(self, api_version: str, kind: str, name: str, status: dict,
                     namespace: str | None = None) -> dict:
        """Merge ``status`` into an object's status (what a controller would do)."""
        res = self.resource_for(api_version, kind)
        with self.store.lock:
            old = self.store.get(res, namespace if res.namespaced else "", name)
            if old is None:
                raise not_found(res, name)
            new = dict(old)
            new["status"] = merge_patch(old.get("status") or {}, status)
            return self._replace(res, old, _clone(new), keep_status=False)

    # ---------------------------------------------------------------- writes (caller holds the lock)

    def _create(self, res: Resource, obj: dict, namespace: str | None, check_namespace: bool = True,
                reset_status: bool = True) -> dict:
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise ApiError(400, "metadata must be an object")
        obj["apiVersion"], obj["kind"] = res.api_version, res.kind
        if res.namespaced:
            meta["namespace"] = namespace
            if check_namespace and not self.store.get(self.resources["v1/namespaces"], "", namespace):
                raise namespace_not_found(namespace)
        else:
            meta.pop("namespace", None)
        if not meta.get("name"):
            if meta.get("generateName"):
                suffix = "".join(random.choices("bcdfghjklmnpqrstvwxz2456789", k=5))
                meta["name"] = meta["generateName"] + suffix
            else:
                raise invalid(res, "", "metadata.name", "FieldValueRequired",
                              "Required value: name or generateName is required")
        self._validate(res, obj)
        if self.store.get(res, meta.get("namespace") or "", meta["name"]) is not None:
            raise ApiError(409, f'{res.qualified} "{meta["name"]}" already exists', "AlreadyExists",
                           _details(res, meta["name"]))
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", now_rfc3339())
        if res.group:  # apps, policy and custom resources count spec changes; core/v1 ones do not
            meta.setdefault("generation", 1)
        meta.pop("deletionTimestamp", None)
        self._apply_defaults(res, obj, reset_status)
        meta["resourceVersion"] = str(self.store.next_rv())
        self.store.write(res, obj, "ADDED")
        if res.kind == "CustomResourceDefinition" and res.group == "apiextensions.k8s.io":
            for crd_res in resources_from_crd(obj):
                self.register_resource(crd_res)
        return obj

    def _replace(self, res: Resource, old: dict, new: dict, keep_status: bool, status_only: bool = False,
                 keep_identity: bool = True) -> dict:
        old_meta, meta = old["metadata"], new.setdefault("metadata", {})
        given_rv = meta.get("resourceVersion")
        if given_rv and given_rv != old_meta["resourceVersion"]:
            raise ApiError(409, f'Operation cannot be fulfilled on {res.qualified} "{old_meta["name"]}": the object '
                                f'has been modified; please apply your changes to the latest version and try again',
                           "Conflict", _details(res, old_meta["name"]))
        if status_only:
            merged = dict(old)
            merged["status"] = new.get("status")
            if merged["status"] is None:
                merged.pop("status")
            new = _clone(merged)
            meta = new["metadata"]
        new["apiVersion"], new["kind"] = res.api_version, res.kind
        for field in ("name", "namespace", "uid", "creationTimestamp", "generation"):
            if not keep_identity and meta.get(field) is not None:
                continue  # put() may set them, to seed an object's age or uid
            if field in old_meta:
                meta[field] = old_meta[field]
            else:
                meta.pop(field, None)
        if keep_status and "status" in res.subresources:
            if "status" in old:
                new["status"] = old["status"]
            else:
                new.pop("status", None)
        if "generation" in meta and {k: v for k, v in new.items() if k not in ("metadata", "status")} != \
                {k: v for k, v in old.items() if k not in ("metadata", "status")}:
            meta["generation"] = int(meta["generation"]) + 1
        self._validate(res, new)
        meta["resourceVersion"] = str(self.store.next_rv())
        self.store.write(res, new, "MODIFIED", old)
        return new

    def _delete_now(self, res: Resource, obj: dict) -> dict:
        gone = dict(obj)
        gone["metadata"] = dict(obj["metadata"], resourceVersion=str(self.store.next_rv()))
        self.store.write(res, gone, "DELETED", obj)
        meta = obj["metadata"]
        if res.kind == "Namespace" and not res.group:
            for other in list(self.resources.values()):
                if other.namespaced:
                    for (ns, _), child in list(self.store.objects.get(other.key, {}).items()):
                        if ns == meta["name"]:
                            self._delete_now(other, child)
        elif res.kind == "Pod" and not res.group:
            with self._logs_changed:
                self._logs_changed.notify_all()
        elif res.kind == "CustomResourceDefinition" and res.group == "apiextensions.k8s.io":
            for crd_res in resources_from_crd(obj):
                if crd_res.key in self.resources:
                    self._unregister(crd_res)
        return gone

    def _validate(self, res: Resource, obj: dict) -> None:
        meta = obj["metadata"]
        name = meta.get("name", "")
        regex, max_len, message = NAME_RULES[NAME_RULE_OF_KIND.get(res.kind, "subdomain")]
        if not isinstance(name, str) or len(name) > max_len or not regex.match(name):
            raise invalid(res, name, "metadata.name", "FieldValueInvalid", f'Invalid value: "{name}": {message}')
        for field in ("labels", "annotations"):
            values = meta.get(field) or {}
            if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
                raise invalid(res, name, f"metadata.{field}", "FieldValueInvalid",
                              f"Invalid value: {values!r}: values must be strings")
        if res.key == "v1/pods":
            containers = (obj.get("spec") or {}).get("containers")
            if not containers:
                raise invalid(res, name, "spec.containers", "FieldValueRequired", "Required value")
            for i, container in enumerate(containers):
                for field in ("name", "image"):
                    if not container.get(field):
                        raise invalid(res, name, f"spec.containers[{i}].{field}", "FieldValueRequired",
                                      "Required value")
        if res.key == "apps/v1/deployments":
            spec = obj.get("spec") or {}
            selector = (spec.get("selector") or {}).get("matchLabels")
            if not spec.get("selector"):
                raise invalid(res, name, "spec.selector", "FieldValueRequired", "Required value")
            labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
            if selector and any(labels.get(k) != v for k, v in selector.items()):
                raise invalid(res, name, "spec.template.metadata.labels", "FieldValueInvalid",
                              f"Invalid value: {labels!r}: `selector` does not match template `labels`")

    def _apply_defaults(self, res: Resource, obj: dict, reset_status: bool) -> None:
        """The few defaults and initial statuses the portal can see after a create over HTTP."""
        spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else None
        if reset_status and "status" in res.subresources:
            obj.pop("status", None)
        if res.key == "v1/namespaces":
            obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
            obj.setdefault("spec", {"finalizers": ["kubernetes"]})
            obj.setdefault("status", {"phase": "Active"})
        elif res.key == "v1/pods" and spec is not None:
            spec.setdefault("restartPolicy", "Always")
            spec.setdefault("dnsPolicy", "ClusterFirst")
            spec.setdefault("schedulerName", "default-scheduler")
            spec.setdefault("serviceAccountName", "default")
            spec.setdefault("terminationGracePeriodSeconds", 30)
            for container in spec.get("containers") or []:
                tag = str(container.get("image", "")).rpartition(":")[2]
                container.setdefault("imagePullPolicy", "Always" if tag in ("", "latest") or
                                     ":" not in str(container.get("image")) else "IfNotPresent")
                container.setdefault("terminationMessagePath", "/dev/termination-log")
                container.setdefault("terminationMessagePolicy", "File")
            if "status" not in obj:
                obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"}
        elif res.key == "v1/services" and spec is not None:
            spec.setdefault("type", "ClusterIP")
            spec.setdefault("sessionAffinity", "None")
            for port in spec.get("ports") or []:
                port.setdefault("protocol", "TCP")
                port.setdefault("targetPort", port.get("port"))
            if spec["type"] != "ExternalName" and not spec.get("clusterIP"):
                n = self._next_cluster_ip
                self._next_cluster_ip += 1
                spec["clusterIP"] = f"10.96.{n // 250}.{n % 250 + 1}"
            if spec.get("clusterIP"):
                spec.setdefault("clusterIPs", [spec["clusterIP"]])
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")
            spec.setdefault("internalTrafficPolicy", "Cluster")
            obj.setdefault("status", {"loadBalancer": {}})
        elif res.key == "apps/v1/deployments" and spec is not None:
            spec.setdefault("replicas", 1)
            spec.setdefault("revisionHistoryLimit", 10)
            spec.setdefault("progressDeadlineSeconds", 600)
            spec.setdefault("strategy", {"type": "RollingUpdate",
                                         "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
            obj.setdefault("status", {})

    # ---------------------------------------------------------------- test controls

    def forbid(self, verb: str, resource: str, namespace: str | None = None) -> None:
        """Answer matching requests with 403. verb may be "*"; resource is a plural, maybe with "/subresource"."""
        self._forbidden.append((verb, resource, namespace))

    def allow_all(self) -> None:
        self._forbidden.clear()

    def set_latency(self, seconds: float, path_regex: str | None = None) -> None:
        """Delay matching requests (all when path_regex is None); 0 removes the delay for that regex."""
        self._latency = [(r, s) for r, s in self._latency if (r.pattern if r else None) != path_regex]
        if seconds:
            self._latency.append((re.compile(path_regex) if path_regex else None, seconds))

    def fail(self, path_regex: str, status: int = 500, message: str = "injected failure", times: int = 1,
             method: str | None = None) -> None:
        """Answer the next ``times`` matching requests with a Status of this code (times=None: always)."""
        self._faults.append([re.compile(path_regex), method, status, message, times])

    def clear_faults(self) -> None:
        self._faults.clear()
        self._latency.clear()

    def clear_requests(self) -> None:
        self.requests_log.clear()

    def requests_to(self, path_regex: str, method: str | None = None) -> list[RequestRecord]:
        pattern = re.compile(path_regex)
        return [r for r in list(self.requests_log)
                if pattern.search(r.path) and (method is None or r.method == method)]

    # ---------------------------------------------------------------- pod logs

    def set_pod_log(self, namespace: str, pod: str, lines_or_text, container: str | None = None,
                    previous: bool = False, ended: bool = False) -> None:
        """Set a container's log: text, or a list of lines or of (unix time | datetime, line) pairs.

        container defaults to the pod's first container (or to "the only one" if the pod is put later).
        """
        stream = _LogStream()
        stream.lines = self._to_lines(lines_or_text)
        stream.ended = ended or previous
        with self._logs_changed:
            self._logs[self._log_key(namespace, pod, container, previous)] = stream
            self._logs_changed.notify_all()

    def append_pod_log(self, namespace: str, pod: str, text, container: str | None = None) -> None:
        """Add lines to a log and wake the clients following it."""
        with self._logs_changed:
            stream = self._logs.setdefault(self._log_key(namespace, pod, container, False), _LogStream())
            stream.lines.extend(self._to_lines(text))
            self._logs_changed.notify_all()

    def end_pod_log(self, namespace: str, pod: str, container: str | None = None) -> None:
        """The container stopped: followers get the rest of the log and then the end of the stream."""
        with self._logs_changed:
            self._logs.setdefault(self._log_key(namespace, pod, container, False), _LogStream()).ended = True
            self._logs_changed.notify_all()

    def _log_key(self, namespace: str, pod: str, container: str | None, previous: bool) -> tuple:
        if container is None:
            with self.store.lock:
                obj = self.store.get(self.resources["v1/pods"], namespace, pod)
            containers = ((obj or {}).get("spec") or {}).get("containers") or []
            if containers:
                container = containers[0]["name"]
        return (namespace, pod, container, previous)

    @staticmethod
    def _to_lines(value) -> list[tuple[float, str]]:
        now = time.time()
        if isinstance(value, (str, bytes)):
            text = value.decode() if isinstance(value, bytes) else value
            value = text.splitlines()
        lines = []
        for item in value:
            if isinstance(item, (tuple, list)):
                stamp, line = item
                if isinstance(stamp, dt.datetime):
                    stamp = stamp.timestamp()
                lines.append((float(stamp), str(line)))
            else:
                lines.append((now, str(item)))
        return lines

    # ---------------------------------------------------------------- pod proxy

    def register_pod_proxy(self, namespace: str, pod: str, port, base_url: str) -> None:
        """Forward ``pods/<pod>:<port>/proxy/<path>`` to ``base_url/<path>``."""
        self._pod_proxies[(namespace, pod, str(port))] = base_url.rstrip("/")

    def unregister_pod_proxy(self, namespace: str, pod: str, port) -> None:
        self._pod_proxies.pop((namespace, pod, str(port)), None)

    # ---------------------------------------------------------------- HTTP entry point

    def _handle(self, h: "_Handler") -> None:
        url = urlsplit(h.path)
        path = unquote(url.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        h.raw_query = url.query
        self.requests_log.append(RequestRecord(h.command, path, query, h.headers.get("Content-Type")))
        if len(self.requests_log) > MAX_REQUESTS_LOGGED:  # a long benchmark must not grow without bound
            del self.requests_log[:MAX_REQUESTS_LOGGED // 2]
        for pattern, seconds in list(self._latency):
            if pattern is None or pattern.search(path):
                self._stopping.wait(seconds)
        try:
            if self.token and url.path not in PUBLIC_PATHS:
                if h.headers.get("Authorization") != f"Bearer {self.token}":
                    raise ApiError(401, "Unauthorized", "Unauthorized")
            self._inject_faults(h.command, path)
            self._route(h, path, query)
        except ApiError as e:
            h.send_json(e.code, e.body)
        except (BrokenPipeError, ConnectionResetError):
            h.close_connection = True
        except Exception as e:  # a bug here must show as a 500, not a hung client
            import traceback
            traceback.print_exc()
            h.send_json(500, status_body(500, f"fake k8s: {e!r}", "InternalError"))
        if not h.body_consumed:
            h.close_connection = True

    def _inject_faults(self, method: str, path: str) -> None:
        for fault in list(self._faults):
            pattern, fault_method, status, message, remaining = fault
            if pattern.search(path) and (fault_method is None or fault_method == method):
                if remaining is not None:
                    fault[4] -= 1
                    if fault[4] <= 0:
                        self._faults.remove(fault)
                raise ApiError(status, message)

    def _route(self, h: "_Handler", path: str, query: dict) -> None:
        parts = [p for p in path.split("/") if p]
        if path.rstrip("/") in ("/version",):
            return h.send_json(200, self._version_info())
        if parts and parts[0] in ("healthz", "livez", "readyz"):
            return h.send_text(200, "ok")
        if parts == ["api"]:
            return h.send_json(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": f"{self.host}:{self.port}"}]})
        if parts == ["apis"]:
            return h.send_json(200, self._group_list())
        if len(parts) == 2 and parts[0] == "apis":
            group = self._group_doc(parts[1])
            if not group:
                raise ApiError(404, NO_ROUTE, "NotFound", {})
            return h.send_json(200, group)
        if parts[:2] == ["api", "v1"]:
            api_version, rest = "v1", parts[2:]
        elif len(parts) >= 3 and parts[0] == "apis":
            api_version, rest = f"{parts[1]}/{parts[2]}", parts[3:]
        else:
            raise ApiError(404, NO_ROUTE, "NotFound", {})
        if not rest:
            if not any(r.api_version == api_version for r in self.resources.values()):
                raise ApiError(404, NO_ROUTE, "NotFound", {})
            return h.send_json(200, self._resource_list(api_version))
        if rest[0] == "watch":  # the old /watch/ paths
            query["watch"] = "true"
            rest = rest[1:]
        namespace = None
        if rest[0] == "namespaces" and len(rest) >= 3 and self._find_resource(api_version, rest[2]):
            namespace, rest = rest[1], rest[2:]
        res = self._find_resource(api_version, rest[0])
        if res is None or (namespace is not None and not res.namespaced):
            raise ApiError(404, NO_ROUTE, "NotFound", {})
        name = rest[1] if len(rest) > 1 else None
        subresource = rest[2] if len(rest) > 2 else None
        if res.namespaced and name is not None and namespace is None:
            raise ApiError(404, NO_ROUTE, "NotFound", {})
        if subresource == "proxy" and "proxy" in res.subresources:
            pieces = name.split(":")
            if pieces[0] in ("http", "https") and len(pieces) > 1:  # [scheme:]name[:port]
                pieces = pieces[1:]
            pod_name, port = pieces[0], (pieces[1] if len(pieces) > 1 else "")
            self._check_allowed(self._verb_for(h.command, True, False), res, namespace, pod_name, "proxy")
            return self._serve_proxy(h, res, namespace, pod_name, port, "/".join(rest[3:]), path.endswith("/"))
        if len(rest) > 3 or (subresource and subresource not in res.subresources):
            raise ApiError(404, NO_ROUTE, "NotFound", {})
        watch = query.get("watch") in ("true", "1")
        verb = self._verb_for(h.command, name is not None, watch)
        self._check_allowed(verb, res, namespace, name, subresource)
        if name is None:
            if h.command == "GET":
                return self._serve_watch(h, res, namespace, query) if watch else \
                    self._serve_list(h, res, namespace, query)
            if h.command == "POST":
                return self._serve_create(h, res, namespace, query)
            if h.command == "DELETE":
                return self._serve_delete_collection(h, res, namespace, query)
        elif subresource == "log":
            if h.command == "GET":
                return self._serve_log(h, namespace, name, query)
        elif subresource == "eviction":
            if h.command == "POST":
                return self._serve_eviction(h, res, namespace, name)
        elif subresource == "scale":
            return self._serve_scale(h, res, namespace, name, query)
        else:
            if h.command == "GET":
                with self.store.lock:
                    obj = self.store.get(res, namespace, name)
                if obj is None:
                    raise not_found(res, name)
                return self._send_object(h, 200, res, obj)
            if h.command == "PUT":
                return self._serve_replace(h, res, namespace, name, subresource == "status")
            if h.command == "PATCH":
                return self._serve_patch(h, res, namespace, name, query, subresource == "status")
            if h.command == "DELETE" and not subresource:
                return self._serve_delete(h, res, namespace, name)
        raise ApiError(405, "the server does not allow this method on the requested resource", "MethodNotAllowed",
                       {})

    @staticmethod
    def _verb_for(method: str, one: bool, watch: bool) -> str:
        if method in ("GET", "HEAD"):
            return "watch" if watch else ("get" if one else "list")
        if method == "DELETE":
            return "delete" if one else "deletecollection"
        return {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method, method.lower())

    def _check_allowed(self, verb: str, res: Resource, namespace: str | None, name: str | None,
                       subresource: str | None) -> None:
        resource = f"{res.plural}/{subresource}" if subresource else res.plural
        for f_verb, f_resource, f_namespace in self._forbidden:
            if f_verb in ("*", verb) and f_resource in ("*", resource, res.qualified) and \
                    (f_namespace is None or f_namespace == namespace):
                who = f'{res.qualified} "{name}"' if name else res.qualified
                where = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
                raise ApiError(403, f'{who} is forbidden: User "{self.user}" cannot {verb} resource "{resource}" '
                                    f'in API group "{res.group}" {where}', "Forbidden",
                               dict(_details(res, name or ""), kind=resource))

    # ---------------------------------------------------------------- discovery

    def _version_info(self) -> dict:
        major, minor = self.version.lstrip("v").split(".")[:2]
        return {"major": major, "minor": minor, "gitVersion": self.version,
                "gitCommit": "7c48c2bd72b9bf5c44d21d7338cc7bea77d0ad2a", "gitTreeState": "clean",
                "buildDate": "2024-05-13T22:02:25Z", "goVersion": "go1.22.2", "compiler": "gc",
                "platform": "linux/amd64"}

    def _groups(self) -> dict[str, list[str]]:
        groups: dict[str, list[str]] = {}
        for res in self.resources.values():
            if res.group and res.version not in groups.setdefault(res.group, []):
                groups[res.group].append(res.version)
        return groups

    def _group_doc(self, group: str) -> dict | None:
        versions = self._groups().get(group)
        if not versions:
            return None
        entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": entries,
                "preferredVersion": entries[0]}

    def _group_list(self) -> dict:
        groups = []
        for group in self._groups():
            doc = self._group_doc(group)
            groups.append({k: v for k, v in doc.items() if k not in ("kind", "apiVersion")})
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    def _resource_list(self, api_version: str) -> dict:
        entries = []
        for res in self.resources.values():
            if res.api_version != api_version:
                continue
            verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
            entry = {"name": res.plural, "singularName": res.singular, "namespaced": res.namespaced,
                     "kind": res.kind, "verbs": verbs}
            if res.short_names:
                entry["shortNames"] = list(res.short_names)
            if res.group in VOLCANO_GROUPS or not res.builtin:
                entry["storageVersionHash"] = base64.b64encode(res.key.encode()[:8]).decode()
            entries.append(entry)
            for sub in res.subresources:
                sub_verbs = {"status": ["get", "patch", "update"], "scale": ["get", "patch", "update"],
                             "log": ["get"], "eviction": ["create"],
                             "proxy": ["create", "delete", "get", "patch", "update"]}[sub]
                kind = {"scale": "Scale", "eviction": "Eviction", "proxy": "PodProxyOptions"}.get(sub, res.kind)
                sub_entry = {"name": f"{res.plural}/{sub}", "singularName": "", "namespaced": res.namespaced,
                             "kind": kind, "verbs": sub_verbs}
                if sub == "scale":
                    sub_entry.update(group="autoscaling", version="v1")
                if sub == "eviction":
                    sub_entry.update(group="policy", version="v1")
                entries.append(sub_entry)
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": api_version, "resources": entries}

    # ---------------------------------------------------------------- list / get / watch

    def _send_object(self, h, code: int, res: Resource, obj: dict) -> None:
        if "as=Table" in (h.headers.get("Accept") or ""):
            return h.send_json(code, self._table(res, [obj], {"resourceVersion": obj["metadata"]["resourceVersion"]},
                                                 "Metadata"))
        h.send_json(code, obj)

    def _selectors(self, res: Resource, query: dict):
        return parse_label_selector(query.get("labelSelector")), parse_field_selector(query.get("fieldSelector"), res)

    def _serve_list(self, h, res: Resource, namespace: str | None, query: dict) -> None:
        labels, fields = self._selectors(res, query)
        limit = int(query.get("limit") or 0)
        start_key = None
        if query.get("continue"):
            try:
                token = json.loads(base64.urlsafe_b64decode(query["continue"] + "=="))
                start_key = tuple(token["start"])
            except Exception:
                raise ApiError(400, "continue key is not valid: illegal base64 data at input byte 0", "BadRequest")
        with self.store.lock:
            rv = self.store.rv
            bucket = self.store.objects.get(res.key, {})
            keys = self.store.sorted_keys(res)
            lo, hi = 0, len(keys)
            if namespace is not None:
                lo = bisect.bisect_left(keys, (namespace,))
                hi = bisect.bisect_left(keys, (namespace + "\x00",))
            if start_key:
                lo = max(lo, bisect.bisect_right(keys, start_key))
            items, last_index = [], hi
            for index in range(lo, hi):
                obj = bucket[keys[index]]
                if labels and not labels_match(labels, obj["metadata"].get("labels")):
                    continue
                if fields and not fields_match(fields, obj):
                    continue
                items.append(obj)
                if limit and len(items) == limit:
                    last_index = index + 1
                    break
        meta = {"resourceVersion": str(rv)}
        if limit and len(items) == limit and last_index < hi:
            last = keys[last_index - 1]
            meta["continue"] = base64.urlsafe_b64encode(
                json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": list(last)}).encode()).decode().rstrip("=")
            if not labels and not fields:
                meta["remainingItemCount"] = hi - last_index
        if "as=Table" in (h.headers.get("Accept") or ""):
            return h.send_json(200, self._table(res, items, meta, query.get("includeObject", "Metadata")))
        if res.builtin:  # built-in list items carry no kind/apiVersion; custom ones do
            items = [{k: v for k, v in obj.items() if k not in ("kind", "apiVersion")} for obj in items]
        h.send_json(200, {"kind": f"{res.kind}List", "apiVersion": res.api_version, "metadata": meta, "items": items})

    def _serve_watch(self, h, res: Resource, namespace: str | None, query: dict) -> None:
        labels, fields = self._selectors(res, query)

        def matches(obj):
            if obj is None:
                return False
            if namespace is not None and obj["metadata"].get("namespace") != namespace:
                return False
            return labels_match(labels, obj["metadata"].get("labels")) and (not fields or fields_match(fields, obj))

        timeout = float(query.get("timeoutSeconds") or self.watch_timeout)
        deadline = time.monotonic() + timeout
        requested = query.get("resourceVersion") or "0"
        initial, too_old = [], None
        with self.store.lock:
            if requested == "0":
                cursor = self.store.rv
                bucket = self.store.objects.get(res.key, {})
                initial = [bucket[k] for k in self.store.sorted_keys(res) if matches(bucket[k])]
            else:
                cursor = int(requested)
                if cursor < self.store.oldest_watchable_rv:
                    too_old = status_body(410, f"too old resource version: {cursor} "
                                               f"({self.store.oldest_watchable_rv + 1})", "Expired")
        h.start_stream(200, "application/json")
        try:
            for obj in initial:
                h.write_chunk(_dumps({"type": "ADDED", "object": obj}) + b"\n")
            if too_old:
                h.write_chunk(_dumps({"type": "ERROR", "object": too_old}) + b"\n")
                return h.end_stream()
            while not self._stopping.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                with self.store.changed:
                    if self.store.rv <= cursor:
                        self.store.changed.wait(min(remaining, 0.5))
                    new_events = self.store.events_after(cursor)
                    if new_events:
                        cursor = new_events[-1].rv
                lines = []
                for event in new_events:
                    if event.resource != res.key:
                        continue
                    now_in, was_in = matches(event.obj), matches(event.old)
                    if event.type == "DELETED":
                        kind = "DELETED" if was_in else None
                    elif event.type == "ADDED":
                        kind = "ADDED" if now_in else None
                    else:
                        kind = ("MODIFIED" if was_in else "ADDED") if now_in else ("DELETED" if was_in else None)
                    if kind:
                        lines.append(_dumps({"type": kind, "object": event.obj}) + b"\n")
                if lines:
                    h.write_chunk(b"".join(lines))
                elif h.client_gone():
                    h.close_connection = True
                    return
            if query.get("allowWatchBookmarks") in ("true", "1"):
                h.write_chunk(_dumps({"type": "BOOKMARK", "object": {
                    "kind": res.kind, "apiVersion": res.api_version,
                    "metadata": {"resourceVersion": str(cursor)}}}) + b"\n")
            h.end_stream()
        except (BrokenPipeError, ConnectionResetError, OSError):
            h.close_connection = True

    # ---------------------------------------------------------------- create / replace / patch / delete

    def _read_json(self, h, yaml_ok: bool = False):
        body = h.read_body()
        try:
            return yaml.safe_load(body) if yaml_ok else json.loads(body or b"null")
        except Exception as e:
            raise ApiError(400, f"the body of the request could not be decoded: {e}", "BadRequest")

    def _check_type(self, res: Resource, obj, name: str = "") -> dict:
        if not isinstance(obj, dict):
            raise ApiError(400, "the body of the request must be an object", "BadRequest")
        if obj.get("apiVersion") and obj["apiVersion"] != res.api_version:
            raise ApiError(400, f"the API version in the data ({obj['apiVersion']}) does not match the expected "
                                f"API version ({res.api_version})", "BadRequest")
        if obj.get("kind") and obj["kind"] != res.kind:
            name = (obj.get("metadata") or {}).get("name") or name
            raise invalid(res, name, "kind", "FieldValueInvalid", f'Invalid value: "{obj["kind"]}": must be {res.kind}')
        return obj

    def _check_body_namespace(self, obj: dict, namespace: str | None) -> None:
        body_ns = (obj.get("metadata") or {}).get("namespace")
        if namespace and body_ns and body_ns != namespace:
            raise ApiError(400, "the namespace of the provided object does not match the namespace sent on the "
                                "request", "BadRequest")

    def _serve_create(self, h, res: Resource, namespace: str | None, query: dict) -> None:
        obj = self._check_type(res, self._read_json(h))
        self._check_body_namespace(obj, namespace)
        _clear_server_fields(obj)
        if query.get("dryRun") == "All":
            with self.store.lock:
                probe = _clone(obj)
                probe.setdefault("metadata", {}).setdefault("name", "dry-run")
                self._validate(res, probe)
            return self._send_object(h, 201, res, obj)
        with self.store.lock:
            created = self._create(res, obj, namespace)
        self._send_object(h, 201, res, created)

    def _serve_replace(self, h, res: Resource, namespace: str | None, name: str, status_only: bool) -> None:
        obj = self._check_type(res, self._read_json(h), name)
        self._check_body_namespace(obj, namespace)
        body_name = (obj.get("metadata") or {}).get("name")
        if body_name != name:
            raise ApiError(400, f"the name of the object ({body_name}) does not match the name on the URL ({name})",
                           "BadRequest")
        with self.store.lock:
            old = self.store.get(res, namespace, name)
            if old is None:
                raise not_found(res, name)
            new = self._replace(res, old, obj, keep_status=not status_only, status_only=status_only)
        self._send_object(h, 200, res, new)

    def _patched(self, h, res: Resource, current: dict, content_type: str):
        """Apply the request's patch to ``current`` and return the new document."""
        if content_type == "application/json-patch+json":
            return json_patch(current, self._read_json(h))
        if content_type == "application/merge-patch+json":
            return merge_patch(current, self._read_json(h))
        if content_type == "application/strategic-merge-patch+json":
            if not res.builtin:
                raise ApiError(415, "the body of the request was in an unknown format - accepted media types "
                                    "include: application/json-patch+json, application/merge-patch+json, "
                                    "application/apply-patch+yaml", "UnsupportedMediaType")
            return strategic_merge_patch(current, self._read_json(h))
        raise ApiError(415, "the body of the request was in an unknown format - accepted media types include: "
                            "application/json-patch+json, application/merge-patch+json, "
                            "application/apply-patch+yaml", "UnsupportedMediaType")

    def _serve_patch(self, h, res: Resource, namespace: str | None, name: str, query: dict,
                     status_only: bool) -> None:
        content_type = (h.headers.get("Content-Type") or "").split(";")[0].strip()
        if content_type == "application/apply-patch+yaml":
            if not query.get("fieldManager"):
                raise ApiError(400, "PATCH, application/apply-patch+yaml requires fieldManager to be set",
                               "BadRequest")
            applied = self._check_type(res, self._read_json(h, yaml_ok=True), name)
            with self.store.lock:
                old = self.store.get(res, namespace, name)
                if old is None:
                    _clear_server_fields(applied)
                    applied.setdefault("metadata", {})["name"] = name
                    return self._send_object(h, 201, res, self._create(res, applied, namespace))
                new = strategic_merge_patch(old, applied) if res.builtin else merge_patch(old, applied)
                new = self._replace(res, old, _clone(new), keep_status=not status_only, status_only=status_only)
            return self._send_object(h, 200, res, new)
        with self.store.lock:
            old = self.store.get(res, namespace, name)
        if old is None:
            h.read_body()
            raise not_found(res, name)
        new = self._patched(h, res, old, content_type)
        if not isinstance(new, dict):
            raise ApiError(422, "the patch produced something that is not an object", "Invalid")
        with self.store.lock:
            current = self.store.get(res, namespace, name)
            if current is None:
                raise not_found(res, name)
            if current is not old:  # a write happened in between: make the same change to the newest version
                new = merge_patch(current, _diff_as_merge_patch(old, new))
            new_rv = (new.get("metadata") or {}).get("resourceVersion")
            new.setdefault("metadata", {})
            if new_rv == old["metadata"]["resourceVersion"]:
                new["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            new = self._replace(res, current, _clone(new), keep_status=not status_only, status_only=status_only)
        self._send_object(h, 200, res, new)

    def _serve_delete(self, h, res: Resource, namespace: str | None, name: str) -> None:
        h.read_body()  # DeleteOptions: accepted, not used (deletion is immediate)
        with self.store.lock:
            obj = self.store.get(res, namespace, name)
            if obj is None:
                raise not_found(res, name)
            gone = self._delete_now(res, obj)
        if res.builtin and res.key not in DELETE_RETURNS_OBJECT:
            return h.send_json(200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                     "details": _details(res, name) | {"uid": obj["metadata"].get("uid")}})
        self._send_object(h, 200, res, gone)

    def _serve_delete_collection(self, h, res: Resource, namespace: str | None, query: dict) -> None:
        h.read_body()
        labels, fields = self._selectors(res, query)
        deleted = []
        with self.store.lock:
            for (ns, _), obj in list(self.store.objects.get(res.key, {}).items()):
                if namespace is not None and ns != namespace:
                    continue
                if labels_match(labels, obj["metadata"].get("labels")) and fields_match(fields, obj):
                    deleted.append(self._delete_now(res, obj))
            rv = self.store.rv
        h.send_json(200, {"kind": f"{res.kind}List", "apiVersion": res.api_version,
                          "metadata": {"resourceVersion": str(rv)}, "items": deleted})

    # ---------------------------------------------------------------- scale / eviction

    def _scale_of(self, res: Resource, obj: dict) -> dict:
        meta = obj["metadata"]
        match_labels = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                             if k in meta},
                "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 0)},
                "status": {"replicas": (obj.get("status") or {}).get("replicas", 0),
                           "selector": ",".join(f"{k}={v}" for k, v in sorted(match_labels.items()))}}

    def _serve_scale(self, h, res: Resource, namespace: str, name: str, query: dict) -> None:
        with self.store.lock:
            old = self.store.get(res, namespace, name)
        if old is None:
            h.read_body()
            raise not_found(res, name)
        scale = self._scale_of(res, old)
        if h.command == "GET":
            return h.send_json(200, scale)
        if h.command == "PUT":
            new_scale = self._read_json(h)
        elif h.command == "PATCH":
            content_type = (h.headers.get("Content-Type") or "").split(";")[0].strip()
            if content_type == "application/apply-patch+yaml":
                new_scale = merge_patch(scale, self._read_json(h, yaml_ok=True))
            else:
                new_scale = self._patched(h, res, scale, content_type)
        else:
            raise ApiError(405, "the server does not allow this method on the requested resource", "MethodNotAllowed")
        replicas = ((new_scale or {}).get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            raise ApiError(422, f'Scale.autoscaling "{name}" is invalid: spec.replicas: Invalid value: '
                                f'{replicas}: must be greater than or equal to 0', "Invalid")
        with self.store.lock:
            current = self.store.get(res, namespace, name)
            if current is None:
                raise not_found(res, name)
            given_rv = (new_scale.get("metadata") or {}).get("resourceVersion")
            if given_rv and h.command == "PUT" and given_rv != current["metadata"]["resourceVersion"]:
                raise ApiError(409, f'Operation cannot be fulfilled on {res.qualified} "{name}": the object has been '
                                    f'modified; please apply your changes to the latest version and try again',
                               "Conflict", _details(res, name))
            new = _clone(current)
            new["spec"]["replicas"] = replicas
            new["metadata"].pop("resourceVersion", None)
            new = self._replace(res, current, new, keep_status=True)
        h.send_json(200, self._scale_of(res, new))

    def _serve_eviction(self, h, res: Resource, namespace: str, name: str) -> None:
        self._read_json(h)
        with self.store.lock:
            pod = self.store.get(res, namespace, name)
            if pod is None:
                raise not_found(res, name)
            pdbs = self.resources.get("policy/v1/poddisruptionbudgets")
            for pdb in (self.store.objects.get(pdbs.key, {}).values() if pdbs else []):
                if pdb["metadata"]["namespace"] != namespace:
                    continue
                selector = (pdb.get("spec") or {}).get("selector") or {}
                reqs = [Requirement(k, "=", (v,)) for k, v in (selector.get("matchLabels") or {}).items()]
                if not labels_match(reqs, pod["metadata"].get("labels")):
                    continue
                if self._pdb_blocks(pdb, namespace, reqs):
                    status = pdb.get("status") or {}
                    raise ApiError(429, "Cannot evict pod as it would violate the pod's disruption budget.",
                                   "TooManyRequests", {"causes": [{
                                       "reason": "DisruptionBudget",
                                       "message": f"The disruption budget {pdb['metadata']['name']} needs "
                                                  f"{status.get('desiredHealthy', 0)} healthy pods and has "
                                                  f"{status.get('currentHealthy', 0)} currently"}]})
            self._delete_now(res, pod)
        h.send_json(201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201})

    def _pdb_blocks(self, pdb: dict, namespace: str, reqs: list[Requirement]) -> bool:
        spec, status = pdb.get("spec") or {}, pdb.get("status") or {}
        if "disruptionsAllowed" in status:
            return status["disruptionsAllowed"] <= 0
        if str(spec.get("maxUnavailable", "")) in ("0", "0%"):
            return True
        if "minAvailable" in spec:
            pods = self.store.objects.get("v1/pods", {}).values()
            healthy = sum(1 for p in pods if p["metadata"]["namespace"] == namespace
                          and labels_match(reqs, p["metadata"].get("labels"))
                          and (p.get("status") or {}).get("phase") == "Running")
            min_available = spec["minAvailable"]
            if isinstance(min_available, str) and min_available.endswith("%"):
                min_available = -(-healthy * int(min_available[:-1]) // 100)
            return healthy - 1 < int(min_available)
        return False

    # ---------------------------------------------------------------- pod logs

    def _serve_log(self, h, namespace: str, name: str, query: dict) -> None:
        pods = self.resources["v1/pods"]
        with self.store.lock:
            pod = self.store.get(pods, namespace, name)
        if pod is None:
            raise not_found(pods, name)
        spec, status = pod.get("spec") or {}, pod.get("status") or {}
        containers = [c["name"] for c in spec.get("containers") or []]
        init_containers = [c["name"] for c in spec.get("initContainers") or []]
        container = query.get("container")
        if not container:
            if len(containers) != 1:
                message = f"a container name must be specified for pod {name}, choose one of: [{' '.join(containers)}]"
                if init_containers:
                    message += f" or one of the init containers: [{' '.join(init_containers)}]"
                raise ApiError(400, message, "BadRequest")
            container = containers[0]
        elif container not in containers + init_containers:
            raise ApiError(400, f"container {container} is not valid for pod {name}", "BadRequest")
        previous = query.get("previous") in ("true", "1")
        key = (namespace, name, container, previous)
        with self._logs_changed:
            stream = self._logs.get(key)
            if stream is None and container == containers[0] and (namespace, name, None, previous) in self._logs:
                key = (namespace, name, None, previous)  # set before the pod existed
                stream = self._logs[key]
        if stream is None:
            if previous:
                raise ApiError(400, f'previous terminated container "{container}" in pod "{name}" not found',
                               "BadRequest")
            for cs in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or []):
                waiting = (cs.get("state") or {}).get("waiting")
                if cs.get("name") == container and waiting and not cs.get("lastState"):
                    raise ApiError(400, f'container "{container}" in pod "{name}" is waiting to start: '
                                        f'{waiting.get("reason", "ContainerCreating")}', "BadRequest")
            if status.get("phase") == "Pending" and not status.get("containerStatuses"):
                raise ApiError(400, f'container "{container}" in pod "{name}" is waiting to start: '
                                    f'ContainerCreating', "BadRequest")
            with self._logs_changed:
                stream = self._logs.setdefault(key, _LogStream())
        timestamps = query.get("timestamps") in ("true", "1")
        limit_bytes = int(query["limitBytes"]) if query.get("limitBytes") else None
        since = None
        if query.get("sinceSeconds"):
            since = time.time() - int(query["sinceSeconds"])
        elif query.get("sinceTime"):
            since = parse_time(query["sinceTime"])
        with self._logs_changed:
            lines = list(stream.lines)
        start = len(lines)
        if since is not None:
            lines = [line for line in lines if line[0] >= since]
        if query.get("tailLines"):
            tail = int(query["tailLines"])
            lines = lines[-tail:] if tail > 0 else []

        def render(items) -> bytes:
            if timestamps:
                return "".join(f"{_nano_time(t)} {text}\n" for t, text in items).encode()
            return "".join(f"{text}\n" for _, text in items).encode()

        if query.get("follow") not in ("true", "1"):
            data = render(lines)
            return h.send_bytes(200, data[:limit_bytes] if limit_bytes is not None else data, "text/plain")
        sent = 0
        h.start_stream(200, "text/plain")
        try:
            position = start
            data = render(lines)
            while True:
                if limit_bytes is not None:
                    data = data[:max(0, limit_bytes - sent)]
                if data:
                    h.write_chunk(data)
                    sent += len(data)
                if limit_bytes is not None and sent >= limit_bytes:
                    break
                with self._logs_changed:
                    if len(stream.lines) == position and not stream.ended and not self._stopping.is_set():
                        self._logs_changed.wait(0.5)
                    new_lines = stream.lines[position:]
                    position += len(new_lines)
                    ended = stream.ended or self._stopping.is_set()
                data = render(new_lines)
                if not new_lines and (ended or not self._pod_exists(namespace, name)):
                    break
                if not new_lines and h.client_gone():
                    h.close_connection = True
                    return
            h.end_stream()
        except (BrokenPipeError, ConnectionResetError, OSError):
            h.close_connection = True

    def _pod_exists(self, namespace: str, name: str) -> bool:
        with self.store.lock:
            return self.store.get(self.resources["v1/pods"], namespace, name) is not None

    # ---------------------------------------------------------------- pod proxy

    def _serve_proxy(self, h, res: Resource, namespace: str, pod_name: str, port: str, sub_path: str,
                     trailing_slash: bool) -> None:
        with self.store.lock:
            pod = self.store.get(res, namespace, pod_name)
        if pod is None:
            raise not_found(res, pod_name)
        if not port:
            ports = [p for (ns, name, p) in self._pod_proxies if ns == namespace and name == pod_name]
            port = ports[0] if len(ports) == 1 else "80"
        base = self._pod_proxies.get((namespace, pod_name, port))
        pod_ip = (pod.get("status") or {}).get("podIP") or "10.244.0.1"
        refused = ApiError(503, f"error trying to reach service: dial tcp {pod_ip}:{port}: connect: connection "
                                f"refused", "ServiceUnavailable")
        if base is None:
            raise refused
        target = urlsplit(base)
        path = target.path.rstrip("/") + "/" + quote(sub_path, safe="/:@!$&'()*+,;=-._~")
        if trailing_slash and sub_path and not path.endswith("/"):
            path += "/"
        if h.raw_query:
            path += "?" + h.raw_query
        conn = http.client.HTTPConnection(target.hostname, target.port or 80, timeout=300)
        try:
            conn.putrequest(h.command, path, skip_host=True, skip_accept_encoding=True)
            for header, value in h.headers.items():
                lower = header.lower()
                if lower in HOP_BY_HOP or lower == "authorization":
                    continue
                if lower == "host":
                    value = target.netloc
                conn.putheader(header, value)
            chunked_upload = h.headers.get("Transfer-Encoding", "").lower() == "chunked"
            if chunked_upload:
                conn.putheader("Transfer-Encoding", "chunked")
            elif h.headers.get("Content-Length"):
                conn.putheader("Content-Length", h.headers["Content-Length"])
            forwarded = h.client_address[0]
            conn.putheader("X-Forwarded-For", forwarded)
            conn.endheaders()
        except OSError:
            conn.close()
            raise refused
        try:
            for piece in h.iter_body():
                conn.send(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked_upload else piece)
            if chunked_upload:
                conn.send(b"0\r\n\r\n")
            response = conn.getresponse()
        except (ConnectionResetError, BrokenPipeError, OSError) as e:
            conn.close()
            if not h.body_consumed:
                h.close_connection = True
            raise ApiError(503, f"error trying to reach service: {e}", "ServiceUnavailable")
        try:
            headers = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP
                       and k.lower() != "content-length"]
            if response.length is not None and not response.chunked:
                h.send_response(response.status)
                for k, v in headers:
                    h.send_header(k, v)
                h.send_header("Content-Length", str(response.length))
                h.end_headers()
                while True:
                    piece = response.read1(1 << 20) if h.command != "HEAD" else b""
                    if not piece:
                        break
                    h.wfile.write(piece)
            else:
                h.start_stream(response.status, None, headers)
                while True:
                    piece = response.read1(1 << 20)
                    if not piece:
                        break
                    h.write_chunk(piece)
                h.end_stream()
        except (BrokenPipeError, ConnectionResetError, OSError):
            h.close_connection = True
        finally:
            conn.close()

    # ---------------------------------------------------------------- tables (kubectl get)

    def _table(self, res: Resource, objs: list[dict], list_meta: dict, include_object: str) -> dict:
        columns, row_of = TABLES.get(res.key, (GENERIC_COLUMNS, _generic_row))
        now = time.time()
        rows = []
        for obj in objs:
            row = {"cells": row_of(obj, now)}
            if include_object == "Object":
                row["object"] = obj
            elif include_object != "None":
                row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                 "metadata": obj["metadata"]}
            rows.append(row)
        return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta,
                "columnDefinitions": [{"name": n, "type": t, "format": f, "description": n, "priority": p}
                                      for n, t, f, p in columns],
                "rows": rows}


def _clear_server_fields(obj: dict) -> None:
    """What the server sets itself on create, whatever the client sent."""
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        for field in ("uid", "creationTimestamp", "resourceVersion", "generation", "deletionTimestamp",
                      "managedFields", "selfLink"):
            meta.pop(field, None)


def _diff_as_merge_patch(old, new):
    """The JSON merge patch that turns old into new."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return new
    patch = {}
    for key in old:
        if key not in new:
            patch[key] = None
    for key, value in new.items():
        if key not in old:
            patch[key] = value
        elif old[key] != value:
            patch[key] = _diff_as_merge_patch(old[key], value)
    return patch


def _nano_time(t: float) -> str:
    whole = dt.datetime.fromtimestamp(t, dt.timezone.utc)
    return whole.strftime("%Y-%m-%dT%H:%M:%S.") + f"{whole.microsecond:06d}000Z"


# DELETE answers with the deleted object for these (and custom resources), with a Status for the rest:
# what the OpenAPI spec declares, and so what the typed client can deserialize.
DELETE_RETURNS_OBJECT = {"v1/pods", "v1/services", "v1/serviceaccounts", "v1/persistentvolumeclaims"}
MAX_REQUESTS_LOGGED = 100_000
PUBLIC_PATHS = {"/version", "/version/", "/healthz", "/livez", "/readyz"}
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
              "trailers", "transfer-encoding", "upgrade", "content-length"}


# --------------------------------------------------------------------------- table rows

def _age(obj: dict, now: float) -> str:
    created = obj["metadata"].get("creationTimestamp")
    return human_age(now - parse_time(created)) if created else "<unknown>"


GENERIC_COLUMNS = [("Name", "string", "name", 0), ("Age", "string", "", 0)]


def _generic_row(obj, now):
    return [obj["metadata"]["name"], _age(obj, now)]


def _pod_row(obj, now):
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    statuses = status.get("containerStatuses") or []
    ready = sum(1 for s in statuses if s.get("ready"))
    restarts = sum(int(s.get("restartCount") or 0) for s in statuses)
    reason = status.get("reason") or status.get("phase") or "Unknown"
    for s in statuses:
        state = s.get("state") or {}
        if state.get("waiting", {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif state.get("terminated"):
            term = state["terminated"]
            reason = term.get("reason") or (f"Signal:{term['signal']}" if term.get("signal")
                                            else f"ExitCode:{term.get('exitCode')}")
    if obj["metadata"].get("deletionTimestamp"):
        reason = "Terminating"
    gates = spec.get("readinessGates") or []
    return [obj["metadata"]["name"], f"{ready}/{len(spec.get('containers') or [])}", reason, str(restarts),
            _age(obj, now), status.get("podIP") or "<none>", spec.get("nodeName") or "<none>",
            status.get("nominatedNodeName") or "<none>", f"{len(gates)}/{len(gates)}" if gates else "<none>"]


def _node_row(obj, now):
    status, labels = obj.get("status") or {}, obj["metadata"].get("labels") or {}
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    state = "Ready" if ready and ready.get("status") == "True" else ("NotReady" if ready else "Unknown")
    if (obj.get("spec") or {}).get("unschedulable"):
        state += ",SchedulingDisabled"
    roles = sorted(k.split("/", 1)[1] for k in labels if k.startswith("node-role.kubernetes.io/"))
    info = status.get("nodeInfo") or {}
    addresses = {a.get("type"): a.get("address") for a in status.get("addresses") or []}
    return [obj["metadata"]["name"], state, ",".join(roles) or "<none>", _age(obj, now),
            info.get("kubeletVersion", ""), addresses.get("InternalIP", "<none>"), addresses.get("ExternalIP", "<none>"),
            info.get("osImage", "<unknown>"), info.get("kernelVersion", "<unknown>"),
            info.get("containerRuntimeVersion", "<unknown>")]


def _deployment_row(obj, now):
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
    selector = (spec.get("selector") or {}).get("matchLabels") or {}
    return [obj["metadata"]["name"], f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
            status.get("updatedReplicas", 0), status.get("availableReplicas", 0), _age(obj, now),
            ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers),
            ",".join(f"{k}={v}" for k, v in selector.items())]


def _service_row(obj, now):
    spec = obj.get("spec") or {}
    ports = ",".join(f"{p.get('port')}{'/' + str(p['nodePort']) if p.get('nodePort') else ''}/"
                     f"{p.get('protocol', 'TCP')}" for p in spec.get("ports") or [])
    ingress = ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    external = ",".join(i.get("ip") or i.get("hostname", "") for i in ingress) or \
        ("<pending>" if spec.get("type") == "LoadBalancer" else "<none>")
    selector = ",".join(f"{k}={v}" for k, v in (spec.get("selector") or {}).items()) or "<none>"
    return [obj["metadata"]["name"], spec.get("type", "ClusterIP"), spec.get("clusterIP", "<none>"), external,
            ports or "<none>", _age(obj, now), selector]


def _namespace_row(obj, now):
    return [obj["metadata"]["name"], (obj.get("status") or {}).get("phase", "Active"), _age(obj, now)]


def _event_row(obj, now):
    involved = obj.get("involvedObject") or {}
    last = obj.get("lastTimestamp") or obj.get("eventTime") or obj["metadata"].get("creationTimestamp")
    return [human_age(now - parse_time(last)) if last else "<unknown>", obj.get("type", ""), obj.get("reason", ""),
            f"{(involved.get('kind') or '').lower()}/{involved.get('name', '')}", obj.get("message", "")]


TABLES = {
    "v1/pods": ([("Name", "string", "name", 0), ("Ready", "string", "", 0), ("Status", "string", "", 0),
                 ("Restarts", "string", "", 0), ("Age", "string", "", 0), ("IP", "string", "", 1),
                 ("Node", "string", "", 1), ("Nominated Node", "string", "", 1),
                 ("Readiness Gates", "string", "", 1)], _pod_row),
    "v1/nodes": ([("Name", "string", "name", 0), ("Status", "string", "", 0), ("Roles", "string", "", 0),
                  ("Age", "string", "", 0), ("Version", "string", "", 0), ("Internal-IP", "string", "", 1),
                  ("External-IP", "string", "", 1), ("OS-Image", "string", "", 1),
                  ("Kernel-Version", "string", "", 1), ("Container-Runtime", "string", "", 1)], _node_row),
    "apps/v1/deployments": ([("Name", "string", "name", 0), ("Ready", "string", "", 0),
                             ("Up-to-date", "integer", "", 0), ("Available", "integer", "", 0),
                             ("Age", "string", "", 0), ("Containers", "string", "", 1),
                             ("Images", "string", "", 1), ("Selector", "string", "", 1)], _deployment_row),
    "v1/services": ([("Name", "string", "name", 0), ("Type", "string", "", 0), ("Cluster-IP", "string", "", 0),
                     ("External-IP", "string", "", 0), ("Port(s)", "string", "", 0), ("Age", "string", "", 0),
                     ("Selector", "string", "", 1)], _service_row),
    "v1/namespaces": ([("Name", "string", "name", 0), ("Status", "string", "", 0), ("Age", "string", "", 0)],
                      _namespace_row),
    "v1/events": ([("Last Seen", "string", "", 0), ("Type", "string", "", 0), ("Reason", "string", "", 0),
                   ("Object", "string", "", 0), ("Message", "string", "", 0)], _event_row),
}


# --------------------------------------------------------------------------- HTTP plumbing

_certificate: tuple[str, str] | None = None
_certificate_lock = threading.Lock()


def self_signed_certificate() -> tuple[str, str]:
    """(cert file, key file) for 127.0.0.1 and localhost, made once per process (needs ``cryptography``)."""
    global _certificate
    with _certificate_lock:
        if _certificate:
            return _certificate
        import ipaddress
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-kube-apiserver")])
        now = dt.datetime.now(dt.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=365))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                            x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                               critical=False)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .sign(key, hashes.SHA256()))
        folder = Path(tempfile.mkdtemp(prefix="fake-k8s-tls-"))
        (folder / "tls.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        (folder / "tls.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                           serialization.PrivateFormat.PKCS8,
                                                           serialization.NoEncryption()))
        _certificate = (str(folder / "tls.crt"), str(folder / "tls.key"))
        return _certificate


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    api: FakeKubeAPI
    ssl_context: ssl.SSLContext | None = None

    def __init__(self, *args, **kwargs):
        self._connections: set[socket.socket] = set()
        self._handler_threads: set[threading.Thread] = set()
        self._connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request, client_address):
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        thread = threading.Thread(target=self._serve_connection, args=(request, client_address),
                                  name="fake-k8s-conn", daemon=True)
        with self._connections_lock:
            self._connections.add(request)
            self._handler_threads.add(thread)
        thread.start()

    def _serve_connection(self, request, client_address):
        raw = request
        try:
            if self.ssl_context:
                try:
                    raw.settimeout(10)
                    request = self.ssl_context.wrap_socket(raw, server_side=True)  # takes over raw's fd
                    request.settimeout(None)
                except (OSError, ssl.SSLError):
                    raw.close()
                    return
                with self._connections_lock:
                    self._connections.discard(raw)
                    self._connections.add(request)
            self.process_request_thread(request, client_address)
        finally:
            with self._connections_lock:
                self._connections.discard(raw)
                self._connections.discard(request)
                self._handler_threads.discard(threading.current_thread())

    def close_all_connections(self):
        with self._connections_lock:
            connections = list(self._connections)
        for sock in connections:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def join_handlers(self, timeout: float):
        deadline = time.monotonic() + timeout
        while True:
            with self._connections_lock:
                threads = list(self._handler_threads)
            if not threads or time.monotonic() > deadline:
                return
            threads[0].join(max(0.0, deadline - time.monotonic()))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format, *args):  # quiet
        pass

    def handle_one_request(self):
        self.body_consumed = True
        self.raw_query = ""
        super().handle_one_request()

    def _dispatch(self):
        has_body = self.headers.get("Transfer-Encoding", "").lower() == "chunked" or \
            int(self.headers.get("Content-Length") or 0) > 0
        self.body_consumed = not has_body
        self.server.api._handle(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch

    # request body
    def iter_body(self, size: int = 1 << 20):
        if self.body_consumed:
            return
        self.body_consumed = True
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                line = self.rfile.readline(65537)
                length = int(line.split(b";")[0].strip() or b"0", 16)
                if length == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return
                while length:
                    piece = self.rfile.read(min(size, length))
                    if not piece:
                        raise ConnectionResetError("client closed the request body")
                    length -= len(piece)
                    yield piece
                self.rfile.readline(3)
        else:
            remaining = int(self.headers.get("Content-Length") or 0)
            while remaining:
                piece = self.rfile.read(min(size, remaining))
                if not piece:
                    raise ConnectionResetError("client closed the request body")
                remaining -= len(piece)
                yield piece

    def read_body(self) -> bytes:
        return b"".join(self.iter_body())

    # responses
    def send_bytes(self, code: int, data: bytes, content_type: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_json(self, code: int, obj) -> None:
        self.send_bytes(code, _dumps(obj), "application/json")

    def send_text(self, code: int, text: str) -> None:
        self.send_bytes(code, text.encode(), "text/plain; charset=utf-8")

    def start_stream(self, code: int, content_type: str | None, headers=()) -> None:
        self.send_response(code)
        if content_type:
            self.send_header("Content-Type", content_type)
        for k, v in headers:
            self.send_header(k, v)
        self.chunked = self.request_version != "HTTP/1.0"
        if self.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.close_connection = True
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()

    def write_chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if self.chunked else data)

    def end_stream(self) -> None:
        if self.chunked:
            self.wfile.write(b"0\r\n\r\n")

    def client_gone(self) -> bool:
        """True when the client closed its end (checked while a stream is idle)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            # socket.socket.recv peeks at the TCP stream under TLS too (SSLSocket.recv takes no flags)
            return bool(readable) and socket.socket.recv(self.connection, 1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True


# --------------------------------------------------------------------------- kubeconfig

def write_kubeconfig(path, contexts: dict[str, FakeKubeAPI], current: str | None = None) -> Path:
    """Write one kubeconfig with a context (and a cluster and user of the same name) per entry."""
    config = {"apiVersion": "v1", "kind": "Config", "preferences": {}, "clusters": [], "users": [], "contexts": [],
              "current-context": current or next(iter(contexts))}
    for name, api in contexts.items():
        one = api.kubeconfig(context=name, cluster=name, user=name)
        for section in ("clusters", "users", "contexts"):
            config[section].extend(one[section])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    os.chmod(path, 0o600)
    return path


# --------------------------------------------------------------------------- standalone

def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fake Kubernetes API on 127.0.0.1 until Ctrl-C.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument("--token", default="fake-token", help="bearer token ('' disables auth)")
    parser.add_argument("--seed", choices=["none", "kind"], default="kind")
    parser.add_argument("--name", default="lab", help="cluster name for --seed kind")
    parser.add_argument("--no-volcano", action="store_true")
    parser.add_argument("--pods", type=int, default=0, help="extra workload pods in namespace 'bench'")
    parser.add_argument("--kubeconfig", help="where to write the kubeconfig (default: a temp file)")
    parser.add_argument("--tls", action="store_true", help="serve https (kubectl sends tokens only over TLS)")
    parser.add_argument("--pod-proxy", action="append", default=[], metavar="NS/POD:PORT=URL",
                        help="forward pods/POD:PORT/proxy/ to URL (the pod is made if missing); repeatable")
    args = parser.parse_args(argv)

    api = FakeKubeAPI(host=args.host, port=args.port, token=args.token or None, volcano=not args.no_volcano,
                      tls=args.tls)
    if args.seed == "kind":
        from tests.support.k8s_seed import seed_kind_cluster, seed_workload_pods
        seed_kind_cluster(api, name=args.name, volcano=not args.no_volcano)
        if args.pods:
            seed_workload_pods(api, args.pods)
    for spec in args.pod_proxy:
        target, url = spec.split("=", 1)
        namespace, pod_port = target.split("/", 1)
        pod, port = pod_port.rsplit(":", 1)
        if api.get("v1", "Pod", pod, namespace) is None:
            if api.get("v1", "Namespace", namespace) is None:
                api.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
            api.put({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod, "namespace": namespace},
                     "spec": {"containers": [{"name": "agent", "image": "portal-agent:dev"}]},
                     "status": {"phase": "Running", "podIP": "10.244.1.2"}})
        api.register_pod_proxy(namespace, pod, port, url)
    api.start()
    path = args.kubeconfig or os.path.join(tempfile.mkdtemp(prefix="fake-k8s-"), "kubeconfig")
    api.write_kubeconfig(path, contexts=[f"kind-{args.name}"])
    print(f"fake Kubernetes API at {api.url}", flush=True)
    print(path, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        api.stop()


if __name__ == "__main__":
    main()
