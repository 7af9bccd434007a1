"""A real node agent (`python -m agent`) in a subprocess on a free 127.0.0.1 port, for tests and benchmarks.

    with start_agent() as agent:
        requests.get(f"{agent.url}/v1/resources", headers=agent.headers)

Only the standard library is used here, so any test or benchmark can import it.
"""

import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """Linux: the agent gets SIGTERM if the test process dies, so no agent outlives a killed pytest."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class AgentProcess:
    def __init__(self, *, workspace=None, state_dir=None, token=None, token_file=None, port=None, extra_args=(),
                 env=None, insecure=False, python=sys.executable):
        self._tmp = tempfile.mkdtemp(prefix="agent-test-")
        self.workspace = workspace or os.path.join(self._tmp, "workspace")
        self.state_dir = state_dir or os.path.join(self._tmp, "state")
        self.token_file = token_file
        if token_file:
            with open(token_file, encoding="utf-8") as f:
                token = f.read().strip()
        self.token = None if insecure else (token or secrets.token_hex(16))
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.output_path = os.path.join(self._tmp, "agent-output.log")
        self.extra_args = list(extra_args)
        self.insecure = insecure
        self.python = python
        self.env = env or {}
        self.proc = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def output(self) -> str:
        with open(self.output_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def start(self, timeout: float = 20.0) -> "AgentProcess":
        os.makedirs(self.workspace, exist_ok=True)
        os.makedirs(self.state_dir, exist_ok=True)
        args = [self.python, "-m", "agent", "--host", "127.0.0.1", "--port", str(self.port),
                "--workspace", self.workspace, "--state-dir", self.state_dir, *self.extra_args]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AGENT_")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [REPO_ROOT, env.get("PYTHONPATH")]))
        env.update(self.env)
        if self.insecure:
            args.append("--insecure-no-token")
        elif self.token_file:
            env["AGENT_TOKEN_FILE"] = self.token_file
        else:
            env["AGENT_TOKEN"] = self.token  # not on the command line, where ps would show it
        with open(self.output_path, "ab") as out:
            self.proc = subprocess.Popen(args, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the agent exited with {self.proc.returncode}:\n{self.output()}")
            try:
                with urllib.request.urlopen(f"{self.url}/v1/health", timeout=1) as response:
                    if json.load(response).get("status") == "ok":
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"the agent did not answer /v1/health within {timeout} s:\n{self.output()}")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (a graceful stop) and wait; then remove the temporary directories it made."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.cleanup()

    def kill(self) -> None:
        """SIGKILL the agent alone, as a crash would; its runs are left running and its files stay."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def cleanup(self) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> "AgentProcess":
        return self if self.proc else self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def start_agent(**kwargs) -> AgentProcess:
    """Start an agent and wait until /v1/health answers. Keyword arguments as for AgentProcess."""
    return AgentProcess(**kwargs).start()
