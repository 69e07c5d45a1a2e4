"""Personal API tokens: made, found and revoked.

A token reads `rvo_<prefix>_<secret>`: the prefix (8 characters) is stored in
clear so a list can show which token is which; the whole token is stored only
as its SHA-256 digest, which is enough for a high-entropy secret (no salt or
slow hash is needed when nothing can be guessed).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from revops.actors import Actor
from revops.errors import field_error
from revops.models import ApiToken

SCHEME = "rvo"
PREFIX_LENGTH = 8
# last_used_at is written at most this often per token, not on every request.
TOUCH_EVERY_SECONDS = 60


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    value: str  # shown once, never stored


def digest_of(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _new_value() -> tuple[str, str]:
    prefix = secrets.token_hex(PREFIX_LENGTH // 2)
    return prefix, f"{SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"


@transaction.atomic
def api_token_create(*, user, name: str, actor: Actor) -> NewToken:
    """A new token acting as `user`, with exactly that user's permissions."""
    name = " ".join((name or "").split())
    if not name:
        raise field_error("name", "Name the token after what will use it, e.g. 'ERP nightly export'.")
    if len(name) > 100:
        raise field_error("name", "Keep the name under 100 characters.")
    if not isinstance(user, get_user_model()) or not user.is_active:
        raise field_error("user", "Choose an active user for the token to act as.")
    prefix, value = _new_value()
    token = ApiToken.objects.create(
        user=user, name=name, prefix=prefix, digest=digest_of(value), created_by=actor.user
    )
    return NewToken(token=token, value=value)


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: Actor) -> ApiToken:
    """Revoke a token; it is refused from the next request on. Revoking twice changes nothing."""
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.revoked_by = actor.user
        token.save(update_fields=["revoked_at", "revoked_by"])
    return token


def token_for_value(value: str) -> ApiToken | None:
    """The active token this value is, or None. Looked up by digest: the value
    itself is never compared or kept."""
    if not value.startswith(f"{SCHEME}_") or len(value) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(digest=digest_of(value), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() >= TOUCH_EVERY_SECONDS:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
