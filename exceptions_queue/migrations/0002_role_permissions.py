"""Give the role groups their exception-queue permissions.

The groups are made by revops/migrations/0002_roles.py; this adds to them (never
replaces what they have). Keep in step with revops/roles.py.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ALL_ROLES = ("Finance Analyst", "Integration Admin", "Auditor")
EDITORS = ("Finance Analyst", "Integration Admin")

GRANTS = {
    "view_exceptionitem": ALL_ROLES,
    "view_exceptioncomment": ALL_ROLES,
    "change_exceptionitem": EDITORS,
    "add_exceptioncomment": EDITORS,
}


def _permissions(apps):
    # Permissions are normally created after all migrations; make sure ours exist now.
    app_config = apps.get_app_config("exceptions_queue")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    return {
        codename: Permission.objects.get(content_type__app_label="exceptions_queue", codename=codename)
        for codename in GRANTS
    }


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    permissions = _permissions(apps)
    for codename, roles in GRANTS.items():
        for role in roles:
            group, _ = Group.objects.get_or_create(name=role)
            group.permissions.add(permissions[codename])


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = Permission.objects.filter(content_type__app_label="exceptions_queue", codename__in=GRANTS)
    for group in Group.objects.filter(name__in=ALL_ROLES):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("exceptions_queue", "0001_initial"),
        ("revops", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
