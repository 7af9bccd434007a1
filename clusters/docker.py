"""Every call of the `docker` CLI: local images for the Images page and the lab actions.

Each call has a timeout; a missing binary, an engine that does not answer, a refusal or a timeout
becomes DockerError with a sentence a person can act on.
"""

import json
import re
import shutil
import subprocess
from dataclasses import dataclass

from django.utils.translation import gettext as _

from portal.errors import UserFacingError

# A Docker image reference (or id); never an option (a leading "-") on a docker or kind command line.
IMAGE_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,254}$")
TIMEOUT = 20  # seconds; listing images of a busy engine can take a while
ENGINE_DOWN_MARKERS = ("Cannot connect to the Docker daemon", "Is the docker daemon running",
                       "error during connect")


class DockerError(UserFacingError):
    """docker is missing, its engine does not answer, or a command failed; str() says which."""


@dataclass(frozen=True)
class Image:
    repository: str
    tag: str
    id: str
    created: str
    size: str

    @property
    def reference(self):
        """repository:tag, what `kind load docker-image` takes; the id for untagged images."""
        if self.repository in ("", "<none>") or self.tag in ("", "<none>"):
            return self.id
        return f"{self.repository}:{self.tag}"


def binary():
    path = shutil.which("docker")
    if path is None:
        raise DockerError(_("Docker is not installed on the portal's server (no docker command on its PATH)."))
    return path


def _run(*args, timeout=None):
    timeout = timeout or TIMEOUT
    try:
        result = subprocess.run([binary(), *args], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise DockerError(_("docker %(command)s did not finish within %(seconds)s s.")
                          % {"command": args[0], "seconds": timeout}) from None
    except OSError as exc:
        raise DockerError(_("docker could not be run: %(error)s") % {"error": exc.strerror or exc}) from None
    if result.returncode != 0:
        raise error_from_output(result.stderr or result.stdout)
    return result.stdout


def error_from_output(output):
    """The DockerError for a failed docker command's output (kind.py reuses it for kind's docker calls)."""
    text = output.strip()
    if any(marker in text for marker in ENGINE_DOWN_MARKERS):
        return DockerError(_("docker is installed but no Docker engine answers (is the daemon running?)."))
    if "permission denied" in text and "docker.sock" in text:
        return DockerError(_("The portal's user may not use the Docker engine: add it to the docker group "
                             "(sudo usermod -aG docker USER) and restart the portal."))
    last_line = text.splitlines()[-1] if text else _("no output")
    return DockerError(_("docker failed: %(message)s") % {"message": last_line})


def engine_version():
    """The engine's version; raises DockerError when there is no engine to ask."""
    return _run("info", "--format", "{{.ServerVersion}}").strip()


def list_images(search=""):
    """Local images, newest first as docker lists them; `search` filters on repository:tag and id."""
    images = []
    for line in _run("images", "--format", "{{json .}}").splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            raise DockerError(_("docker images printed something that is not JSON: %(line)s")
                              % {"line": line[:200]}) from None
        images.append(Image(repository=row.get("Repository", ""), tag=row.get("Tag", ""), id=row.get("ID", ""),
                            created=row.get("CreatedAt", ""), size=row.get("Size", "")))
    needle = search.strip().lower()
    if needle:
        images = [i for i in images if needle in f"{i.repository}:{i.tag}".lower() or needle in i.id.lower()]
    return images


def image_exists(reference):
    try:
        _run("image", "inspect", reference)
    except DockerError as exc:
        if "No such image" in str(exc):
            return False
        raise
    return True
