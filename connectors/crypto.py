"""Encrypted model fields for connector secrets (credentials, webhook secrets).

Built directly on `cryptography.fernet.MultiFernet` rather than on
django-fernet-encrypted-fields, because that library's behaviour is the part we
would have to replace:
- it derives its keys from SECRET_KEY and SALT_KEY (PBKDF2); ours are the Fernet
  keys in REVOPS_ENCRYPTION_KEYS, so that rotating SECRET_KEY (sessions) and
  rotating data keys are separate operations;
- its `to_python` swallows `InvalidToken` and returns the stored ciphertext as if
  it were the secret; we must raise instead;
- its JSON field encrypts each leaf separately, leaving the key names and shape in
  clear and turning numbers into strings;
- it marks "already decrypted" with an attribute set on the shared field instance,
  which is not safe with threads.
Overriding all of that leaves nothing of the library, so these fields are the ~150
lines below over the primitive the library itself uses.

How to use them:
- `EncryptedTextField()` holds a string, `EncryptedJSONField()` a JSON value (a dict
  such as {"api_key": "..."}). The column is text holding one Fernet token; `None`
  is stored as NULL. The first key encrypts, every key decrypts; saving an instance
  re-encrypts under the first key, and `rotate(token)` does it for a raw token.
- On a model instance the attribute is always a `Secret` (or None), whatever was
  assigned: `repr()`/`str()` show "***", pickling raises (so a secret cannot travel
  in task arguments), and `reveal()` returns the value. Values read from the
  database are decrypted on first `reveal()`: a list page never needs the keys,
  and a missing key raises `SecretDecryptionError` (a `ConfigurationError`, so the
  sync engine marks the connector failing) naming the model and field, never the
  value.
- The fields have no form field (ModelForms and the admin leave them out): forms
  ask for new values write-only and show `mask(value)` to say one is set.
- Only `isnull` and `=None` lookups are supported; each token has its own IV, so equality
  filtering could never match.
- Keep these fields out of django-simple-history (`excluded_fields`) and never pass
  them to tasks: pass the connector id.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import FieldError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.lookups import Exact
from django.db.models.query_utils import DeferredAttribute
from django.utils.functional import Promise

from connectors.errors import ConfigurationError

_HIDDEN = "***"


class SecretDecryptionError(ConfigurationError):
    """A stored secret matches none of REVOPS_ENCRYPTION_KEYS."""


@functools.lru_cache(maxsize=8)
def _multifernet(keys: tuple[str | bytes, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _keys() -> MultiFernet:
    keys = tuple(settings.REVOPS_ENCRYPTION_KEYS)
    if not keys:
        raise ConfigurationError(
            "REVOPS_ENCRYPTION_KEYS is empty: no key to encrypt or decrypt secrets with."
        )
    return _multifernet(keys)


def _undecryptable(label: str) -> SecretDecryptionError:
    return SecretDecryptionError(
        f"Cannot decrypt {label}: none of REVOPS_ENCRYPTION_KEYS matches the stored value "
        "(was the key that encrypted it removed or changed?)."
    )


def encrypt(plaintext: str) -> str:
    """A Fernet token for `plaintext` under the first key."""
    return _keys().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str, *, label: str = "a secret") -> str:
    """The plaintext of `token`; `SecretDecryptionError` (naming `label`) if no key matches."""
    try:
        return _keys().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError):
        raise _undecryptable(label) from None


def rotate(value: str, *, label: str = "a secret") -> str:
    """`value` (a token) re-encrypted under the first key, from whichever key made it."""
    try:
        return _keys().rotate(value.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError):
        raise _undecryptable(label) from None


class Secret:
    """A secret value that does not show itself: repr "Secret('***')", str "***".

    `reveal()` returns the value. One read from the database holds the token and
    decrypts it on first `reveal()`. Equality compares values; pickling is refused.
    """

    __slots__ = ("_value", "_token", "_label", "_decode")

    def __init__(self, value: Any):
        self._value = value
        self._token: str | None = None
        self._label = ""
        self._decode = None

    @classmethod
    def _encrypted(cls, token: str, *, label: str, decode) -> Secret:
        secret = cls(None)
        secret._token, secret._label, secret._decode = token, label, decode
        return secret

    def reveal(self) -> Any:
        if self._token is not None:
            self._value = self._decode(decrypt(self._token, label=self._label))
            self._token = None
        return self._value

    def __repr__(self) -> str:
        return f"Secret('{_HIDDEN}')"

    def __str__(self) -> str:
        return _HIDDEN

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return self.reveal() == other.reveal()

    __hash__ = None  # type: ignore[assignment]  # the value may be a dict

    def __reduce_ex__(self, protocol):
        raise TypeError("A Secret cannot be pickled: pass the id of the object that holds it instead.")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo) -> Secret:
        clone = Secret(copy.deepcopy(self._value, memo))
        clone._token, clone._label, clone._decode = self._token, self._label, self._decode
        return clone


class _SecretAttribute(DeferredAttribute):
    """Wraps whatever is assigned to the field's attribute in a `Secret`."""

    def __set__(self, instance, value):
        if value is not None and not isinstance(value, Secret):
            value = Secret(value)
        instance.__dict__[self.field.attname] = value


