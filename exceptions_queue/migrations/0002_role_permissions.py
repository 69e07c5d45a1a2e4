"""Give the role groups their exception-queue permissions.

The groups are made by revops/migrations/0002_roles.py; this adds to them (never
replaces what they have). Keep in step with revops/roles.py.
"""

from django.db import migrations

from revops.roles import grant_role_permissions, revoke_role_permissions

ALL_ROLES = ("Finance Analyst", "Integration Admin", "Auditor")
EDITORS = ("Finance Analyst", "Integration Admin")

GRANTS = {
    "view_exceptionitem": ALL_ROLES,
    "view_exceptioncomment": ALL_ROLES,
    "change_exceptionitem": EDITORS,
    "add_exceptioncomment": EDITORS,
}


def grant(apps, schema_editor):
    grant_role_permissions(apps, "exceptions_queue", GRANTS)


def revoke(apps, schema_editor):
    revoke_role_permissions(apps, "exceptions_queue", GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("exceptions_queue", "0001_initial"),
        ("revops", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
