"""The agent's HTTP API (FastAPI): health, resources, workspace files and archives, runs and their logs."""

import asyncio
import hmac
import os
import shutil
import threading
import time
import uuid
from contextlib import asynccontextmanager

from fastapi import Body, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import __version__, archive, workspace
from .config import Settings
from .errors import AgentError, bad_request, conflict
from .paths import RESERVED_PREFIX, Workspace
from .resources import ResourceSampler
from .runs import RunManager
from .uploads import receive_body

HEALTH_PATH = "/v1/health"
STREAM_CHUNK = 256 * 1024
MAX_LOG_READ = 16 * 1024 * 1024

_BINARY_BODY = {"requestBody": {"required": True, "content": {
    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "file": {"type": "string", "format": "binary"}}}},
}}}


class RunRequest(BaseModel):
    command: str | None = None
    argv: list[str] | None = None
    env: dict[str, str] = {}
    cwd: str = ""


class ClearRequest(BaseModel):
    keep: list[str] | None = None


class BearerTokenAuth:
    """Every HTTP request except the health check must carry the token, as `Authorization: Bearer <token>`
    or as `X-Agent-Token: <token>`. The second form exists because the Kubernetes API server's proxy
    (pods/<pod>:<port>/proxy/...) removes the Authorization header after authenticating the caller."""

    def __init__(self, app, token: str | None):
        self.app = app
        self.token = token.encode() if token else None

    def _allowed(self, headers) -> bool:
        bearer = agent_token = None
        for key, value in headers:
            if key == b"authorization":
                scheme, _, given = value.partition(b" ")
                bearer = given.strip() if scheme.lower() == b"bearer" else None
            elif key == b"x-agent-token":
                agent_token = value.strip()
        return any(given is not None and hmac.compare_digest(given, self.token) for given in (bearer, agent_token))

    async def __call__(self, scope, receive, send):
        if self.token is not None and scope["type"] == "http" and scope["path"] != HEALTH_PATH:
            if not self._allowed(scope["headers"]):
                response = JSONLineResponse(
                    {"error": "unauthorized",
                     "message": "A valid token is required: send the header `Authorization: Bearer <token>` "
                                "(or `X-Agent-Token: <token>`) with the agent's token, the Secret mounted "
                                "into the agent's pod."},
                    status_code=401, headers={"WWW-Authenticate": "Bearer"})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class JSONLineResponse(JSONResponse):
    """JSON ending in a newline, so answers shown by curl do not run into the shell prompt."""

    def render(self, content) -> bytes:
        return super().render(content) + b"\n"


def error_response(status: int, code: str, message: str, **extra) -> JSONResponse:
    return JSONLineResponse({"error": code, "message": message, **extra}, status_code=status)


