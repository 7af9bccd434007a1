import logging

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from clusters import kube
from clusters.models import Cluster
from portal import live
from portal.audit import ERROR, OK, Actor, record

from .models import JobAction, JobSubmission
from .services import JOB_COMMANDS, QUEUE_COMMANDS, target_of
from .summaries import summarize_job, summarize_queue, update_submission
from .volcano_schema import VCJOB_API_VERSION, VOLCANO_API_GROUPS

log = logging.getLogger(__name__)
Result = JobSubmission.Result


def notify_submission(row):
    live.notify_template(live.group_name("jobsubmission", row.pk), "jobs/_submission_live.html",
                         {"row": row, "oob": True})


# ---------------------------------------------------------------- submitting


@shared_task
def send_submission(batch, actor_ids):
    """Send the documents of one submission in order, after checking all of them against the cluster."""
    rows = list(JobSubmission.objects.filter(batch=batch, result=Result.QUEUED).select_related("cluster")
                .order_by("position"))
    if not rows:
        return
    actor = Actor.from_ids(**actor_ids)
    cluster = rows[0].cluster
    try:
        if cluster is None:
            raise kube.KubeError(_("The cluster was removed from the portal."))
        refusals = check_against_cluster(cluster, rows)
        outcome = Result.REFUSED
    except kube.KubeError as exc:
        refusals, outcome = {row.pk: str(exc) for row in rows}, Result.FAILED
    stopped_at = None
    for row in rows:
        if refusals:
            refused = row.pk in refusals
            row.result = outcome if refused else Result.SKIPPED
            row.error = refusals[row.pk] if refused else _("Not sent: another document of this manifest was "
                                                           "refused.")
        elif stopped_at:
            row.result = Result.SKIPPED
            row.error = _("Not sent: document %(position)s failed.") % {"position": stopped_at}
        else:
            send_one(cluster, row)
            if row.result != Result.CREATED:
                stopped_at = row.position
        row.save()
        record(actor, "job.submit.result", target_of(row), cluster=row.cluster_name,
               outcome=OK if row.result == Result.CREATED else ERROR, message=row.error,
               detail={"submission": row.pk, "uid": row.uid, "result": row.result})
        notify_submission(row)


def send_one(cluster, row):
    try:
        if row.is_vcjob:
            created = kube.create_vcjob(cluster, row.manifest)
        elif row.api_version == "scheduling.volcano.sh/v1beta1" and row.kind == "Queue":
            created = kube.create_queue(cluster, row.manifest)
        else:
            created = kube.apply_object(cluster, row.manifest)
    except kube.KubeError as exc:
        row.result = Result.REFUSED if exc.status and 400 <= exc.status < 500 else Result.FAILED
        row.error = name_taken(cluster, row) if exc.status == 409 else str(exc)
        return
    row.result, row.error, row.sent_at = Result.CREATED, "", timezone.now()
    row.uid = (created.get("metadata") or {}).get("uid", "")
    if row.is_vcjob:
        update_submission(row, summarize_job(created))


def check_against_cluster(cluster, rows):
    """{row id: why it cannot be sent}: Volcano installed, namespace, queue open, name free.

    Objects created earlier in the same manifest (a Namespace, a Queue) count as there.
    """
    planned_namespaces = {row.name for row in rows if row.api_version == "v1" and row.kind == "Namespace"}
    planned_queues = {row.name for row in rows if row.kind == "Queue" and row.api_version.startswith("scheduling.")}
    volcano = namespaces = None
    refusals = {}
    for row in rows:
        problems = []
        if row.api_version.partition("/")[0] in VOLCANO_API_GROUPS:
            volcano = kube.volcano_served(cluster) if volcano is None else volcano
            if not volcano:
                refusals[row.pk] = _("Volcano is not installed on cluster %(cluster)s: it does not serve "
                                     "%(api_version)s.") % {"cluster": cluster.name, "api_version": row.api_version}
                continue
        if row.namespace and row.namespace not in planned_namespaces:
            namespaces = set(kube.list_namespaces(cluster)) if namespaces is None else namespaces
            if row.namespace not in namespaces:
                problems.append(_("Namespace %(namespace)s does not exist in cluster %(cluster)s.")
                                % {"namespace": row.namespace, "cluster": cluster.name})
        if row.is_vcjob:
            if row.queue not in planned_queues:
                problems += queue_problems(cluster, row.queue)
            if not problems and exists(kube.get_vcjob, cluster, row.namespace, row.name):
                problems.append(name_taken(cluster, row))
        elif row.kind == "Queue" and row.name and exists(kube.get_queue, cluster, row.name):
            problems.append(name_taken(cluster, row))
        if problems:
            refusals[row.pk] = " ".join(problems)
    return refusals


