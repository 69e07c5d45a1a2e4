"""Give the role groups their bank statement permissions.

Everyone with a role reads imported statements and their entries; Finance
Analysts and Integration Admins may upload statement files. Auditors only read.
"""

from django.db import migrations

from revops.roles import grant_role_permissions, revoke_role_permissions

ALL_ROLES = ("Finance Analyst", "Integration Admin", "Auditor")
UPLOADERS = ("Finance Analyst", "Integration Admin")

GRANTS = {
    "view_statementfile": ALL_ROLES,
    "view_bankstatement": ALL_ROLES,
    "view_bankentry": ALL_ROLES,
    "add_statementfile": UPLOADERS,
}


def grant(apps, schema_editor):
    grant_role_permissions(apps, "statements", GRANTS)


def revoke(apps, schema_editor):
    revoke_role_permissions(apps, "statements", GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("statements", "0001_bank_statements"),
        ("revops", "0002_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
