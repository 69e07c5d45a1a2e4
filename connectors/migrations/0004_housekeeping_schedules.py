"""Schedule the connectors' housekeeping in Django-Q2: hand runs whose worker
died back to the queue, and forget webhook event ids past their retention."""

from django.db import migrations
from django.utils import timezone

SCHEDULES = [
    ("connectors: resume sync runs whose worker stopped", "connectors.tasks.resume_stale_runs", "I", 5),
    ("connectors: forget old webhook deliveries", "connectors.webhooks.forget_old_deliveries", "D", None),
]


def create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func, schedule_type, minutes in SCHEDULES:
        Schedule.objects.get_or_create(
            name=name,
            defaults={
                "func": func,
                "schedule_type": schedule_type,
                "minutes": minutes,
                "repeats": -1,
                "next_run": timezone.now(),
            },
        )


def remove(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name__in=[s[0] for s in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("connectors", "0003_file_imports"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create, remove)]
