"""Every HTTP call the portal makes to a node agent goes through this module.

Discovered agents are reached through their cluster's API server pod proxy, with the cluster's
credentials (clusters.kube.pod_proxy_target); agents registered by URL directly. Either way the
agent token travels as `X-Agent-Token`, since the API server strips `Authorization` before
proxying. One requests.Session per agent keeps its connections; every call has a timeout; bodies
stream both ways. Every failure becomes an AgentError whose message a person can act on.
"""

import threading
from dataclasses import dataclass, field

import requests
import urllib3
from django.conf import settings
from django.utils.translation import gettext as _

from clusters import kube
from portal.errors import UserFacingError

CHUNK = 1024 * 1024
# A followed log sends nothing while its run is silent; reconnect (from the same offset) after this
# long, so a vanished agent is noticed instead of waited on for ever.
FOLLOW_IDLE_RECONNECT = 60.0


class AgentError(UserFacingError):
    """An agent call failed; str() is a sentence for the user."""

    def __init__(self, message, status=None, code=None, data=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.data = data or {}

    @property
    def unreachable(self):
        return self.status is None or self.status in (502, 503, 504)


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    headers: dict
    verify: object = True
    cert: tuple | None = None
    proxies: dict = field(default_factory=dict)


def endpoint(node):
    """Where and how to reach the agent of `node`."""
    if node.url:
        if not node.token:
            raise AgentError(_("No token is stored for the agent on %(node)s: register it again with its token.")
                             % {"node": node.name})
        return Endpoint(node.url.rstrip("/"), {"X-Agent-Token": node.token})
    if not node.pod_name or node.cluster_id is None:
        raise AgentError(_("No agent runs on %(node)s: deploy the agent DaemonSet (deploy/agent) to this node.")
                         % {"node": node.name})
    config = getattr(node.cluster, "agent_config", None)
    token = node.token or (config.token if config else "")
    if not token:
        raise AgentError(_("No agent token is set for cluster %(cluster)s: an administrator enters it on the "
                           "Nodes page.") % {"cluster": node.cluster.name})
    port = config.port if config else 8700
    try:
        target = kube.pod_proxy_target(node.cluster, node.pod_namespace, node.pod_name, port)
    except kube.KubeError as exc:
        raise AgentError(str(exc)) from exc
    return Endpoint(target.base_url, {**target.headers, "X-Agent-Token": token}, target.verify, target.cert,
                    target.proxies)


_sessions = {}
_sessions_lock = threading.Lock()


def _session(node, ep):
    key = (node.pk, ep.base_url)
    with _sessions_lock:
        session = _sessions.get(key)
        if session is None:
            session = requests.Session()
            adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=8, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.trust_env = False  # proxies come from the kubeconfig, not the portal's environment
            _sessions[key] = session
        return session


def _seconds(timeout, which):
    if isinstance(timeout, tuple):
        return timeout[0] if which == "connect" else timeout[1]
    return timeout


def _describe(node, exc, timeout):
    name = node.name
    if isinstance(exc, requests.ConnectTimeout):
        return _("The agent on %(node)s did not answer within %(seconds)s s.") % {
            "node": name, "seconds": f"{_seconds(timeout, 'connect'):g}"}
    if isinstance(exc, requests.ReadTimeout):
        return _("The agent on %(node)s did not answer within %(seconds)s s.") % {
            "node": name, "seconds": f"{_seconds(timeout, 'read'):g}"}
    if isinstance(exc, requests.exceptions.SSLError):
        return _("TLS error reaching the agent on %(node)s: %(error)s") % {"node": name, "error": exc}
    if isinstance(exc, requests.ConnectionError):
        where = node.url or (node.cluster.server if node.cluster_id else "")
        return _("Cannot connect to the agent on %(node)s (%(where)s).") % {"node": name, "where": where}
    return _("The agent on %(node)s failed: %(error)s") % {"node": name, "error": exc}


def _error_from_response(node, response):
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    status = response.status_code
    if body.get("kind") == "Status":  # the API server answered, not the agent
        message = body.get("message") or response.reason
        if status == 401:
            text = _("Cluster %(cluster)s refused the portal's credentials (401).") % {"cluster": node.cluster_label}
        elif status == 403:
            text = _("Cluster %(cluster)s forbids reaching the agent pod: %(error)s") % {
                "cluster": node.cluster_label, "error": message}
        elif status == 404:
            text = _("The agent pod of %(node)s is gone (%(error)s); refresh the node list.") % {
                "node": node.name, "error": message}
        else:
            text = _("The API server cannot reach the agent on %(node)s: %(error)s") % {"node": node.name,
                                                                                       "error": message}
        return AgentError(text, status, body.get("reason"))
    code = body.get("error")
    if status == 401:
        text = _("The agent on %(node)s refused the portal's token: check the agent token in the agent "
                 "settings.") % {"node": node.name}
    elif code == "run_active":
        text = _("A run is already active on %(node)s (agent run %(run)s): wait for it or interrupt it.") % {
            "node": node.name, "run": body.get("active_run_id", "?")}
    elif body.get("message"):
        text = _("The agent on %(node)s: %(message)s") % {"node": node.name, "message": body["message"]}
    else:
        text = _("The agent on %(node)s answered %(status)s.") % {"node": node.name, "status": status}
    return AgentError(text, status, code, body)


def request(node, method, path, *, timeout=None, stream=False, expect=None, **kwargs):
    """One call to the agent of `node`; the response, or AgentError."""
    ep = endpoint(node)
    timeout = timeout or settings.AGENT_TIMEOUT
    headers = {**ep.headers, **kwargs.pop("headers", {})}
    try:
        response = _session(node, ep).request(
            method, ep.base_url + path, headers=headers, timeout=timeout, stream=stream, verify=ep.verify,
            cert=ep.cert, proxies=ep.proxies, allow_redirects=False, **kwargs)
    except requests.RequestException as exc:
        raise AgentError(_describe(node, exc, timeout)) from exc
    if response.status_code >= 400 or (expect and response.status_code not in expect):
        try:
            raise _error_from_response(node, response)
        finally:
            response.close()
    return response


def _json(node, method, path, **kwargs):
    response = request(node, method, path, **kwargs)
    try:
        return response.json()
    except ValueError as exc:
        raise AgentError(_("The agent on %(node)s sent an answer that is not JSON; is this URL an agent?")
                         % {"node": node.name}) from exc


# ---------------------------------------------------------------- node

def health(node, timeout=None):
    return _json(node, "GET", "/v1/health", timeout=timeout)


def resources(node, timeout=None):
    return _json(node, "GET", "/v1/resources", timeout=timeout)


# ---------------------------------------------------------------- workspace

def list_files(node, path="", offset=0, limit=200):
    return _json(node, "GET", "/v1/files", params={"path": path, "offset": offset, "limit": limit})


def open_file(node, path, byte_range=None):
    """A streamed response for a workspace file; iterate `iter_content(CHUNK)` and close it."""
    headers = {"Range": byte_range} if byte_range else {}
    return request(node, "GET", "/v1/files/content", params={"path": path}, headers=headers, stream=True,
                   timeout=(settings.AGENT_TIMEOUT[0], 60))


def upload_file(node, path, chunks, length=None):
    """PUT one file; `chunks` is an iterable of bytes, streamed (never read whole)."""
    headers = {"Content-Type": "application/octet-stream"}
    return _json(node, "PUT", "/v1/files/content", params={"path": path}, data=_sized(chunks, length),
                 headers=headers, timeout=(settings.AGENT_TIMEOUT[0], 600))


def upload_archive(node, chunks, *, keep=None, fmt=None, content_type=None, length=None):
    """Replace the workspace with an archive (except the keep-list); `chunks` is streamed."""
    params = [("format", fmt)] if fmt else []
    if keep is not None:
        params += [("keep", item) for item in keep] or [("keep", "")]
    headers = {"Content-Type": content_type or "application/octet-stream"}
    return _json(node, "POST", "/v1/workspace/archive", params=params, data=_sized(chunks, length),
                 headers=headers, timeout=(settings.AGENT_TIMEOUT[0], 1800))


class _SizedStream:
    """An iterator of chunks that tells requests its length, so the body goes with Content-Length
    (the agent then refuses a too-large body at once) instead of chunked encoding."""

    def __init__(self, chunks, length):
        self._chunks = iter(chunks)
        self._length = length
        self._piece, self._offset = b"", 0

    def __len__(self):
        return self._length

    def read(self, size=-1):
        """At most `size` bytes of the current piece: the sender reads small blocks, and re-slicing a
        growing buffer for each of them would copy every megabyte many times."""
        if size is None or size < 0:
            rest = self._piece[self._offset:] + b"".join(self._chunks)
            self._piece, self._offset = b"", 0
            return rest
        if self._offset >= len(self._piece):
            self._piece, self._offset = next(self._chunks, b""), 0
        data = self._piece[self._offset:self._offset + size]
        self._offset += len(data)
        return data


def _sized(chunks, length):
    return chunks if length is None else _SizedStream(chunks, length)


def delete_path(node, path):
    return _json(node, "DELETE", "/v1/files", params={"path": path})


def make_directory(node, path):
    return _json(node, "POST", "/v1/files/mkdir", params={"path": path})


def clear_workspace(node, keep=None):
    body = None if keep is None else {"keep": list(keep)}
    return _json(node, "POST", "/v1/workspace/clear", json=body, timeout=(settings.AGENT_TIMEOUT[0], 120))


# ---------------------------------------------------------------- runs

def start_run(node, command, *, cwd="", env=None):
    body = {"command": command}
    if cwd:
        body["cwd"] = cwd
    if env:
        body["env"] = env
    return _json(node, "POST", "/v1/runs", json=body)


def run_status(node, run_id):
    return _json(node, "GET", f"/v1/runs/{run_id}")


def interrupt_run(node, run_id):
    return _json(node, "POST", f"/v1/runs/{run_id}/interrupt")


@dataclass(frozen=True)
class LogPiece:
    data: bytes
    next_offset: int
    size: int
    state: str


def read_log(node, run_id, offset=0, limit=CHUNK):
    response = request(node, "GET", f"/v1/runs/{run_id}/log", params={"offset": offset, "limit": limit})
    headers = response.headers
    return LogPiece(response.content, int(headers.get("X-Next-Offset", offset + len(response.content))),
                    int(headers.get("X-Log-Size", 0)), headers.get("X-Run-State", ""))


class LogFollower:
    """Follows a run's log from a byte offset until the run has ended and every byte is read.

    Iterate it for byte chunks as they arrive; `close()` from another thread stops it. A silent
    stream is reopened from the same offset every FOLLOW_IDLE_RECONNECT seconds.
    """

    def __init__(self, node, run_id, offset=0, idle_reconnect=FOLLOW_IDLE_RECONNECT):
        self.node, self.run_id, self.offset = node, run_id, offset
        self.idle_reconnect = idle_reconnect
        self.closed = False
        self._response = None

    def __iter__(self):
        while not self.closed:
            self._response = request(self.node, "GET", f"/v1/runs/{self.run_id}/log/stream",
                                     params={"offset": self.offset}, stream=True,
                                     timeout=(settings.AGENT_TIMEOUT[0], self.idle_reconnect))
            try:
                for piece in self._response.iter_content(chunk_size=None):
                    if piece:
                        self.offset += len(piece)
                        yield piece
                return  # the run ended and the stream said everything
            except requests.exceptions.ConnectionError as exc:
                if self.closed:
                    return
                if exc.args and isinstance(exc.args[0], urllib3.exceptions.ReadTimeoutError):
                    continue  # silent run: reopen from the same offset
                raise AgentError(_describe(self.node, exc, settings.AGENT_TIMEOUT)) from exc
            except requests.RequestException as exc:
                if self.closed:
                    return
                raise AgentError(_describe(self.node, exc, settings.AGENT_TIMEOUT)) from exc
            except (AttributeError, ValueError, OSError):
                if self.closed:  # closed from another thread mid-read
                    return
                raise
            finally:
                self._response.close()

    def close(self):
        self.closed = True
        response = self._response
        if response is not None:
            try:
                response.raw._fp.fp.raw._sock.shutdown(2)  # wake a blocked read at once
            except Exception:  # noqa: BLE001 - best effort; close() below suffices eventually
                pass
            response.close()
