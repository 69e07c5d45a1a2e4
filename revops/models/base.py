"""Shared model pieces: history attribution and money/quantity fields."""

from __future__ import annotations

from django.db import models
from django.dispatch import receiver
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

from revops.actors import MANUAL_SYSTEM, Actor
from revops.money import (
    AMOUNT_DIGITS,
    AMOUNT_PLACES,
    QUANTITY_DIGITS,
    QUANTITY_PLACES,
    RATE_DIGITS,
    RATE_PLACES,
)

UNATTRIBUTED = "unattributed"


class HistoryAttribution(models.Model):
    """Extra columns on every historical table: which system the change came
    from and a readable actor label (a person's username or a connector run)."""

    history_source = models.CharField(max_length=64, default=MANUAL_SYSTEM)  # not looked up by: no index
    history_actor = models.CharField(max_length=200, default=UNATTRIBUTED)

    class Meta:
        abstract = True


def tracked(**kwargs) -> HistoricalRecords:
    """History for a canonical model, with attribution columns."""
    return HistoricalRecords(bases=[HistoryAttribution], **kwargs)


def stamp(instance: models.Model, actor: Actor, reason: str) -> models.Model:
    """Attach who and why to an instance before it is saved or deleted."""
    if not reason or not reason.strip():
        raise ValueError("Every change needs a reason.")
    instance._history_user = actor.user
    instance._change_reason = reason.strip()
    instance._history_source = actor.system
    instance._history_actor = actor.label
    return instance


@receiver(pre_create_historical_record)
def _attribute_history(sender, instance, history_instance, history_user, **kwargs) -> None:
    source = getattr(instance, "_history_source", None)
    if source:
        history_instance.history_source = source
        history_instance.history_actor = instance._history_actor
    elif history_user is not None:
        # A change made through Django admin: the request user is the actor.
        history_instance.history_source = MANUAL_SYSTEM
        history_instance.history_actor = history_user.get_username()


def money_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, **kwargs)


def quantity_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=QUANTITY_DIGITS, decimal_places=QUANTITY_PLACES, **kwargs)


def rate_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=RATE_DIGITS, decimal_places=RATE_PLACES, **kwargs)


def currency_field(**kwargs) -> models.CharField:
    return models.CharField(max_length=3, **kwargs)


def currency_check(field: str, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=models.Q(**{f"{field}__regex": r"^[A-Z]{3}$"}), name=name)


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
