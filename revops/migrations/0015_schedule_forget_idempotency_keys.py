"""Schedule the daily task that forgets API idempotency keys past their retention."""

import datetime as dt

from django.db import migrations
from django.utils import timezone

NAME = "revops: forget API idempotency keys past their retention"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    tomorrow = timezone.now().replace(hour=0, minute=45, second=0, microsecond=0) + dt.timedelta(days=1)
    Schedule.objects.get_or_create(
        name=NAME,
        defaults={
            "func": "revops.api.tasks.forget_idempotency_keys",
            "schedule_type": "D",
            "repeats": -1,
            "next_run": tomorrow,
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("revops", "0014_api_role_permissions"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
