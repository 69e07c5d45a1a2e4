"""Give the role groups their reconciliation permissions, and schedule the
sweep that starts due runs.

Integration Admins configure reconciliations and their rules; Finance Analysts
run them and confirm or reject suggested matches (change_run); Auditors read.
The groups are made by revops/migrations/0002_roles.py; this adds to them.
"""

from django.db import migrations
from django.utils import timezone

from revops.roles import grant_role_permissions, revoke_role_permissions

ALL_ROLES = ("Finance Analyst", "Integration Admin", "Auditor")
ADMINS = ("Integration Admin",)
RUNNERS = ("Finance Analyst", "Integration Admin")

GRANTS = {
    "view_reconciliation": ALL_ROLES,
    "view_matchrule": ALL_ROLES,
    "view_run": ALL_ROLES,
    "view_runline": ALL_ROLES,
    "view_matchdecision": ALL_ROLES,
    "view_externalrecord": ALL_ROLES,
    "add_reconciliation": ADMINS,
    "change_reconciliation": ADMINS,
    "add_matchrule": ADMINS,
    "change_matchrule": ADMINS,
    "delete_matchrule": ADMINS,
    "add_run": RUNNERS,
    "change_run": RUNNERS,
}

SCHEDULE = "reconciliation: start the runs that are due"


def grant(apps, schema_editor):
    grant_role_permissions(apps, "reconciliation", GRANTS)
    apps.get_model("django_q", "Schedule").objects.get_or_create(
        name=SCHEDULE,
        defaults={
            "func": "reconciliation.tasks.start_due_runs",
            "schedule_type": "I",
            "minutes": 15,
            "repeats": -1,
            "next_run": timezone.now(),
        },
    )


def revoke(apps, schema_editor):
    revoke_role_permissions(apps, "reconciliation", GRANTS)
    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reconciliation", "0001_reconciliations_rules_runs"),
        ("revops", "0002_roles"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
