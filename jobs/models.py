import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

# Volcano's job phases (batch.volcano.sh/v1alpha1 JobPhase).
PHASES = ["Pending", "Aborting", "Aborted", "Running", "Restarting", "Completing", "Completed", "Terminating",
          "Terminated", "Failed"]
FINAL_PHASES = {"Completed", "Terminated", "Failed"}


class JobSubmission(models.Model):
    """One document of a manifest submitted through the portal, kept after the job is gone.

    A manifest with several documents is several rows sharing `batch`. Rows refused by validation
    are kept too (result "invalid"): bad submissions belong in the history.
    """

    class Result(models.TextChoices):
        QUEUED = "queued", _("queued")
        CREATED = "created", _("created")
        INVALID = "invalid", _("invalid")
        REFUSED = "refused", _("refused")
        FAILED = "failed", _("failed")
        SKIPPED = "skipped", _("not sent")

    class Source(models.TextChoices):
        YAML = "yaml", _("YAML")
        FORM = "form", _("form")

    batch = models.UUIDField(_("batch"), default=uuid.uuid4, db_index=True)
    position = models.PositiveSmallIntegerField(_("document"), default=1)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="job_submissions")
    user_name = models.CharField(_("user"), max_length=150)
    cluster = models.ForeignKey("clusters.Cluster", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    cluster_name = models.CharField(_("cluster"), max_length=100)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.YAML)
    api_version = models.CharField(_("API version"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=100, blank=True)
    namespace = models.CharField(_("namespace"), max_length=253, blank=True)
    name = models.CharField(_("name"), max_length=253, blank=True)
    manifest = models.JSONField(_("manifest"), null=True, blank=True)
    # The text as submitted, kept only when it could not be read as YAML (there is no manifest then).
    text = models.TextField(_("text"), blank=True)
    result = models.CharField(_("result"), max_length=10, choices=Result.choices, default=Result.QUEUED)
    error = models.TextField(_("error"), blank=True)
    uid = models.CharField(_("UID"), max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # What the phase sync last saw of a Volcano job; kept when the job is deleted.
    queue = models.CharField(_("queue"), max_length=253, blank=True)
    phase = models.CharField(_("phase"), max_length=20, blank=True)
    min_available = models.PositiveIntegerField(_("min available"), null=True, blank=True)
    pending = models.PositiveIntegerField(_("pending"), default=0)
    running = models.PositiveIntegerField(_("running"), default=0)
    succeeded = models.PositiveIntegerField(_("succeeded"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    retry_count = models.PositiveIntegerField(_("retries"), default=0)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("gone from the cluster at"), null=True, blank=True)
    synced_at = models.DateTimeField(_("synced at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "position"]
        verbose_name = _("job submission")
        verbose_name_plural = _("job submissions")

    def __str__(self):
        return f"{self.namespace}/{self.name}" if self.namespace else self.name or str(self.batch)

    @property
    def is_vcjob(self):
        return self.api_version == "batch.volcano.sh/v1alpha1" and self.kind == "Job"

    @property
    def in_cluster(self):
        return self.result == self.Result.CREATED and self.deleted_at is None

    @property
    def run_time(self):
        if self.started_at:
            return (self.finished_at or self.deleted_at or self.synced_at or self.started_at) - self.started_at
        return None

    @property
    def wait_time(self):
        """From sending to the first time the job was seen Running (the time spent waiting for a gang)."""
        if self.sent_at and self.started_at:
            return max(self.started_at - self.sent_at, timedelta(0))  # the cluster's clock may differ
        return None


class JobAction(models.Model):
    """Suspend, resume, restart or delete of a Volcano job: who asked, and what came of it."""

    class Action(models.TextChoices):
        SUSPEND = "suspend", _("suspend")
        RESUME = "resume", _("resume")
        RESTART = "restart", _("restart")
        DELETE = "delete", _("delete")

    class Result(models.TextChoices):
        QUEUED = "queued", _("queued")
        OK = "ok", _("done")
        ERROR = "error", _("error")

    submission = models.ForeignKey(JobSubmission, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="actions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    user_name = models.CharField(_("user"), max_length=150)
    cluster = models.ForeignKey("clusters.Cluster", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    cluster_name = models.CharField(_("cluster"), max_length=100)
    namespace = models.CharField(_("namespace"), max_length=253)
    name = models.CharField(_("name"), max_length=253)
    uid = models.CharField(_("UID"), max_length=64, blank=True)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    command = models.CharField(_("Command object"), max_length=253, blank=True)
    result = models.CharField(_("result"), max_length=10, choices=Result.choices, default=Result.QUEUED)
    message = models.TextField(_("message"), blank=True)
    created_at = models.DateTimeField(_("asked at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("job action")
        verbose_name_plural = _("job actions")

    def __str__(self):
        return f"{self.action} {self.namespace}/{self.name}"


class JobTemplate(models.Model):
    """Saved values of the job form, to start a new job from."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.CharField(_("description"), max_length=255, blank=True)
    values = models.JSONField(_("form values"), default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("job template")
        verbose_name_plural = _("job templates")

    def __str__(self):
        return self.name
