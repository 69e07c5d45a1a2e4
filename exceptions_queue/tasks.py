"""Django-Q2 entry points of the exception queue. Each is idempotent: it claims
its row before acting, so a duplicate delivery changes nothing."""

from __future__ import annotations

from exceptions_queue.bulk import run_bulk_action
from exceptions_queue.notifications import email_new_item, send_sla_digests

__all__ = ["email_new_item", "run_bulk_action", "send_sla_digests"]
