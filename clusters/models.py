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
