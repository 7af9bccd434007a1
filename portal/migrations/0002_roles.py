from django.db import migrations

ROLE_PERMISSIONS = {
    "viewer": ["view_resources"],
    "operator": ["view_resources", "operate_workloads"],
    "admin": ["view_resources", "operate_workloads", "manage_clusters"],
}
PERMISSION_NAMES = {
    "view_resources": "Can view clusters, nodes, jobs, runs and logs",
    "operate_workloads": "Can run, submit, upload and delete workloads",
    "manage_clusters": "Can manage clusters, users, images and deployments",
}


def create_roles(apps, schema_editor):
    # Frozen here rather than imported from portal.roles: a migration must not change with the code.
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    content_type, _ = ContentType.objects.get_or_create(app_label="portal", model="capability")
    permissions = {
        codename: Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name}
        )[0]
        for codename, name in PERMISSION_NAMES.items()
    }
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*(permissions[c] for c in codenames))


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create_roles, remove_roles)]
