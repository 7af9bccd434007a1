"""Serve the portal from a real web server process (as scripts/run.sh does) for tests and benchmarks."""

import os
import subprocess
from pathlib import Path

from portal.launcher import free_port, wait_for_port, web_server_command

BASE_DIR = Path(__file__).resolve().parents[2]


def start_web_server(env, log_path):
    """(process, base URL) once the server answers; its output goes to log_path."""
    port = free_port()
    log = open(log_path, "w")
    process = subprocess.Popen(web_server_command("127.0.0.1", port), cwd=BASE_DIR, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    log.close()  # the child has its own copy
    try:
        wait_for_port("127.0.0.1", port, process)
    except RuntimeError as exc:
        process.kill()
        raise RuntimeError(f"the web server did not start ({exc}); see {log_path}") from exc
    return process, f"http://127.0.0.1:{port}"


def stop_web_server(process):
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        process.wait()


def env_sharing_test_settings(settings, base=None, **extra):
    """`base` (default: this process's environment) with what makes a subprocess use this test run's
    database, secrets, queue and Redis, then `extra`."""
    from tests.conftest import database_url_for_subprocess

    env = {k: v for k, v in (base or os.environ).items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        DATABASE_URL=database_url_for_subprocess(),
        DJANGO_SECRET_KEY=settings.SECRET_KEY,
        PORTAL_ENCRYPTION_KEYS=",".join(settings.ENCRYPTION_KEYS),
        PORTAL_CELERY_QUEUE=settings.CELERY_TASK_DEFAULT_QUEUE,
        PORTAL_CHANNEL_PREFIX=settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"],
        REDIS_URL=settings.REDIS_URL,
        PORTAL_VAR_DIR=str(settings.VAR_DIR),
    )
    env.update(extra)
    return env
