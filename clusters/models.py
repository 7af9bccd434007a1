from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portal.fields import EncryptedTextField


class Cluster(models.Model):
    class Status(models.TextChoices):
        UNKNOWN = "unknown", _("not checked")
        CHECKING = "checking", _("checking")
        OK = "ok", _("reachable")
        ERROR = "error", _("unreachable")

    name = models.SlugField(_("name"), max_length=100, unique=True)
    context = models.CharField(_("kubeconfig context"), max_length=255)
    # One self-contained kubeconfig holding only this context, encrypted; never shown back.
    kubeconfig = EncryptedTextField(_("kubeconfig"))
    server = models.CharField(_("API server"), max_length=255, blank=True)
    kind_cluster = models.CharField(_("kind cluster"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.UNKNOWN)
    status_message = models.TextField(_("status message"), blank=True)
    server_version = models.CharField(_("server version"), max_length=50, blank=True)
    volcano_installed = models.BooleanField(_("Volcano installed"), null=True)
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("cluster")
        verbose_name_plural = _("clusters")

    def __str__(self):
        return self.name


class Operation(models.Model):
    """One action on a cluster carried out by a Celery task: scale, delete, drain, load an image…

    The page that started it shows its state live (group "operation-<pk>").
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    cluster = models.ForeignKey(Cluster, null=True, on_delete=models.SET_NULL, related_name="operations")
    cluster_name = models.CharField(_("cluster"), max_length=100)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField(_("user"), max_length=150)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(_("action"), max_length=80)
    target = models.CharField(_("target"), max_length=255)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    message = models.TextField(_("message"), blank=True)
    # Per-object outcomes of bulk actions: [{"object": "pod/x", "ok": true, "message": "..."}].
    results = models.JSONField(_("results"), default=list, blank=True)
    progress = models.PositiveSmallIntegerField(_("progress"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("operation")
        verbose_name_plural = _("operations")

    def __str__(self):
        return f"{self.action} {self.target} ({self.state})"

    @property
    def done(self):
        return self.state in (self.State.SUCCEEDED, self.State.FAILED)
