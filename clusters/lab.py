"""The portal's lab actions run the deploy scripts (deploy/up.sh, deploy/volcano/install.sh,
deploy/agent/deploy.sh), so the steps are defined once, for people and for the portal alike.

Scripts print "[i/n] step" lines (progress), "+ …" for changes and "= …" for things already in place.
"""

import os
import re
import secrets
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from portal.errors import UserFacingError

from . import docker, kind

DEPLOY_DIR = Path(settings.BASE_DIR) / "deploy"
STEP = re.compile(r"^\[(\d+)/(\d+)\] ")
CONFIGS = ("small", "lab")
NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$")
TIMEOUTS = {"up.sh": 3600, "volcano/install.sh": 1200, "agent/deploy.sh": 2400}
# Exit codes of deploy/lib.sh.
MISSING_TOOL, NO_ENGINE = 3, 4


class LabError(UserFacingError):
    """A deploy script failed or could not run; str() says why."""


def docker_problem():
    """None when this server can create kind clusters, else a sentence saying why not."""
    try:
        docker.engine_version()
        kind.binary()
    except (docker.DockerError, kind.KindError) as exc:
        return str(exc)
    return None


def missing_tools(*tools):
    return [tool for tool in tools if shutil.which(tool) is None]


def progress_of(line):
    """The progress (0-99) a "[i/n] step" line means, or None."""
    match = STEP.match(line)
    if not match:
        return None
    index, total = int(match.group(1)), int(match.group(2))
    return min(99, int(100 * (index - 1) / max(total, 1)))


def run_script(script, args, on_line, env=None):
    """Run deploy/<script> with args, each output line to on_line; LabError unless it succeeds."""
    lines = []

    def keep(line):
        lines.append(line)
        on_line(line)

    code = kind.stream(["bash", str(DEPLOY_DIR / script), *args], keep, timeout=TIMEOUTS[script],
                       env={**os.environ, **(env or {})}, cwd=settings.BASE_DIR, error=LabError)
    if code == 0:
        return
    errors = [line.removeprefix("error: ") for line in lines if line.startswith("error: ")]
    if code == MISSING_TOOL:
        raise LabError(_("A tool the lab needs is missing on the portal's server: %(detail)s")
                       % {"detail": " ".join(errors)})
    if code == NO_ENGINE:
        raise LabError(_("docker is installed but no Docker engine answers (is the daemon running?)."))
    raise LabError(_("deploy/%(script)s failed (exit code %(code)s): %(detail)s")
                   % {"script": script, "code": code, "detail": errors[-1] if errors else (lines or ["?"])[-1]})


@contextmanager
def kubeconfig_file(cluster):
    """The cluster's stored kubeconfig in a private temporary file, for kubectl and helm."""
    with tempfile.NamedTemporaryFile("w", prefix="portal-kubeconfig-", suffix=".yaml") as f:
        os.chmod(f.name, 0o600)
        f.write(cluster.kubeconfig)
        f.flush()
        yield f.name


def create_cluster(name, config, on_line):
    """deploy/up.sh: the kind cluster, Volcano and the agents (the portal itself stays where it is)."""
    run_script("up.sh", ["--name", name, "--config", config, "--portal", "none"], on_line)


def install_volcano(cluster, on_line):
    with kubeconfig_file(cluster) as path:
        run_script("volcano/install.sh", ["--context", cluster.context], on_line, env={"KUBECONFIG": path})


def deploy_agents(cluster, on_line):
    """Deploy the agents with the token the portal keeps for this cluster (made here if it has none),
    so the portal can talk to them at once. A token Secret that is already in the cluster is kept;
    if it holds another token, the node pages say the agents refuse the portal's."""
    from nodes.models import AgentConfig

    config, _created = AgentConfig.objects.get_or_create(cluster=cluster)
    if not config.token:
        config.token = secrets.token_hex(32)
        config.save(update_fields=["token", "updated_at"])
    args = ["--context", cluster.context]
    if cluster.kind_cluster:
        args += ["--kind-cluster", cluster.kind_cluster]
    with kubeconfig_file(cluster) as path:
        run_script("agent/deploy.sh", args, on_line, env={"KUBECONFIG": path, "AGENT_TOKEN": config.token})
