"""Email to the owning team: at once for a new urgent or high-priority item, and
a daily digest of the items past their due time.

Mail goes through Django's email backend (the console in development, SMTP when
EMAIL_HOST is set). Sending happens in Django-Q2 tasks, after the item is
committed, and each send first claims its row (the item's `notified_at`, the
digest's unique team+day) so an at-least-once delivery never emails twice.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from exceptions_queue.models import OPEN_STATUSES, ExceptionItem, Priority, SlaDigest

logger = logging.getLogger(__name__)

NOTIFY_AT_PRIORITY = Priority.HIGH  # urgent and high items are emailed at once
NEW_ITEM_TASK = "exceptions_queue.tasks.email_new_item"
DIGEST_LIMIT = 200  # items listed in one digest; the rest are counted


def notify_new_item(item_id: int) -> None:
    """Queue the email about a newly opened item (called on commit)."""
    from django_q.tasks import async_task

    async_task(NEW_ITEM_TASK, item_id, task_name=f"email about exception {item_id}")


def team_recipients(team) -> list[str]:
    users = get_user_model().objects.filter(groups=team, is_active=True).exclude(email="")
    return sorted({user.email for user in users})


def item_url(item: ExceptionItem) -> str:
    return f"{settings.REVOPS_BASE_URL}{reverse('exceptions_queue:detail', args=[item.pk])}"


def email_new_item(item_id: int) -> bool:
    """Email the item's team about it, once. Returns whether a mail was sent."""
    with transaction.atomic():
        claimed = ExceptionItem.objects.filter(
            pk=item_id, notified_at__isnull=True, status__in=OPEN_STATUSES, team__isnull=False
        ).update(notified_at=timezone.now())
        if not claimed:
            return False
        item = ExceptionItem.objects.select_related("team", "legal_entity").get(pk=item_id)
        recipients = team_recipients(item.team)
        if not recipients:
            logger.warning("exception %s: team %s has no member with an email address", item.pk, item.team)
            return False
        subject = f"[revops] {item.get_priority_display()}: {item.code_info.label} — {item.title}"[:200]
        body = render_to_string(
            "exceptions_queue/email/new_item.txt",
            {"item": item, "url": item_url(item), "info": item.code_info},
        )
        # Sent inside the claim: if the mail server refuses, the claim rolls back and a retry sends it.
        EmailMessage(subject, body, to=recipients).send()
    return True


def breaching_items(now: dt.datetime | None = None):
    now = now or timezone.now()
    return ExceptionItem.objects.filter(status__in=OPEN_STATUSES, due_at__lt=now, team__isnull=False)


def send_sla_digests(today: dt.date | None = None) -> int:
    """Email each team the list of its open items past their due time (daily).
    Returns how many digests were sent."""
    now = timezone.now()
    today = today or timezone.localdate(now)
    team_ids = sorted(set(breaching_items(now).values_list("team_id", flat=True).distinct()))
    sent = 0
    connection = get_connection()
    for team_id in team_ids:
        if _send_digest(team_id, today=today, now=now, connection=connection):
            sent += 1
    return sent


def _send_digest(team_id: int, *, today: dt.date, now: dt.datetime, connection) -> bool:
    from django.contrib.auth.models import Group

    team = Group.objects.get(pk=team_id)
    items = (
        breaching_items(now)
        .filter(team=team)
        .select_related("assignee", "legal_entity")
        .order_by("due_at", "id")
    )
    total = items.count()
    recipients = team_recipients(team)
    if not total or not recipients:
        return False
    try:
        with transaction.atomic():
            SlaDigest.objects.create(team=team, day=today, item_count=total, recipients=len(recipients))
            listed = [
                {"item": item, "url": item_url(item), "overdue": _overdue(now - item.due_at)}
                for item in items[:DIGEST_LIMIT]
            ]
            body = render_to_string(
                "exceptions_queue/email/sla_digest.txt",
                {
                    "team": team,
                    "items": listed,
                    "total": total,
                    "more": max(0, total - len(listed)),
                    "queue_url": f"{settings.REVOPS_BASE_URL}{reverse('exceptions_queue:list')}?sla=breaching",
                },
            )
            subject = f"[revops] {total} exception item{'s' if total != 1 else ''} past due for {team.name}"
            EmailMessage(subject, body, to=recipients, connection=connection).send()
    except IntegrityError:
        return False  # today's digest for this team was already sent
    return True


def _overdue(delta: dt.timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    if hours < 1:
        return "less than an hour"
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{hours // 24} days"