def queue_problems(cluster, name):
    try:
        queue = kube.get_queue(cluster, name)
    except kube.KubeError as exc:
        if exc.status == 404:
            return [_("Queue %(queue)s does not exist in cluster %(cluster)s.") % {"queue": name,
                                                                                  "cluster": cluster.name}]
        raise
    # A queue the controller has not given a state yet is new, hence open.
    state = (queue.get("status") or {}).get("state") or "Open"
    if state != "Open":
        return [_("Queue %(queue)s is %(state)s: Volcano accepts jobs only in Open queues.")
                % {"queue": name, "state": state}]
    return []


def exists(read, *args):
    try:
        read(*args)
    except kube.KubeError as exc:
        if exc.status == 404:
            return False
        raise
    return True


def name_taken(cluster, row):
    if row.is_vcjob:
        return _("A Volcano job named %(name)s already exists in namespace %(namespace)s.") % {
            "name": row.name, "namespace": row.namespace}
    if row.kind == "Queue":
        return _("A queue named %(name)s already exists in cluster %(cluster)s.") % {
            "name": row.name, "cluster": cluster.name}
    return _("%(kind)s %(name)s already exists.") % {"kind": row.kind, "name": row.name}


# ---------------------------------------------------------------- following phases


@shared_task
def sync_job_phases():
    """Celery beat: read every cluster's Volcano jobs and queues, update the submissions, push changes."""
    for cluster in Cluster.objects.exclude(volcano_installed=False):
        sync_cluster(cluster)


def sync_cluster(cluster):
    started = timezone.now()
    try:
        jobs = [summarize_job(job) for job in kube.list_vcjobs(cluster)]
        queues = [summarize_queue(queue) for queue in kube.list_queues(cluster)]
    except kube.KubeError as exc:
        log.info("phase sync skipped %s: %s", cluster.name, exc)
        return
    # Only what changed since the last sync is pushed; the last state is kept per worker process.
    cache_key = f"jobs.sync.{cluster.pk}.{cluster.server}"
    before = cache.get(cache_key) or {"jobs": {}, "queues": {}}
    cache.set(cache_key, {"jobs": {job.uid: job.state for job in jobs},
                          "queues": {queue.name: queue.key for queue in queues}}, timeout=None)
    changed_jobs = [job for job in jobs if before["jobs"].get(job.uid) != job.state]
    changed_queues = [queue for queue in queues if before["queues"].get(queue.name) != queue.key]
    if changed_jobs:
        live.notify_template(live.group_name("vcjobs", cluster.pk), "jobs/_jobs_live.html",
                             {"jobs": changed_jobs, "cluster": cluster, "oob": True})
    if changed_queues:
        live.notify_template(live.group_name("queues", cluster.pk), "jobs/_queues_live.html",
                             {"queues": changed_queues, "cluster": cluster, "oob": True})
    by_uid = {job.uid: job for job in jobs}
    for row in JobSubmission.objects.filter(cluster=cluster, result=Result.CREATED, deleted_at__isnull=True,
                                            api_version=VCJOB_API_VERSION, kind="Job"):
        job = by_uid.get(row.uid)
        if job is None:
            if row.sent_at and row.sent_at >= started:
                continue  # created after the list was read
            row.deleted_at = row.synced_at = started
            row.save()
            notify_submission(row)
        elif update_submission(row, job, started):
            row.save()
            notify_submission(row)
        else:
            JobSubmission.objects.filter(pk=row.pk).update(synced_at=started)


