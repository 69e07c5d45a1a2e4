"""Give the role groups their connector permissions.

The groups are made by revops/migrations/0002_roles.py; this adds to them (never
replaces what they have). Everyone with a role sees connectors, runs and stored
records (never secrets); only Integration Admins configure connectors and start
syncs or replays.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ALL_ROLES = ("Finance Analyst", "Integration Admin", "Auditor")
ADMINS = ("Integration Admin",)

GRANTS = {
    "view_connector": ALL_ROLES,
    "view_syncrun": ALL_ROLES,
    "view_inboundrecord": ALL_ROLES,
    "view_webhookdelivery": ALL_ROLES,
    "view_synccursor": ALL_ROLES,
    "add_connector": ADMINS,
    "change_connector": ADMINS,
    "delete_connector": ADMINS,
    "run_connector": ADMINS,
}


def _permissions(apps):
    # Permissions are normally created after all migrations; make sure ours exist now.
    app_config = apps.get_app_config("connectors")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    return {
        codename: Permission.objects.get(content_type__app_label="connectors", codename=codename)
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
    permissions = Permission.objects.filter(content_type__app_label="connectors", codename__in=GRANTS)
    for group in Group.objects.filter(name__in=ALL_ROLES):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("connectors", "0001_initial"),
        ("revops", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
