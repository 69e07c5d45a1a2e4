"""Encrypted secret fields: stored as Fernet tokens, raise on a wrong key, rotate, never show."""

from __future__ import annotations

import copy
import json
import logging
import pickle

import pytest
from cryptography.fernet import Fernet, MultiFernet
from django.core import serializers
from django.core.exceptions import FieldError
from django.db import connection, models
from django.forms import modelform_factory
from django.test import override_settings
from django.test.utils import isolate_apps

from connectors.crypto import (
    EncryptedJSONField,
    EncryptedTextField,
    Secret,
    SecretDecryptionError,
    decrypt,
    encrypt,
    mask,
    rotate,
)
from connectors.errors import ConfigurationError, ConnectorError

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()
API_KEY = "sk_live_51HxPlaintextSecretValue9876"
WEBHOOK_SECRET = "whsec_plaintextwebhooksecret42"


pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def vault_model(django_db_setup, django_db_blocker):
    """A throwaway model with both fields, in a table that lives for this module only
    (created outside the per-test transaction, so it works on SQLite too)."""
    with isolate_apps("connectors"):

        class Vault(models.Model):
            name = models.CharField(max_length=50, default="")
            webhook_secret = EncryptedTextField(null=True)
            credentials = EncryptedJSONField(null=True)

            class Meta:
                app_label = "connectors"
                db_table = "test_crypto_vault"

            def __str__(self):
                return self.name

    with django_db_blocker.unblock(), connection.schema_editor() as editor:
        editor.create_model(Vault)
    try:
        yield Vault
    finally:
        with django_db_blocker.unblock(), connection.schema_editor() as editor:
            editor.delete_model(Vault)


def raw_row(pk: int) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT webhook_secret, credentials FROM test_crypto_vault WHERE id = %s", [pk])
        return cursor.fetchone()


@override_settings(REVOPS_ENCRYPTION_KEYS=[KEY_A])
def test_it_stores_fernet_tokens_not_plaintext(vault_model):
    vault = vault_model.objects.create(
        webhook_secret=WEBHOOK_SECRET, credentials={"api_key": API_KEY, "account": "acct_1", "n": 3}
    )

    stored_secret, stored_credentials = raw_row(vault.pk)
    for stored in (stored_secret, stored_credentials):
        assert stored.startswith("gAAAAA")  # a Fernet token, version 0x80
        assert WEBHOOK_SECRET not in stored and API_KEY not in stored and "api_key" not in stored
    assert Fernet(KEY_A).decrypt(stored_secret.encode()).decode() == WEBHOOK_SECRET
    assert json.loads(Fernet(KEY_A).decrypt(stored_credentials.encode())) == {
        "account": "acct_1",
        "api_key": API_KEY,
        "n": 3,
    }


@override_settings(REVOPS_ENCRYPTION_KEYS=[KEY_A])
def test_it_round_trips_through_the_database(vault_model):
    vault = vault_model.objects.create(webhook_secret=WEBHOOK_SECRET, credentials={"api_key": API_KEY})

    loaded = vault_model.objects.get(pk=vault.pk)
    assert isinstance(loaded.webhook_secret, Secret)
    assert loaded.webhook_secret.reveal() == WEBHOOK_SECRET
    assert loaded.credentials.reveal() == {"api_key": API_KEY}

    loaded.credentials = {"api_key": "sk_live_rotatedvalue0000"}
    loaded.save()
    assert vault_model.objects.get(pk=vault.pk).credentials.reveal() == {
        "api_key": "sk_live_rotatedvalue0000"
    }


@override_settings(REVOPS_ENCRYPTION_KEYS=[KEY_A])
def test_it_keeps_none_as_null_and_encrypts_empty_text(vault_model):
    vault = vault_model.objects.create(webhook_secret="", credentials=None)

    stored_secret, stored_credentials = raw_row(vault.pk)
    assert stored_credentials is None
    assert stored_secret.startswith("gAAAAA")
    loaded = vault_model.objects.get(pk=vault.pk)
    assert loaded.credentials is None
    assert loaded.webhook_secret.reveal() == ""


