"""Schedule the daily contract-expiry job in Django-Q2."""

import datetime as dt

from django.db import migrations
from django.utils import timezone

NAME = "revops: expire contracts past their end date"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    tomorrow = timezone.now().replace(hour=0, minute=15, second=0, microsecond=0) + dt.timedelta(days=1)
    Schedule.objects.get_or_create(
        name=NAME,
        defaults={
            "func": "revops.tasks.expire_contracts",
            "schedule_type": "D",
            "repeats": -1,
            "next_run": tomorrow,
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("revops", "0002_roles"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
