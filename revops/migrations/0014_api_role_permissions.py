"""Give the role groups their API permissions.

Integration Admins make, list and revoke API tokens, and record usage through
the API (metering systems push it with an admin's token). Added to what the
groups already have, never replacing it.
"""

from django.db import migrations

from revops.roles import INTEGRATION_ADMIN, grant_role_permissions, revoke_role_permissions

ADMINS = (INTEGRATION_ADMIN,)

GRANTS = {
    "view_apitoken": ADMINS,
    "add_apitoken": ADMINS,
    "change_apitoken": ADMINS,
    "add_usagerecord": ADMINS,
}


def grant(apps, schema_editor):
    grant_role_permissions(apps, "revops", GRANTS)


def revoke(apps, schema_editor):
    revoke_role_permissions(apps, "revops", GRANTS)


class Migration(migrations.Migration):
    dependencies = [("revops", "0013_api_tokens_and_idempotency_keys")]

    operations = [migrations.RunPython(grant, revoke)]