@override_settings(REVOPS_ENCRYPTION_KEYS=[KEY_A])
def test_it_raises_naming_the_field_when_no_key_matches(vault_model):
    vault = vault_model.objects.create(webhook_secret=WEBHOOK_SECRET, credentials={"api_key": API_KEY})
    token, _ = raw_row(vault.pk)

    with override_settings(REVOPS_ENCRYPTION_KEYS=[KEY_B]):
        loaded = vault_model.objects.get(pk=vault.pk)  # loading needs no key
        with pytest.raises(SecretDecryptionError) as raised:
            loaded.webhook_secret.reveal()
        with pytest.raises(SecretDecryptionError, match=r"connectors\.Vault\.credentials"):
            loaded.credentials.reveal()

    message = str(raised.value)
    assert "connectors.Vault.webhook_secret" in message
    assert WEBHOOK_SECRET not in message and token not in message
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    # The sync engine treats it as a configuration problem of the connector.
    assert isinstance(raised.value, ConfigurationError)
    assert isinstance(raised.value, ConnectorError)


@override_settings(REVOPS_ENCRYPTION_KEYS=[KEY_A])
def test_it_keeps_a_secret_it_cannot_read_when_other_fields_are_saved(vault_model):
    vault = vault_model.objects.create(webhook_secret=WEBHOOK_SECRET)

    with override_settings(REVOPS_ENCRYPTION_KEYS=[KEY_B]):
        loaded = vault_model.objects.get(pk=vault.pk)
        loaded.name = "renamed"
        loaded.save()

    again = vault_model.objects.get(pk=vault.pk)
    assert again.name == "renamed"
    assert again.webhook_secret.reveal() == WEBHOOK_SECRET


@override_settings(REVOPS_ENCRYPTION_KEYS=[KEY_A])
def test_it_decrypts_old_tokens_and_rotates_to_the_first_key(vault_model):
    vault = vault_model.objects.create(webhook_secret=WEBHOOK_SECRET, credentials={"api_key": API_KEY})
    old_token, _ = raw_row(vault.pk)

    with override_settings(REVOPS_ENCRYPTION_KEYS=[KEY_B, KEY_A]):
        loaded = vault_model.objects.get(pk=vault.pk)
        assert loaded.webhook_secret.reveal() == WEBHOOK_SECRET

        rotated = rotate(old_token)
        assert Fernet(KEY_B).decrypt(rotated.encode()).decode() == WEBHOOK_SECRET

        vault_model.objects.get(pk=vault.pk).save()  # saving re-encrypts, even unrevealed
    new_secret, new_credentials = raw_row(vault.pk)
    assert new_secret != old_token
    assert Fernet(KEY_B).decrypt(new_secret.encode()).decode() == WEBHOOK_SECRET
    assert json.loads(Fernet(KEY_B).decrypt(new_credentials.encode())) == {"api_key": API_KEY}

    with override_settings(REVOPS_ENCRYPTION_KEYS=[KEY_B]):
        assert vault_model.objects.get(pk=vault.pk).webhook_secret.reveal() == WEBHOOK_SECRET


@override_settings(REVOPS_ENCRYPTION_KEYS=[KEY_A])
def test_it_refuses_to_rotate_a_token_no_key_reads():
    foreign = Fernet(KEY_B).encrypt(b"x").decode()
    with pytest.raises(SecretDecryptionError, match="webhook secret"):
        rotate(foreign, label="webhook secret")
    with pytest.raises(SecretDecryptionError):
        decrypt("not-a-token")


@override_settings(REVOPS_ENCRYPTION_KEYS=[KEY_B, KEY_A])
def test_it_encrypts_with_the_first_key_and_decrypts_with_any():
    token = encrypt("hello")
    assert Fernet(KEY_B).decrypt(token.encode()) == b"hello"
    assert decrypt(Fernet(KEY_A).encrypt(b"old").decode()) == "old"
    assert decrypt(MultiFernet([Fernet(KEY_B)]).encrypt(b"new").decode()) == "new"


@override_settings(REVOPS_ENCRYPTION_KEYS=[])
def test_it_refuses_to_work_without_keys():
    with pytest.raises(ConfigurationError, match="REVOPS_ENCRYPTION_KEYS"):
        encrypt("x")


