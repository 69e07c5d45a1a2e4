"""Background jobs of the canonical domain, run by the Django-Q2 cluster.

Each job is idempotent: running it twice (at-least-once delivery) changes
nothing the first run did not.
"""

from __future__ import annotations

import logging

from revops.actors import Actor
from revops.services.contracts import contracts_expire_due

logger = logging.getLogger(__name__)

EXPIRE_CONTRACTS_SCHEDULE = "revops: expire contracts past their end date"


def expire_contracts() -> int:
    """Mark active contracts whose term has ended as expired (scheduled daily)."""
    count = contracts_expire_due(actor=Actor.for_system("revops", "scheduled job: expire contracts"))
    logger.info("expired %d contract(s) past their end date", count)
    return count
