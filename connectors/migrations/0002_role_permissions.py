"""Give the role groups their connector permissions.

The groups are made by revops/migrations/0002_roles.py; this adds to them (never
replaces what they have). Everyone with a role sees connectors, runs and stored
records (never secrets); only Integration Admins configure connectors and start
syncs or replays.
"""

from django.db import migrations

from revops.roles import grant_role_permissions, revoke_role_permissions

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


def grant(apps, schema_editor):
    grant_role_permissions(apps, "connectors", GRANTS)


def revoke(apps, schema_editor):
    revoke_role_permissions(apps, "connectors", GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("connectors", "0001_initial"),
        ("revops", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