@override_settings(REVOPS_ENCRYPTION_KEYS=[KEY_A])
def test_it_never_shows_a_secret_in_repr_str_logs_or_pickles(vault_model, caplog):
    vault = vault_model.objects.create(webhook_secret=WEBHOOK_SECRET, credentials={"api_key": API_KEY})
    loaded = vault_model.objects.get(pk=vault.pk)
    loaded.credentials.reveal()  # a revealed secret hides itself just the same

    for secret in (vault.webhook_secret, vault.credentials, loaded.webhook_secret, loaded.credentials):
        assert repr(secret) == "Secret('***')"
        assert str(secret) == f"{secret}" == "***"
        with pytest.raises(TypeError, match="cannot be pickled"):
            pickle.dumps(secret)
    with pytest.raises(TypeError):
        pickle.dumps(loaded)  # a model instance holding a secret cannot become a task argument
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info(
            "credentials %s %r %s", loaded.credentials, loaded.credentials, loaded.__dict__
        )
    assert API_KEY not in caplog.text and WEBHOOK_SECRET not in repr(vault.__dict__)
    with pytest.raises(TypeError):
        json.dumps({"c": loaded.credentials})

    dumped = serializers.serialize("json", [loaded])
    assert API_KEY not in dumped and WEBHOOK_SECRET not in dumped


@override_settings(REVOPS_ENCRYPTION_KEYS=[KEY_A])
def test_it_wraps_assigned_values_and_copies_them(vault_model):
    vault = vault_model(webhook_secret="plain")
    assert isinstance(vault.webhook_secret, Secret)
    vault.webhook_secret = Secret("wrapped")
    assert vault.webhook_secret.reveal() == "wrapped"
    vault.webhook_secret = None
    assert vault.webhook_secret is None

    secret = Secret({"api_key": API_KEY})
    clone = copy.deepcopy(secret)
    clone.reveal()["api_key"] = "changed"
    assert secret.reveal() == {"api_key": API_KEY}
    assert Secret("a") == Secret("a") and Secret("a") != Secret("b")
    assert Secret("a") != "a"  # a secret is not mistaken for plain text


@override_settings(REVOPS_ENCRYPTION_KEYS=[KEY_A])
def test_it_stays_out_of_forms_and_only_supports_isnull_lookups(vault_model):
    vault_model.objects.create(webhook_secret=WEBHOOK_SECRET)
    form_class = modelform_factory(vault_model, fields="__all__")
    assert list(form_class.base_fields) == ["name"]

    assert vault_model.objects.filter(credentials__isnull=True).count() == 1
    assert vault_model.objects.filter(webhook_secret=None).count() == 0
    with pytest.raises(FieldError):
        list(vault_model.objects.filter(webhook_secret=WEBHOOK_SECRET))


@override_settings(REVOPS_ENCRYPTION_KEYS=[KEY_A])
def test_it_refuses_non_text_in_a_text_field(vault_model):
    with pytest.raises(TypeError, match="holds text"):
        vault_model.objects.create(webhook_secret=12345)


def test_it_masks_secrets_for_forms():
    assert mask("sk_live_abcdefghijklmnop1234") == "sk_…1234"
    assert mask("abcdefghijklmnopqrst") == "…qrst"
    assert mask("short") == "****"
    assert mask("") == "" and mask(None) == ""
    assert mask(Secret("rk_test_0123456789abcd")) == "rk_…abcd"
    assert mask({"api_key": "sk_test_0123456789wxyz", "pin": "12"}) == "api_key: sk_…wxyz, pin: ****"


@override_settings(REVOPS_ENCRYPTION_KEYS=[KEY_A])
def test_it_masks_an_unreadable_secret_without_raising(vault_model):
    vault = vault_model.objects.create(webhook_secret=WEBHOOK_SECRET)
    with override_settings(REVOPS_ENCRYPTION_KEYS=[KEY_B]):
        shown = mask(vault_model.objects.get(pk=vault.pk).webhook_secret)
    assert "unreadable" in shown and WEBHOOK_SECRET[-4:] not in shown
