"""Give the role groups their tax rate table permissions.

Everyone with a role reads the table (it explains every tax mismatch); only
Integration Admins add and change jurisdictions and their rate components.
Added to what the groups already have, never replacing it.
"""

from django.db import migrations

from revops.roles import (
    AUDITOR,
    FINANCE_ANALYST,
    INTEGRATION_ADMIN,
    grant_role_permissions,
    revoke_role_permissions,
)

ALL_ROLES = (FINANCE_ANALYST, INTEGRATION_ADMIN, AUDITOR)
ADMINS = (INTEGRATION_ADMIN,)

GRANTS = {
    "view_taxjurisdiction": ALL_ROLES,
    "view_taxratecomponent": ALL_ROLES,
    "add_taxjurisdiction": ADMINS,
    "change_taxjurisdiction": ADMINS,
    "add_taxratecomponent": ADMINS,
    "change_taxratecomponent": ADMINS,
}


def grant(apps, schema_editor):
    grant_role_permissions(apps, "revops", GRANTS)


def revoke(apps, schema_editor):
    revoke_role_permissions(apps, "revops", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("revops", "0009_tax_jurisdictions")]

    operations = [migrations.RunPython(grant, revoke)]
