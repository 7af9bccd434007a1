"""Plain views of Volcano's job, queue and podgroup objects (raw API dicts) for templates and the sync."""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import FINAL_PHASES

GPU_RESOURCES = ("nvidia.com/gpu", "amd.com/gpu")


def parse_time(value):
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(frozen=True)
class JobSummary:
    uid: str
    name: str
    namespace: str
    queue: str
    phase: str
    phase_since: datetime | None
    reason: str
    message: str
    min_available: int
    replicas: int
    pending: int
    running: int
    succeeded: int
    failed: int
    retry_count: int
    max_retry: int
    created_at: datetime | None

    @property
    def state(self):
        """What the live page shows; the sync pushes a job again only when this changes."""
        return (self.phase, self.pending, self.running, self.succeeded, self.failed, self.retry_count)

    @property
    def tone(self):
        return phase_tone(self.phase)

    @property
    def can_suspend(self):
        return self.phase in ("", "Pending", "Running", "Restarting")

    @property
    def can_resume(self):
        return self.phase in ("Aborting", "Aborted")

    @property
    def can_restart(self):
        return self.phase in ("Pending", "Running", "Failed")

    @property
    def retries_left(self):
        return max(self.max_retry - self.retry_count, 0)


def phase_tone(phase):
    if phase in ("Running", "Completed"):
        return "ok"
    if phase in ("Failed", "Terminated", "Aborted"):
        return "error"
    if phase in ("Pending", "Restarting", "Completing"):
        return "pending"
    if phase in ("Aborting", "Terminating"):
        return "warning"
    return "neutral"


def summarize_job(job):
    meta, spec, status = job.get("metadata") or {}, job.get("spec") or {}, job.get("status") or {}
    state = status.get("state") or {}
    return JobSummary(
        uid=meta.get("uid", ""),
        name=meta.get("name", ""),
        namespace=meta.get("namespace", ""),
        queue=spec.get("queue") or "default",
        phase=state.get("phase") or "",
        phase_since=parse_time(state.get("lastTransitionTime")) if state.get("lastTransitionTime") else None,
        reason=state.get("reason") or "",
        message=state.get("message") or "",
        min_available=int(spec.get("minAvailable") or 0),
        replicas=sum(int(task.get("replicas") or 0) for task in spec.get("tasks") or []),
        pending=int(status.get("pending") or 0),
        running=int(status.get("running") or 0),
        succeeded=int(status.get("succeeded") or 0),
        failed=int(status.get("failed") or 0),
        retry_count=int(status.get("retryCount") or 0),
        max_retry=int(spec["maxRetry"]) if spec.get("maxRetry") is not None else 3,
        created_at=parse_time(meta.get("creationTimestamp")) if meta.get("creationTimestamp") else None,
    )


def update_submission(row, summary, now=None):
    """Copy what the cluster says about a submitted job into its row; True if anything changed."""
    now = now or timezone.now()
    values = {"phase": summary.phase, "pending": summary.pending, "running": summary.running,
              "succeeded": summary.succeeded, "failed": summary.failed, "retry_count": summary.retry_count,
              "min_available": summary.min_available, "queue": summary.queue}
    changed = any(getattr(row, field) != value for field, value in values.items())
    for field, value in values.items():
        setattr(row, field, value)
    since = summary.phase_since or now
    if summary.phase == "Running" and row.started_at is None:
        row.started_at, changed = since, True
    if summary.phase in FINAL_PHASES and row.finished_at is None:
        row.finished_at, changed = since, True
    elif summary.phase and summary.phase not in FINAL_PHASES and row.finished_at is not None:
        row.finished_at, changed = None, True  # restarted after it had finished
    row.synced_at = now
    return changed


@dataclass(frozen=True)
class QueueSummary:
    name: str
    state: str
    weight: int
    reclaimable: bool
    capability: dict
    deserved: dict
    allocated: dict
    pending: int
    running: int
    inqueue: int
    completed: int

    @property
    def tone(self):
        return {"Open": "ok", "Closed": "error", "Closing": "warning"}.get(self.state, "neutral")

    @property
    def key(self):
        return (self.state, self.weight, tuple(sorted(self.allocated.items())), self.pending, self.running,
                self.inqueue)


def _resources(values):
    """cpu, memory and GPUs of a resource list, in that order, as (label, quantity) pairs."""
    values = values or {}
    shown = [(_("CPU"), values.get("cpu")), (_("memory"), values.get("memory"))]
    shown += [(_("GPU"), values.get(name)) for name in GPU_RESOURCES if values.get(name)]
    return {str(label): str(value) for label, value in shown if value not in (None, "")}


def summarize_queue(queue):
    spec, status = queue.get("spec") or {}, queue.get("status") or {}
    return QueueSummary(
        name=(queue.get("metadata") or {}).get("name", ""),
        state=status.get("state") or "",
        weight=int(spec.get("weight") or 1),
        reclaimable=spec.get("reclaimable", True) is not False,
        capability=_resources(spec.get("capability")),
        deserved=_resources(spec.get("deserved")),
        allocated=_resources(status.get("allocated")),
        pending=int(status.get("pending") or 0),
        running=int(status.get("running") or 0),
        inqueue=int(status.get("inqueue") or 0),
        completed=int(status.get("completed") or 0),
    )


def podgroup_of(job, podgroups):
    """The job's PodGroup: owned by it (Volcano names it <job>-<uid>; older releases just <job>)."""
    uid, name = job["metadata"].get("uid"), job["metadata"]["name"]
    for podgroup in podgroups:
        owners = podgroup["metadata"].get("ownerReferences") or []
        if any(owner.get("uid") == uid for owner in owners) or podgroup["metadata"]["name"] in (name, f"{name}-{uid}"):
            return podgroup
    return None

