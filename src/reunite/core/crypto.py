"""Field-level encryption at rest and blind indexes for searching encrypted values.

Values are encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under ``FIELD_ENCRYPTION_KEYS``;
the first key encrypts, every key decrypts, so keys can be rotated.  Because ciphertext cannot be
searched, a *blind index* stores keyed HMACs of normalised search tokens instead: equality search
works, the tokens reveal nothing without the key.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

_PREFIX = "enc1:"


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is not set.")
    return MultiFernet([Fernet(key.encode()) for key in keys])


def encrypt_text(value: str) -> str:
    token = _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).encrypt(value.encode("utf-8"))
    return _PREFIX + token.decode("ascii")


def decrypt_text(stored: str) -> str:
    if not stored.startswith(_PREFIX):
        raise ValueError("value is not encrypted with this scheme")
    try:
        plain = _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).decrypt(
            stored[len(_PREFIX) :].encode("ascii")
        )
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "An encrypted field could not be decrypted: FIELD_ENCRYPTION_KEY does not match."
        ) from exc
    return plain.decode("utf-8")


def blind_token(token: str) -> str:
    """A short keyed digest of one normalised search token (16 hex characters)."""
    key = hashlib.sha256(("blind-index:" + settings.FIELD_ENCRYPTION_KEYS[0]).encode()).digest()
    return hmac.new(key, token.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


class EncryptedTextField(models.TextField):
    """A text field stored encrypted; empty strings stay empty so "blank" remains queryable."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt_text(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt_text(str(value))

    def get_lookup(self, lookup_name: str) -> Any:
        # Ciphertext is randomised: any lookup but isnull would silently match nothing.
        if lookup_name != "isnull":
            raise TypeError(f"encrypted fields cannot be searched with '{lookup_name}'")
        return super().get_lookup(lookup_name)
