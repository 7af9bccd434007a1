"""Multi-document YAML: parsed with line numbers and checked against the Kubernetes schemas
(kubernetes-validate, offline) before anything is sent to a cluster."""

from dataclasses import dataclass, field

import kubernetes_validate
import yaml
from django.utils.translation import gettext as _

KUBERNETES_SCHEMA_VERSION = "1.30.0"
MAX_DOCUMENTS = 200


@dataclass
class ManifestDocument:
    line: int  # 1-based line where the document starts
    body: dict
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)

    @property
    def label(self):
        return f"{self.body.get('kind', '?')}/{(self.body.get('metadata') or {}).get('name', '?')}"


class KubeYamlLoader(yaml.SafeLoader):
    """YAML as the API server reads it: timestamps stay strings (they must survive as JSON)."""


KubeYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def yaml_documents(text):
    """(node, value) for every document of a YAML stream, in one pass; raises yaml.YAMLError.

    The node keeps the line numbers, for messages that point at the line."""
    loader = KubeYamlLoader(text)
    try:
        documents = []
        while loader.check_node():
            node = loader.get_node()
            documents.append((node, loader.construct_document(node)))
        return documents
    finally:
        loader.dispose()


class ManifestError(Exception):
    """The text is not YAML at all; str() says where."""


def field_path(parts):
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def parse_documents(text):
    """The non-empty documents of a YAML stream, each with the line it starts on."""
    try:
        documents = [ManifestDocument(line=node.start_mark.line + 1, body=body)
                     for node, body in yaml_documents(text) if body is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = _("line %(line)d, column %(column)d") % {"line": mark.line + 1, "column": mark.column + 1} if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ManifestError(_("YAML error at %(where)s: %(problem)s") % {"where": where, "problem": problem})
    if not documents:
        raise ManifestError(_("There is no document in this YAML."))
    if len(documents) > MAX_DOCUMENTS:
        raise ManifestError(_("At most %(max)d documents at once.") % {"max": MAX_DOCUMENTS})
    return documents


def check_document(document):
    body = document.body
    if not isinstance(body, dict):
        document.errors.append(_("The document is not a mapping (apiVersion, kind, metadata…)."))
        return
    for key in ("apiVersion", "kind"):
        if not body.get(key):
            document.errors.append(_("%(field)s is missing.") % {"field": key})
    if not (body.get("metadata") or {}).get("name"):
        document.errors.append(_("metadata.name is missing."))
    if document.errors:
        return
    try:
        kubernetes_validate.validate(body, KUBERNETES_SCHEMA_VERSION, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        document.warnings.append(_("%(kind)s (%(api_version)s) is not a built-in kind: its fields are checked by "
                                   "the cluster.") % {"kind": body["kind"], "api_version": body["apiVersion"]})
    except kubernetes_validate.ValidationError as exc:
        where = field_path(exc.path)
        document.errors.append(f"{where}: {exc.message}" if where else exc.message)


def validate_manifests(text):
    """Parse and check every document; raises ManifestError when the YAML itself is broken."""
    documents = parse_documents(text)
    for document in documents:
        check_document(document)
    return documents
