"""Every call of the `kind` CLI: the kind clusters on this host, loading images into them, kubeconfigs.

Each call has a timeout; a missing binary, a missing Docker engine (kind needs one), an unknown
cluster or a timeout becomes KindError with a sentence a person can act on. `stream()` runs a command
and hands each output line to a callback, with an overall timeout; lab.py uses it for the deploy scripts.
"""

import shutil
import subprocess
import threading

from django.utils.translation import gettext as _

from portal.errors import UserFacingError

from .docker import ENGINE_DOWN_MARKERS

TIMEOUT = 30
LOAD_TIMEOUT = 1800  # loading a multi-GB image into every node takes minutes


class KindError(UserFacingError):
    """kind is missing, Docker does not answer it, or a kind command failed; str() says which."""


def binary():
    path = shutil.which("kind")
    if path is None:
        raise KindError(_("kind is not installed on the portal's server (no kind command on its PATH)."))
    return path


def _error(output, command):
    text = output.strip()
    if any(marker in text for marker in ENGINE_DOWN_MARKERS):
        return KindError(_("kind needs Docker, but no Docker engine answers (is the daemon running?)."))
    last_line = text.splitlines()[-1] if text else _("no output")
    return KindError(_("kind %(command)s failed: %(message)s") % {"command": command, "message": last_line})


def _run(*args, timeout=None):
    timeout = timeout or TIMEOUT
    try:
        result = subprocess.run([binary(), *args], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise KindError(_("kind %(command)s did not finish within %(seconds)s s.")
                        % {"command": " ".join(args[:2]), "seconds": timeout}) from None
    except OSError as exc:
        raise KindError(_("kind could not be run: %(error)s") % {"error": exc.strerror or exc}) from None
    if result.returncode != 0:
        raise _error(result.stderr or result.stdout, " ".join(args[:2]))
    return result.stdout


def list_clusters():
    """Names of the kind clusters on this host (`kind get clusters`)."""
    return [line.strip() for line in _run("get", "clusters").splitlines() if line.strip()]


def get_kubeconfig(name):
    """The kubeconfig of a kind cluster, as text (the API server on 127.0.0.1 of this host)."""
    return _run("get", "kubeconfig", "--name", name)


def stream(argv, on_line, *, timeout, env=None, cwd=None, error=KindError):
    """Run argv, calling on_line(line) for each line of its output (stdout and stderr together).

    Returns the exit code. Kills the process (and raises `error`) when it runs longer than `timeout`.
    """
    try:
        process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   errors="replace", env=env, cwd=cwd, start_new_session=True)
    except OSError as exc:
        raise error(_("%(command)s could not be run: %(error)s")
                    % {"command": argv[0], "error": exc.strerror or exc}) from None
    timed_out = threading.Event()

    def kill():
        timed_out.set()
        process.kill()

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        for line in process.stdout:
            on_line(line.rstrip("\n"))
        code = process.wait()
    finally:
        timer.cancel()
        process.stdout.close()
    if timed_out.is_set():
        raise error(_("%(command)s did not finish within %(seconds)s s and was stopped.")
                    % {"command": " ".join(argv[:3]), "seconds": timeout})
    return code


def load_image(image, cluster_name, on_line, timeout=LOAD_TIMEOUT):
    """`kind load docker-image IMAGE --name CLUSTER`, each output line to on_line; KindError on failure."""
    lines = []

    def keep(line):
        lines.append(line)
        on_line(line)

    code = stream([binary(), "load", "docker-image", image, "--name", cluster_name], keep, timeout=timeout)
    if code != 0:
        raise _error("\n".join(lines), "load docker-image")