def create_app(settings: Settings) -> FastAPI:
    os.makedirs(settings.workspace, exist_ok=True)
    os.makedirs(settings.state_dir, mode=0o700, exist_ok=True)
    ws = Workspace(settings.workspace)
    workspace.remove_leftovers(ws)
    uploads_dir = os.path.join(settings.state_dir, "uploads")
    shutil.rmtree(uploads_dir, ignore_errors=True)
    os.makedirs(uploads_dir, mode=0o700)
    runs = RunManager(settings.state_dir, settings.max_active_runs, settings.interrupt_grace_seconds)
    sampler = ResourceSampler(ws.root, settings.cpu_sample_interval)
    # Held while the workspace's top level is swapped and while a run starts, so a run never starts
    # in a half-replaced workspace.
    workspace_lock = threading.Lock()
    started = time.monotonic()
    limits = archive.Limits(settings.max_archive_bytes, settings.max_archive_entries, settings.max_compression_ratio)

    @asynccontextmanager
    async def lifespan(app):
        sampler.start()
        yield
        await run_in_threadpool(runs.stop_all)
        sampler.stop()

    app = FastAPI(title="Volcano Portal node agent", version=__version__, lifespan=lifespan,
                  docs_url=None, redoc_url=None, default_response_class=JSONLineResponse,
                  description="A token-protected workspace and run service for one worker node.")
    app.add_middleware(BearerTokenAuth, token=settings.token)
    app.state.settings, app.state.runs = settings, runs

    @app.exception_handler(AgentError)
    async def agent_error(request, exc: AgentError):
        return error_response(exc.status, exc.code, exc.message, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request, exc: RequestValidationError):
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return error_response(400, "bad_request", f"The request is not valid: {problems}.")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request, exc: StarletteHTTPException):
        if exc.status_code == 404:
            return error_response(404, "not_found", f"There is no endpoint {request.url.path}; the API is "
                                  "described at /openapi.json.")
        if exc.status_code == 405:
            return error_response(405, "method_not_allowed",
                                  f"{request.method} is not allowed on {request.url.path}.")
        return error_response(exc.status_code, "http_error", str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected_error(request, exc: Exception):
        return error_response(500, "internal", f"The agent hit an unexpected error ({type(exc).__name__}: "
                              f"{exc}); see the agent's log.")

    def refuse_if_running(action: str) -> None:
        active = runs.active_ids()
        if active:
            raise conflict(f"Run {active[0]} is running in the workspace; interrupt it "
                           f"(POST /v1/runs/{active[0]}/interrupt) or wait for it to end before {action}.",
                           "run_active", active_run_id=active[0])

    # -- health and resources ------------------------------------------------------------------------

    @app.get(HEALTH_PATH, summary="Liveness; needs no token")
    def health():
        return {"status": "ok", "version": __version__, "node": settings.node_name, "workspace": ws.root,
                "uptime_seconds": round(time.monotonic() - started, 3), "run_active": bool(runs.active_ids())}

    @app.get("/v1/resources", summary="CPU (sampled in the background), load, memory, disk, GPUs")
    def resources():
        return sampler.snapshot()

    # -- files ---------------------------------------------------------------------------------------

    @app.get("/v1/files", summary="List a directory of the workspace")
    def list_files(path: str = "", offset: int = Query(0, ge=0), limit: int = Query(1000, ge=1, le=10000)):
        real = ws.resolve(path)
        if not os.path.isdir(real):
            raise bad_request(f"{path!r} is a file; download it with GET /v1/files/content?path=...",
                              "not_a_directory")
        entries, total = workspace.list_dir(real, offset, limit)
        return {"path": ws.relative(real), "entries": entries, "total": total, "offset": offset, "limit": limit}

    @app.get("/v1/files/content", summary="Download a file (supports Range)")
    def download_file(path: str):
        real = ws.resolve(path)
        if os.path.isdir(real):
            raise bad_request(f"{path!r} is a directory; list it with GET /v1/files?path=...", "is_a_directory")
        return FileResponse(real, filename=os.path.basename(real), media_type="application/octet-stream")

    @app.put("/v1/files/content", summary="Upload one file (raw body), replacing it atomically",
             openapi_extra=_BINARY_BODY)
    async def upload_file(request: Request, path: str):
        target = ws.resolve(path, must_exist=False)
        parent_rel = os.path.dirname(ws.relative(target))
        if parent_rel:
            await run_in_threadpool(workspace.make_dir, ws, parent_rel)
        if os.path.isdir(target):
            raise conflict(f"{path!r} is a directory; delete it first or choose another name.", "is_a_directory")
        tmp = os.path.join(os.path.dirname(target), f"{RESERVED_PREFIX}{uuid.uuid4().hex}.part")
        info = await receive_body(request, tmp, settings.max_upload_bytes)
        try:
            await run_in_threadpool(workspace.write_file_atomically, tmp, target)
        finally:
            if os.path.lexists(tmp):
                os.unlink(tmp)
        return {"path": ws.relative(target), "size": info["size"]}

    @app.delete("/v1/files", summary="Delete a file or directory (a symlink itself, not its target)")
    def delete_file(path: str):
        parent, name = ws.resolve_entry(path)
        if not os.path.lexists(os.path.join(parent, name)):
            raise AgentError(404, "not_found", f"Nothing exists at {path!r} in the workspace.")
        workspace.delete_entry(parent, name)
        return {"deleted": ws.relative(os.path.join(parent, name))}

    @app.post("/v1/files/mkdir", summary="Create a directory (and its parents)")
    def make_directory(path: str):
        return {"path": workspace.make_dir(ws, path)}

    # -- whole workspace ---------------------------------------------------------------------------

    def keep_list(given: list[str] | None) -> list[list[str]]:
        return workspace.normalise_keep(list(settings.default_keep) if given is None else given)

    def unpack_and_swap(upload: str, fmt_declared: str | None, content_type: str | None, keep) -> dict:
        fmt = archive.detect_format(upload, fmt_declared, content_type)
        members = archive.read_members(upload, fmt, limits)
        staging = workspace.new_staging_dir(ws)
        try:
            new_tree = os.path.join(staging, "new")
            os.mkdir(new_tree)
            archive.extract(upload, fmt, members, new_tree)
            with workspace_lock:
                refuse_if_running("replacing the workspace")
                swapped = workspace.replace_contents(ws, new_tree, keep, staging)
        finally:
            workspace.remove_path(staging)
        files = [m for m in members if not m.is_dir]
        return {"format": fmt, "files": len(files), "directories": len(members) - len(files),
                "bytes": sum(m.size for m in files), **swapped}

    @app.post("/v1/workspace/archive", openapi_extra=_BINARY_BODY,
              summary="Replace the workspace with a zip, tar or tar.gz archive, except the keep-list")
    async def upload_archive(request: Request, keep: list[str] | None = Query(None),
                             format: str | None = Query(None, description="zip, tar or tar.gz; sniffed if absent")):
        refuse_if_running("replacing the workspace")
        keep_given = keep
        upload = os.path.join(uploads_dir, f"{uuid.uuid4().hex}.upload")
        info = await receive_body(request, upload, settings.max_upload_bytes)
        try:
            fields = info["fields"]
            if keep_given is None and "keep" in fields:
                keep_given = fields["keep"]
            fmt = format or (fields.get("format") or [None])[0]
            return await run_in_threadpool(unpack_and_swap, upload, fmt, info["content_type"], keep_list(keep_given))
        finally:
            os.unlink(upload)

    @app.post("/v1/workspace/clear", summary="Empty the workspace except the keep-list")
    def clear_workspace(body: ClearRequest | None = Body(None)):
        keep = keep_list(body.keep if body else None)
        with workspace_lock:
            refuse_if_running("clearing the workspace")
            staging = workspace.new_staging_dir(ws)
            try:
                empty = os.path.join(staging, "new")
                os.mkdir(empty)
                swapped = workspace.replace_contents(ws, empty, keep, staging)
            finally:
                workspace.remove_path(staging)
        return {"kept": swapped["kept"]}

    # -- runs ----------------------------------------------------------------------------------------

    @app.post("/v1/runs", status_code=201, summary="Start a command in the workspace")
    def start_run(body: RunRequest):
        if (body.command is None) == (body.argv is None):
            raise bad_request('Give either "command" (a shell string) or "argv" (a list), not both or neither.')
        if body.command is not None and not body.command.strip():
            raise bad_request('"command" is empty.')
        if body.argv is not None and (not body.argv or any("\x00" in a for a in body.argv)):
            raise bad_request('"argv" must be a non-empty list of strings without NUL characters.')
        if body.command is not None and "\x00" in body.command:
            raise bad_request('"command" contains a NUL character.')
        cwd = ws.resolve(body.cwd)
        if not os.path.isdir(cwd):
            raise bad_request(f"The working directory {body.cwd!r} is a file, not a directory.", "bad_path")
        env = runs.validate_env(body.env)
        with workspace_lock:
            return runs.start(command=body.command, argv=body.argv, env=env, cwd=cwd, cwd_shown=ws.relative(cwd))

    @app.get("/v1/runs", summary="Recent runs, newest first")
    def list_runs(limit: int = Query(50, ge=1, le=1000)):
        return {"runs": runs.recent(limit), "active": runs.active_ids()}

    @app.get("/v1/runs/{run_id}", summary="State, pid, exit code, times and log size of a run")
    def run_status(run_id: str):
        return runs.status(run_id)

    @app.post("/v1/runs/{run_id}/interrupt", status_code=202,
              summary="SIGINT, then SIGTERM, then SIGKILL to the run's process group")
    def interrupt_run(run_id: str):
        return runs.interrupt(run_id)

    @app.get("/v1/runs/{run_id}/log", summary="Bytes of the run's log from an offset (negative: from the end)")
    def run_log(run_id: str, offset: int = 0, limit: int = Query(1024 * 1024, ge=1, le=MAX_LOG_READ)):
        meta = runs.get(run_id)
        state = meta["state"]  # read before the bytes: a final state means the bytes are final too
        data, start, size = runs.read_log(meta["id"], offset, limit)
        return Response(data, media_type="text/plain; charset=utf-8", headers={
            "X-Log-Size": str(size), "X-Run-State": state, "X-Log-Offset": str(start),
            "X-Next-Offset": str(start + len(data))})

    @app.get("/v1/runs/{run_id}/log/stream",
             summary="Follow the run's log from an offset; the response ends when the run has ended")
    def stream_run_log(run_id: str, offset: int = Query(0, ge=0)):
        meta = runs.get(run_id)
        run_id = meta["id"]
        log = open(runs.log_path(run_id), "rb")
        log.seek(offset)

        async def follow():
            try:
                while True:
                    ended = not runs.is_active(run_id)  # checked before reading, so no byte is missed
                    data = log.read(STREAM_CHUNK)
                    if data:
                        yield data
                        await asyncio.sleep(0)  # let other readers and requests in between chunks
                    elif ended:
                        return
                    else:
                        await asyncio.sleep(settings.log_poll_interval)
            finally:
                log.close()

        return StreamingResponse(follow(), media_type="text/plain; charset=utf-8", headers={
            "X-Run-State": meta["state"], "X-Log-Offset": str(offset), "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no"})

    return app
