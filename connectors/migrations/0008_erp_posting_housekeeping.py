"""Schedule the ERP postings' housekeeping: hand postings whose worker died, or
whose retry was lost, back to the queue."""

from django.db import migrations
from django.utils import timezone

NAME = "connectors: resume ERP postings whose worker stopped"


def create(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.get_or_create(
        name=NAME,
        defaults={
            "func": "connectors.posting.resume_stale_postings",
            "schedule_type": "I",
            "minutes": 5,
            "repeats": -1,
            "next_run": timezone.now(),
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("connectors", "0007_erp_outbound_postings"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create, remove)]
