"""Runs: commands started in the workspace, each in its own process group, logging to a file.

The child's stdout and stderr are the log file itself (no pipe through the agent), so a slow reader
can never block a run and nothing is lost. Metadata is one JSON file per run, next to its log.
"""

import json
import os
import signal
import subprocess
import threading
import time
import uuid
from datetime import datetime, timezone

import psutil

from .errors import bad_request, conflict, not_found

ACTIVE = "running"
FINAL_STATES = ("succeeded", "failed", "interrupted", "lost")
# Variables of the agent that runs must not inherit.
HIDDEN_ENV = ("AGENT_TOKEN", "AGENT_TOKEN_FILE")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class RunManager:
    def __init__(self, state_dir: str, max_active_runs: int = 1, interrupt_grace: float = 10.0):
        self.dir = os.path.join(state_dir, "runs")
        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        self.max_active = max_active_runs
        self.grace = interrupt_grace
        self.lock = threading.Lock()
        self.runs: dict[str, dict] = {}
        self.ended: dict[str, threading.Event] = {}
        self._load()

    # -- persistence -------------------------------------------------------------------------------

    def log_path(self, run_id: str) -> str:
        return os.path.join(self.dir, f"{run_id}.log")

    def _save(self, meta: dict) -> None:
        path = os.path.join(self.dir, f"{meta['id']}.json")
        tmp = f"{path}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(meta, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def _load(self) -> None:
        for name in os.listdir(self.dir):
            if not name.endswith(".json"):
                continue
            try:
                with open(os.path.join(self.dir, name), encoding="utf-8") as f:
                    meta = json.load(f)
            except (OSError, ValueError):
                continue
            if meta.get("state") == ACTIVE:
                self._kill_orphan(meta)
                meta.update(state="lost", ended_at=now_iso(),
                            reason="the agent stopped while this run was active; its exit status is unknown")
                self._save(meta)
            self.runs[meta["id"]] = meta

    @staticmethod
    def _kill_orphan(meta: dict) -> None:
        """Stop what is left of a run whose agent died: nobody can interrupt it or collect its status."""
        pid = meta.get("pid")
        if not pid:
            return
        try:
            leader_is_ours = abs(psutil.Process(pid).create_time() - meta.get("pid_create_time", 0)) < 0.05
        except psutil.NoSuchProcess:
            # Linux does not hand out a pid while a process group of that id exists, so a group with
            # the id of our dead leader can only be the rest of our run.
            leader_is_ours = True
        if leader_is_ours:
            _signal_group(pid, signal.SIGKILL)

    # -- starting and watching ---------------------------------------------------------------------

    def active_ids(self) -> list[str]:
        return [run_id for run_id, meta in self.runs.items() if meta["state"] == ACTIVE]

    def start(self, *, command: str | None, argv: list[str] | None, env: dict[str, str],
              cwd: str, cwd_shown: str) -> dict:
        args = ["/bin/sh", "-c", command] if command is not None else list(argv)
        child_env = {k: v for k, v in os.environ.items() if k not in HIDDEN_ENV}
        child_env["PYTHONUNBUFFERED"] = "1"
        child_env.update(env)
        with self.lock:
            active = self.active_ids()
            if len(active) >= self.max_active:
                raise conflict(f"Run {active[0]} is still running and this agent runs {self.max_active} at a "
                               f"time; interrupt it (POST /v1/runs/{active[0]}/interrupt) or wait for it to end.",
                               "run_active", active_run_id=active[0], active_run_ids=active)
            run_id = uuid.uuid4().hex
            log_fd = os.open(self.log_path(run_id), os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
            try:
                proc = subprocess.Popen(args, cwd=cwd, env=child_env, stdin=subprocess.DEVNULL, stdout=log_fd,
                                        stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
            except OSError as exc:
                os.unlink(self.log_path(run_id))
                raise bad_request(f"The command {args[0]!r} could not be started: {exc.strerror}. Check the "
                                  "program name and that it is executable.", "cannot_start") from None
            finally:
                os.close(log_fd)
            try:
                create_time = psutil.Process(proc.pid).create_time()
            except psutil.NoSuchProcess:
                create_time = None
            meta = {
                "id": run_id, "command": command, "argv": args, "cwd": cwd_shown, "env": env,
                "state": ACTIVE, "pid": proc.pid, "pid_create_time": create_time, "exit_code": None,
                "signal": None, "started_at": now_iso(), "ended_at": None, "interrupt_requested_at": None,
            }
            self.runs[run_id] = meta
            self.ended[run_id] = threading.Event()
            self._save(meta)
        threading.Thread(target=self._wait, args=(run_id, proc), name=f"run-{run_id[:8]}", daemon=True).start()
        return self.status(run_id)

    def _wait(self, run_id: str, proc: subprocess.Popen) -> None:
        code = proc.wait()
        # Whatever the main process left behind in its group goes with it, so a run never outlives
        # its status and its log stops growing once the run has ended.
        _signal_group(proc.pid, signal.SIGKILL)
        with self.lock:
            meta = self.runs[run_id]
            if code == 0:
                state = "succeeded"
            elif meta["interrupt_requested_at"]:
                state = "interrupted"
            else:
                state = "failed"
            meta.update(state=state, exit_code=code, ended_at=now_iso(),
                        signal=signal.Signals(-code).name if code < 0 else None)
            self._save(meta)
            self.ended[run_id].set()

    def interrupt(self, run_id: str) -> dict:
        meta = self.get(run_id)
        run_id = meta["id"]
        with self.lock:
            if meta["state"] != ACTIVE or meta["interrupt_requested_at"]:
                return self.status(run_id)
            meta["interrupt_requested_at"] = now_iso()
            self._save(meta)
        threading.Thread(target=self._escalate, args=(run_id,), daemon=True).start()
        return self.status(run_id)

    def _escalate(self, run_id: str) -> None:
        pgid, ended = self.runs[run_id]["pid"], self.ended[run_id]
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            with self.lock:  # the waiter marks the run ended under this lock, after the group is gone
                if ended.is_set():
                    return
                _signal_group(pgid, sig)
            if ended.wait(self.grace):
                return

    def stop_all(self, timeout: float = 3.0) -> None:
        """On agent shutdown: end active runs (they would die with the pod anyway) and record it."""
        for run_id in self.active_ids():
            with self.lock:
                self.runs[run_id]["interrupt_requested_at"] = now_iso()
                _signal_group(self.runs[run_id]["pid"], signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for run_id in self.active_ids():
            if not self.ended[run_id].wait(max(0.0, deadline - time.monotonic())):
                _signal_group(self.runs[run_id]["pid"], signal.SIGKILL)
                self.ended[run_id].wait(1.0)

    # -- reading -----------------------------------------------------------------------------------

    def get(self, run_id: str) -> dict:
        if run_id == "latest" and self.runs:  # for people with curl; programs should use the id
            run_id = max(self.runs, key=lambda i: self.runs[i]["started_at"])
        meta = self.runs.get(run_id)
        if meta is None:
            raise not_found(f"There is no run {run_id!r} on this agent (GET /v1/runs lists recent runs).")
        return meta

    def status(self, run_id: str) -> dict:
        meta = dict(self.get(run_id))
        meta.pop("pid_create_time", None)
        try:
            meta["log_size"] = os.path.getsize(self.log_path(meta["id"]))
        except OSError:
            meta["log_size"] = 0
        return meta

    def recent(self, limit: int) -> list[dict]:
        ids = sorted(self.runs, key=lambda i: self.runs[i]["started_at"], reverse=True)[:limit]
        return [self.status(i) for i in ids]

    def is_active(self, run_id: str) -> bool:  # pass the real id, not "latest"
        return self.get(run_id)["state"] == ACTIVE

    def read_log(self, run_id: str, offset: int, limit: int) -> tuple[bytes, int, int]:
        """(bytes, start offset, log size); a negative offset counts back from the end."""
        with open(self.log_path(self.get(run_id)["id"]), "rb") as f:
            size = os.fstat(f.fileno()).st_size
            start = max(0, size + offset) if offset < 0 else min(offset, size)
            f.seek(start)
            return f.read(limit), start, size

    def validate_env(self, env: dict) -> dict[str, str]:
        for key, value in env.items():
            if not key or "=" in key or "\x00" in key or "\x00" in str(value):
                raise bad_request(f"The environment variable {key!r} is not valid: names must be non-empty "
                                  "without '=' and neither name nor value may contain NUL.", "bad_env")
        return {k: str(v) for k, v in env.items()}
