from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Capability(models.Model):
    """Holds the portal's permissions; it has no table. Groups get them in migration 0002."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_resources", _("Can view clusters, nodes, jobs, runs and logs")),
            ("operate_workloads", _("Can run, submit, upload and delete workloads")),
            ("manage_clusters", _("Can manage clusters, users, images and deployments")),
        ]


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("audit events are append-only")

    def delete(self):
        raise TypeError("audit events are append-only")


class AuditEvent(models.Model):
    class Outcome(models.TextChoices):
        OK = "ok", _("ok")
        ERROR = "error", _("error")
        DENIED = "denied", _("denied")

    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Kept as text too, so the history still says who it was after the user is deleted.
    actor_name = models.CharField(_("user"), max_length=150, db_index=True)
    action = models.CharField(_("action"), max_length=80, db_index=True)
    target = models.CharField(_("target"), max_length=255, blank=True, db_index=True)
    cluster = models.CharField(_("cluster"), max_length=100, blank=True, db_index=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, db_index=True)
    message = models.TextField(_("message"), blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    client_ip = models.GenericIPAddressField(_("client IP"), null=True, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.target} {self.outcome}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("audit events are append-only")
