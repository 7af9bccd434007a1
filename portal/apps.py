from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Portal")

    def ready(self):
        from .roles import grant_admin_site_permissions

        post_migrate.connect(grant_admin_site_permissions, dispatch_uid="portal.grant_admin_site_permissions")