class _ExactNoneOnly(Exact):
    """`field=None` (Django turns it into IS NULL); any value is refused."""

    def __init__(self, lhs, rhs):
        if rhs is not None:
            raise FieldError(
                "Encrypted fields cannot be filtered by value (every token differs); only `=None` and `__isnull`."
            )
        super().__init__(lhs, rhs)


class _EncryptedField(models.TextField):
    descriptor_class = _SecretAttribute

    def _serialize(self, value: Any) -> str:
        raise NotImplementedError

    def _deserialize(self, text: str) -> Any:
        raise NotImplementedError

    def _label(self) -> str:
        model = getattr(self, "model", None)
        return f"{model._meta.label}.{self.name}" if model is not None else (self.name or "a secret")

    def get_prep_value(self, value: Any) -> str | None:
        if isinstance(value, Promise):
            value = str(value)
        if value is None:
            return None
        if isinstance(value, Secret):
            if value._token is not None:
                # Never revealed: re-encrypt the token under the first key without
                # exposing it, or keep it as it is when no key can read it (the
                # error surfaces where the secret is used, not on unrelated saves).
                try:
                    return rotate(value._token, label=self._label())
                except SecretDecryptionError:
                    return value._token
            value = value.reveal()
        return encrypt(self._serialize(value))

    def from_db_value(self, value, expression, connection) -> Secret | None:
        if value is None:
            return None
        return Secret._encrypted(value, label=self._label(), decode=self._deserialize)

    def to_python(self, value: Any) -> Any:
        return value

    def value_to_string(self, obj) -> str | None:
        # Serializers (dumpdata) get the token, never the plaintext.
        return self.get_prep_value(self.value_from_object(obj))

    def formfield(self, **kwargs):
        return None

    def get_lookup(self, lookup_name):
        if lookup_name == "exact":
            return _ExactNoneOnly
        return super().get_lookup(lookup_name) if lookup_name == "isnull" else None

    def get_transform(self, lookup_name):
        return None


class EncryptedTextField(_EncryptedField):
    """A string stored as a Fernet token."""

    def _serialize(self, value: Any) -> str:
        if not isinstance(value, str):
            raise TypeError(f"{self._label()} holds text, not {type(value).__name__}")
        return value

    def _deserialize(self, text: str) -> str:
        return text


class EncryptedJSONField(_EncryptedField):
    """A JSON value (usually a dict of credentials) stored as one Fernet token."""

    def _serialize(self, value: Any) -> str:
        return json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True)

    def _deserialize(self, text: str) -> Any:
        return json.loads(text)


_PREFIX = re.compile(r"^[A-Za-z]{2,8}_")


def mask(value: Any) -> str:
    """What a form shows for a stored secret: "sk_…abcd" (a vendor prefix and the last
    4 characters), "****" for values too short to show any, "" for none; a dict is
    masked per key ("api_key: sk_…abcd")."""
    if isinstance(value, Secret):
        try:
            value = value.reveal()
        except SecretDecryptionError:
            return "set, but unreadable with the current REVOPS_ENCRYPTION_KEYS"
    if value is None or value == "":
        return ""
    if isinstance(value, dict):
        return ", ".join(f"{key}: {mask(value[key])}" for key in sorted(value))
    text = str(value)
    if len(text) < 12:
        return "****"
    prefix = _PREFIX.match(text)
    return f"{prefix.group(0) if prefix else ''}…{text[-4:]}"
