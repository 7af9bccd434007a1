"""The one way to write the audit history, and the permission check that audits its denials."""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from .models import AuditEvent

OK = AuditEvent.Outcome.OK
ERROR = AuditEvent.Outcome.ERROR
DENIED = AuditEvent.Outcome.DENIED


@dataclass(frozen=True)
class Actor:
    """Who is acting, and from where. Built from a request, or from ids inside a Celery task."""

    user: object
    ip: str | None = None

    @classmethod
    def from_request(cls, request):
        return cls(user=request.user, ip=client_ip(request.META))

    @classmethod
    def from_ids(cls, user_id, ip=None):
        from django.contrib.auth import get_user_model

        return cls(user=get_user_model().objects.filter(pk=user_id).first(), ip=ip)

    def as_ids(self):
        return {"user_id": getattr(self.user, "pk", None), "ip": self.ip}

    @property
    def name(self):
        return getattr(self.user, "get_username", lambda: "")() or "anonymous"


def client_ip(meta):
    """REMOTE_ADDR, or the address PORTAL_PROXY_COUNT trusted proxies put in X-Forwarded-For."""
    proxies = settings.AXES_IPWARE_PROXY_COUNT
    forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return meta.get("REMOTE_ADDR") or None


def record(actor, action, target="", *, outcome=OK, message="", cluster="", detail=None):
    user = actor.user if getattr(actor.user, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=user,
        actor_name=actor.name,
        action=action,
        target=str(target)[:255],
        cluster=str(cluster or "")[:100],
        outcome=outcome,
        message=str(message),
        detail=detail or {},
        client_ip=actor.ip,
    )


def authorize(actor, permission, action, target="", *, cluster=""):
    """Raise PermissionDenied (and audit it as denied) unless the actor holds the permission."""
    user = actor.user
    if user is not None and user.is_active and user.has_perm(permission):
        return
    message = _("You do not have permission to do this (%(action)s).") % {"action": action}
    record(actor, action, target, outcome=DENIED, message=message, cluster=cluster)
    raise PermissionDenied(message)
