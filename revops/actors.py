"""Who made a change: a person, or a system (a connector run, a scheduled job).

Every service takes an `actor`; its attribution is written into the history row
of every change in the same transaction (see `revops.models.base`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser

# The system name for changes people make in revops itself.
MANUAL_SYSTEM = "revops"


@dataclass(frozen=True)
class Actor:
    """`system` names the source system whose data this is ("revops" for people);
    `label` is what an auditor reads ("alice", "connector stripe-eu, run 42")."""

    system: str
    label: str
    user: AbstractBaseUser | None = None

    @classmethod
    def for_user(cls, user: AbstractBaseUser) -> Actor:
        if not user.is_authenticated:
            raise ValueError("An anonymous user cannot change data.")
        return cls(system=MANUAL_SYSTEM, label=user.get_username(), user=user)

    @classmethod
    def for_system(cls, system: str, label: str) -> Actor:
        if not system or not label:
            raise ValueError("A system actor needs a system name and a label.")
        return cls(system=system, label=label)

    @property
    def is_person(self) -> bool:
        return self.user is not None

    def has_perm(self, perm: str) -> bool:
        return self.user is not None and self.user.has_perm(perm)
