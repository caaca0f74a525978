"""Credentials at rest: channel and carrier secrets are stored encrypted (Fernet: AES-128-CBC + HMAC-SHA256,
from the maintained ``cryptography`` package), so a database dump or a backup does not hand out access tokens.

``OMS_CREDENTIALS_KEYS`` (comma-separated Fernet keys, ``Fernet.generate_key()``) encrypts with the first and
decrypts with any, so a key is rotated by putting the new one first and running ``manage.py
rotate_credentials``; unset, one key is derived from ``SECRET_KEY`` (then changing SECRET_KEY loses the stored
credentials: set the keys in production). A stored value reads ``fernet:<token>``; a value without the prefix
(written before encryption) is read as it is and sealed on its next save.

The fields: ``EncryptedJSONField`` (a dict of credentials) and ``EncryptedTextField`` (one secret).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "fernet:"
OPENED_MAX = 256  # stored values remembered opened in this process (one per connection or carrier in use)
logger = logging.getLogger(__name__)


class SecretUnreadable(Exception):
    """A stored secret none of the keys opens (a key removed too early, SECRET_KEY changed)."""


def _keys() -> tuple[str, ...]:
    configured = getattr(settings, "OMS_CREDENTIALS_KEYS", None) or ()
    if isinstance(configured, str):
        configured = [k for k in configured.split(",")]
    keys = tuple(k.strip() for k in configured if k and k.strip())
    if keys:
        return keys
    derived = hashlib.sha256(b"oms-credentials:" + settings.SECRET_KEY.encode()).digest()
    return (base64.urlsafe_b64encode(derived).decode(),)


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(f"OMS_CREDENTIALS_KEYS: {exc} (make one with Fernet.generate_key()).") from None


def seal(text: str) -> str:
    """The stored form of a secret ("" stays "")."""
    if not text:
        return ""
    return PREFIX + _fernet(_keys()).encrypt(text.encode()).decode()


def unseal(stored: str) -> str:
    """The secret of a stored value (one without the prefix is returned as it is)."""
    if not stored or not stored.startswith(PREFIX):
        return stored or ""
    return _open(_keys(), stored)


def _open(keys: tuple[str, ...], stored: str) -> str:
    try:
        return _fernet(keys).decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "A stored credential cannot be decrypted with OMS_CREDENTIALS_KEYS (or the key derived from "
            "SECRET_KEY): put the old key back (after the new one) or enter the credential again."
        ) from None


def reseal(stored: str) -> str:
    """The value encrypted with the first key (``rotate_credentials``)."""
    return seal(unseal(stored))


def _readable(value: str) -> str:
    """``unseal`` for a field being read: a value no key opens reads as empty (the pages then show the
    credential as not set, so a person enters it again) and is logged, instead of failing every query.

    What was opened is remembered (``_opened``), keyed by the stored value and the keys: a consumer that reads a
    connection every round decrypts it once, and a changed credential (a new token: every seal differs) or a
    changed key list is a new entry, so a change is never missed."""
    if not value or not value.startswith(PREFIX):
        return value or ""
    try:
        return _opened(_keys(), value)
    except SecretUnreadable as exc:
        logger.error("%s", exc)
        return ""


@lru_cache(maxsize=OPENED_MAX)
def _opened(keys: tuple[str, ...], stored: str) -> str:
    """``stored`` opened with ``keys`` (a failure is not remembered)."""
    return _open(keys, stored)


def vault_fields(model) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField | EncryptedJSONField)]


class EncryptedTextField(models.TextField):
    """One secret, encrypted in the database, plain text in Python."""

    def from_db_value(self, value, expression, connection):
        return _readable(value) if value is not None else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return seal(value) if value else (value or "")


class EncryptedJSONField(models.TextField):
    """A dict of credentials, encrypted in the database as one JSON text."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return {}
        text = _readable(value)
        try:
            loaded = json.loads(text)
        except ValueError:
            return {}
        return loaded if isinstance(loaded, dict) else {}

    def to_python(self, value):
        if isinstance(value, dict):
            return value
        if not value:
            return {}
        try:
            loaded = json.loads(value)
        except (TypeError, ValueError):
            return {}
        return loaded if isinstance(loaded, dict) else {}

    def get_prep_value(self, value):
        if isinstance(value, str):
            value = self.to_python(value)
        return seal(json.dumps(value or {}, sort_keys=True))

    def value_to_string(self, obj):  # dumpdata: never the secret
        return ""