# ---------------------------------------------------------------- actions


@shared_task
def run_job_action(job_action_id, actor_ids):
    job_action = JobAction.objects.select_related("cluster").filter(pk=job_action_id).first()
    if job_action is None:
        return
    actor = Actor.from_ids(**actor_ids)
    cluster, target = job_action.cluster, f"{job_action.namespace}/{job_action.name}"
    try:
        if cluster is None:
            raise kube.KubeError(_("The cluster was removed from the portal."))
        job = kube.get_vcjob(cluster, job_action.namespace, job_action.name)
        job_action.uid = job["metadata"]["uid"]
        if job_action.action == JobAction.Action.DELETE:
            kube.delete_vcjob(cluster, job_action.namespace, job_action.name)
            message = _("Job %(target)s deleted.") % {"target": target}
        else:
            command = kube.create_command(cluster, job, JOB_COMMANDS[job_action.action])
            job_action.command = command["metadata"]["name"]
            message = _("%(action)s sent to Volcano for %(target)s (Command %(command)s).") % {
                "action": JOB_COMMANDS[job_action.action], "target": target, "command": job_action.command}
        job_action.result, job_action.message = JobAction.Result.OK, message
    except kube.KubeError as exc:
        job_action.result = JobAction.Result.ERROR
        job_action.message = (_("The job %(target)s no longer exists in cluster %(cluster)s.")
                              % {"target": target, "cluster": job_action.cluster_name}
                              if exc.status == 404 else str(exc))
    job_action.finished_at = timezone.now()
    if job_action.uid and job_action.submission_id is None:
        job_action.submission = JobSubmission.objects.filter(cluster=cluster, uid=job_action.uid).first()
    job_action.save()
    if job_action.result == JobAction.Result.OK and job_action.action == JobAction.Action.DELETE:
        JobSubmission.objects.filter(cluster=cluster, uid=job_action.uid, deleted_at__isnull=True).update(
            deleted_at=job_action.finished_at)
    record(actor, f"job.{job_action.action}.result", target, cluster=job_action.cluster_name,
           outcome=OK if job_action.result == JobAction.Result.OK else ERROR, message=job_action.message,
           detail={"job_action": job_action.pk, "uid": job_action.uid, "command": job_action.command})
    if cluster is not None:
        live.notify_template(live.group_name("vcjobs", cluster.pk), "jobs/_action_live.html",
                             {"job_action": job_action, "oob": True})


@shared_task
def run_queue_action(cluster_id, action, name, manifest, actor_ids):
    cluster = Cluster.objects.filter(pk=cluster_id).first()
    if cluster is None:
        return
    actor = Actor.from_ids(**actor_ids)
    try:
        if action == "create":
            kube.create_queue(cluster, manifest)
            message = _("Queue %(name)s created.") % {"name": name}
        elif action == "delete":
            kube.delete_queue(cluster, name)
            message = _("Queue %(name)s deleted.") % {"name": name}
        else:
            command = kube.create_queue_command(cluster, kube.get_queue(cluster, name), QUEUE_COMMANDS[action])
            message = _("%(action)s sent to Volcano for queue %(name)s (Command %(command)s).") % {
                "action": QUEUE_COMMANDS[action], "name": name, "command": command["metadata"]["name"]}
        outcome = OK
    except kube.KubeError as exc:
        outcome = ERROR
        if exc.status == 409:
            message = _("A queue named %(name)s already exists in cluster %(cluster)s.") % {
                "name": name, "cluster": cluster.name}
        elif exc.status == 404:
            message = _("Queue %(queue)s does not exist in cluster %(cluster)s.") % {"queue": name,
                                                                                    "cluster": cluster.name}
        else:
            message = str(exc)
    record(actor, f"queue.{action}.result", name, cluster=cluster.name, outcome=outcome, message=message)
    live.notify_template(live.group_name("queues", cluster.pk), "jobs/_queue_action_live.html",
                         {"outcome": outcome, "message": message, "oob": True})
