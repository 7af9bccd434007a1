"""Actions on Volcano jobs and queues: each checks permission, writes its rows and AuditEvents, and
queues the Celery task that talks to the cluster."""

import uuid

from django.db import transaction
from django.utils.translation import gettext as _

from portal.audit import ERROR, OK, authorize, record
from portal.roles import ADMINISTER, OPERATE

from .models import JobAction, JobSubmission, JobTemplate
from .volcano_schema import ManifestError, check_queue, read_documents

# Portal action -> the Command action Volcano's job controller carries out (None: deleted via the API).
JOB_COMMANDS = {"suspend": "AbortJob", "resume": "ResumeJob", "restart": "RestartJob", "delete": None}
QUEUE_COMMANDS = {"open": "OpenQueue", "close": "CloseQueue"}
UNDELETABLE_QUEUE = "default"


class JobsError(Exception):
    """An action was refused before anything was sent; str() is a sentence for the user."""


def submit_manifest(actor, cluster, text, *, namespace="default", source=JobSubmission.Source.YAML):
    """Check every document of `text`, store one JobSubmission per document, and send them if all pass.

    Nothing is sent when any document has a problem (no half-applied manifests): the faulty ones are
    stored as "invalid" with their problems, the others as "not sent", each with an AuditEvent, so
    bad submissions show in the history too. Returns the batch id shared by the rows.
    """
    authorize(actor, OPERATE, "job.submit", cluster.name, cluster=cluster.name)
    batch = uuid.uuid4()
    common = {"batch": batch, "user": actor.user if getattr(actor.user, "is_authenticated", False) else None,
              "user_name": actor.name, "cluster": cluster, "cluster_name": cluster.name, "source": source}
    try:
        documents = read_documents(text, namespace=namespace)
    except ManifestError as exc:
        with transaction.atomic():
            row = JobSubmission.objects.create(**common, text=text, result=JobSubmission.Result.INVALID,
                                               error=str(exc))
            record(actor, "job.submit", cluster.name, cluster=cluster.name, outcome=ERROR, message=str(exc),
                   detail={"submission": row.pk, "batch": str(batch)})
        return batch
    if not documents:
        raise JobsError(_("The manifest has no documents."))
    faulty = [document.position for document in documents if document.problems]
    with transaction.atomic():
        for document in documents:
            if document.problems:
                result, error = JobSubmission.Result.INVALID, document.error
            elif faulty:
                result = JobSubmission.Result.SKIPPED
                error = _("Not sent: document %(positions)s has problems.") % {
                    "positions": ", ".join(str(position) for position in faulty)}
            else:
                result, error = JobSubmission.Result.QUEUED, ""
            row = JobSubmission.objects.create(
                **common, position=document.position, api_version=document.api_version, kind=document.kind,
                namespace=document.namespace, name=document.name, manifest=document.manifest, result=result,
                error=error, queue=job_queue(document.manifest) if document.is_vcjob else "",
            )
            record(actor, "job.submit", target_of(row), cluster=cluster.name, outcome=ERROR if error else OK,
                   message=error, detail={"submission": row.pk, "batch": str(batch), "kind": row.kind})
        if not faulty:
            from .tasks import send_submission

            transaction.on_commit(lambda: send_submission.delay(str(batch), actor.as_ids()))
    return batch


def job_queue(manifest):
    return ((manifest or {}).get("spec") or {}).get("queue") or "default"


def target_of(row):
    return f"{row.namespace}/{row.name}" if row.namespace else f"{row.kind}/{row.name}"


def act_on_job(actor, cluster, namespace, name, action):
    """Suspend, resume or restart a job (a Command for Volcano's controller), or delete it."""
    if action not in JOB_COMMANDS:
        raise JobsError(_("Unknown action %(action)s.") % {"action": action})
    target = f"{namespace}/{name}"
    authorize(actor, OPERATE, f"job.{action}", target, cluster=cluster.name)
    submission = JobSubmission.objects.filter(
        cluster=cluster, namespace=namespace, name=name, kind="Job", result=JobSubmission.Result.CREATED,
        deleted_at__isnull=True).first()
    with transaction.atomic():
        job_action = JobAction.objects.create(
            submission=submission, user=actor.user if getattr(actor.user, "is_authenticated", False) else None,
            user_name=actor.name, cluster=cluster, cluster_name=cluster.name, namespace=namespace, name=name,
            action=action)
        record(actor, f"job.{action}", target, cluster=cluster.name, detail={"job_action": job_action.pk})
        from .tasks import run_job_action

        transaction.on_commit(lambda: run_job_action.delay(job_action.pk, actor.as_ids()))
    return job_action


def save_template(actor, name, values, description=""):
    authorize(actor, OPERATE, "job.template.save", name)
    user = actor.user if getattr(actor.user, "is_authenticated", False) else None
    template, created = JobTemplate.objects.update_or_create(
        name=name, defaults={"values": values, "description": description, "created_by": user})
    record(actor, "job.template.save", name, message=_("created") if created else _("updated"))
    return template


# ---------------------------------------------------------------- queues (administrators)


def create_queue(actor, cluster, manifest):
    name = manifest["metadata"]["name"]
    authorize(actor, ADMINISTER, "queue.create", name, cluster=cluster.name)
    problems = [message for _path, message in check_queue(manifest)]
    if problems:
        message = "\n".join(problems)
        record(actor, "queue.create", name, cluster=cluster.name, outcome=ERROR, message=message)
        raise JobsError(message)
    record(actor, "queue.create", name, cluster=cluster.name, detail={"spec": manifest.get("spec", {})})
    _queue_task(actor, cluster, "create", name, manifest)


def act_on_queue(actor, cluster, name, action):
    if action not in (*QUEUE_COMMANDS, "delete"):
        raise JobsError(_("Unknown action %(action)s.") % {"action": action})
    authorize(actor, ADMINISTER, f"queue.{action}", name, cluster=cluster.name)
    if action == "delete" and name == UNDELETABLE_QUEUE:
        message = _("Volcano does not allow deleting the default queue.")
        record(actor, "queue.delete", name, cluster=cluster.name, outcome=ERROR, message=message)
        raise JobsError(message)
    record(actor, f"queue.{action}", name, cluster=cluster.name)
    _queue_task(actor, cluster, action, name)


def _queue_task(actor, cluster, action, name, manifest=None):
    from .tasks import run_queue_action

    transaction.on_commit(lambda: run_queue_action.delay(cluster.pk, action, name, manifest, actor.as_ids()))

