"""A JSON value stored encrypted at rest (genotypes, import results).

``core.crypto.EncryptedTextField`` encrypts text; this field serialises a JSON value first (keys
kept in the order given, so a canonical mapping stays canonical), then encrypts it the same way.
Ciphertext cannot be searched: every lookup but ``isnull`` is refused.
"""

from __future__ import annotations

import json
from typing import Any

from reunite.core.crypto import EncryptedTextField, encrypt_text


class EncryptedJSONField(EncryptedTextField):
    """A ``dict``/``list`` kept as Fernet-encrypted JSON; reads back as the same value."""

    # For django-stubs: the attribute holds the decoded JSON value, not text.
    _pyi_private_set_type: Any
    _pyi_private_get_type: Any

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        text = super().from_db_value(value, expression, connection)
        if text is None:
            return None
        if text == "":
            return self.get_default()
        return json.loads(text)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value) if value else self.get_default()
        return value

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        # Not through TextField.get_prep_value: its to_python would turn the value into a str.
        return encrypt_text(json.dumps(value, ensure_ascii=False, separators=(",", ":")))

    def value_to_string(self, obj: Any) -> str:
        return json.dumps(self.value_from_object(obj), ensure_ascii=False)
