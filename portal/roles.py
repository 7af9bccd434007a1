"""The three roles and what they may do. Checked on the server by portal.audit.authorize()."""

VIEW = "portal.view_resources"
OPERATE = "portal.operate_workloads"
ADMINISTER = "portal.manage_clusters"


# The Django admin pages the admin role works in (its members also need "staff status").
ADMIN_ROLE_APPS = ["clusters", "nodes", "jobs"]
ADMIN_ROLE_AUTH_MODELS = ["user", "group"]


def grant_admin_site_permissions(**kwargs):
    """post_migrate: give the admin group the model permissions of the portal's admin pages.

    Migration 0002 creates the groups, but model permissions only exist after post_migrate.
    """
    from django.contrib.auth.models import Group, Permission
    from django.db.models import Q

    group, _ = Group.objects.get_or_create(name="admin")
    group.permissions.add(*Permission.objects.filter(
        Q(content_type__app_label__in=ADMIN_ROLE_APPS)
        | Q(content_type__app_label="auth", content_type__model__in=ADMIN_ROLE_AUTH_MODELS)
        | Q(content_type__app_label="portal", codename="view_auditevent")
    ))
