from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.fields import EncryptedTextField


class AgentConfig(models.Model):
    """How the portal reaches the agents of one cluster: their namespace, port and shared token."""

    cluster = models.OneToOneField("clusters.Cluster", on_delete=models.CASCADE, related_name="agent_config")
    namespace = models.CharField(_("namespace"), max_length=253, default="volcano-portal-agents")
    port = models.PositiveIntegerField(_("port"), default=8700)
    # The token of deploy/agent/secret.yaml, encrypted at rest; never shown back.
    token = EncryptedTextField(_("agent token"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("agent settings")
        verbose_name_plural = _("agent settings")

    def __str__(self):
        return f"{self.cluster} ({self.namespace}:{self.port})"


class Node(models.Model):
    """A Kubernetes node (discovered) or a bare server (registered by URL), and its agent."""

    class Status(models.TextChoices):
        UNKNOWN = "unknown", _("not checked")
        OK = "ok", _("agent ready")
        MISSING = "missing", _("no agent")
        UNREACHABLE = "unreachable", _("agent unreachable")
        VERSION = "version", _("different agent version")
        GONE = "gone", _("node removed")

    cluster = models.ForeignKey("clusters.Cluster", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="agent_nodes")
    name = models.CharField(_("name"), max_length=253)
    # Reached through the API server's pod proxy when discovered…
    pod_namespace = models.CharField(_("agent pod namespace"), max_length=253, blank=True)
    pod_name = models.CharField(_("agent pod"), max_length=253, blank=True)
    pod_ready = models.BooleanField(_("agent pod ready"), default=False)
    # …or at a URL when registered by hand (a server outside Kubernetes).
    url = models.URLField(_("agent URL"), max_length=500, blank=True)
    # For registered agents; discovered ones use their cluster's AgentConfig token.
    token = EncryptedTextField(_("agent token"), blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.UNKNOWN)
    status_message = models.TextField(_("status message"), blank=True)
    agent_version = models.CharField(_("agent version"), max_length=50, blank=True)
    last_seen = models.DateTimeField(_("last seen"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["cluster__name", "name"]
        verbose_name = _("node")
        verbose_name_plural = _("nodes")
        constraints = [
            models.UniqueConstraint(fields=["cluster", "name"], name="node_unique_per_cluster"),
        ]

    def __str__(self):
        return self.name

    @property
    def registered(self):
        return bool(self.url)

    @property
    def has_agent(self):
        return bool(self.url or self.pod_name)

    @property
    def cluster_label(self):
        return self.cluster.name if self.cluster_id else ""


class NodeSample(models.Model):
    """One usage sample of a node, taken by the nodes.tasks.sample_nodes beat task."""

    node = models.ForeignKey(Node, on_delete=models.CASCADE, related_name="samples")
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    cpu_percent = models.FloatField(_("CPU %"), null=True)
    memory_percent = models.FloatField(_("memory %"), null=True)
    memory_used = models.BigIntegerField(_("memory used"), null=True)
    disk_percent = models.FloatField(_("disk %"), null=True)
    # [{"index": 0, "utilization_percent": 12.0, "memory_used": …, "memory_total": …}]
    gpus = models.JSONField(_("GPUs"), default=list, blank=True)

    class Meta:
        ordering = ["node", "at"]
        indexes = [models.Index(fields=["node", "at"])]
        verbose_name = _("node sample")
        verbose_name_plural = _("node samples")

    def __str__(self):
        return f"{self.node} @ {self.at:%Y-%m-%d %H:%M:%S}"


def run_log_path(run, filename=""):
    return f"{settings.RUN_LOG_DIR}/{run.pk}.log"


class Run(models.Model):
    """A command run on a node's agent: who, where, what, and how it ended. The log is a file."""

    class State(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")
        INTERRUPTED = "interrupted", _("interrupted")
        LOST = "lost", _("lost")
        ERROR = "error", _("could not start")

    FINISHED = (State.SUCCEEDED, State.FAILED, State.INTERRUPTED, State.LOST, State.ERROR)

    node = models.ForeignKey(Node, null=True, on_delete=models.SET_NULL, related_name="runs")
    node_name = models.CharField(_("node"), max_length=253)
    cluster_name = models.CharField(_("cluster"), max_length=100, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    user_name = models.CharField(_("user"), max_length=150)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    command = models.TextField(_("command"))
    cwd = models.CharField(_("working folder"), max_length=1000, blank=True)
    env = models.JSONField(_("environment"), default=dict, blank=True)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.QUEUED)
    message = models.TextField(_("message"), blank=True)
    agent_run_id = models.CharField(_("agent run id"), max_length=100, blank=True)
    exit_code = models.IntegerField(_("exit code"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    interrupt_requested_at = models.DateTimeField(_("interrupt requested at"), null=True, blank=True)
    # Bytes of the log copied into the portal's storage so far (the whole log once finished).
    log_size = models.BigIntegerField(_("log size"), default=0)
    log_file = models.CharField(_("log file"), max_length=500, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    unreachable_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("run")
        verbose_name_plural = _("runs")
        indexes = [models.Index(fields=["state"]), models.Index(fields=["node", "-created_at"])]

    def __str__(self):
        return f"#{self.pk} {self.command[:60]} on {self.node_name}"

    @property
    def finished(self):
        return self.state in self.FINISHED

    @property
    def active(self):
        return self.state in (self.State.QUEUED, self.State.RUNNING)

    @property
    def duration(self):
        if not self.started_at:
            return None
        return (self.ended_at or timezone.now()) - self.started_at
