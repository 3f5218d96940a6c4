"""Names in Han characters and pinyin: romanisation and search tokens.

Names are stored encrypted, so search runs on a blind index of tokens (``core.crypto``): each Han
character, each pinyin syllable (tone marks dropped, ü written v), every run of consecutive
syllables ("xiaowei", "zhangxiaowei"), the initials ("zxw"), and each Latin word.  A query matches
when every one of its tokens is among the record's tokens.
"""

from __future__ import annotations

import re
import unicodedata

from pypinyin import lazy_pinyin

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[a-z0-9]+")


def has_han(text: str) -> bool:
    return bool(_HAN.search(text))


def normalise_latin(text: str) -> str:
    """Lower case, no tone marks, ü (or u:) as v, anything not a letter or digit a space."""
    text = text.lower().replace("ü", "v").replace("u:", "v")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(_WORD.findall(text))


def to_pinyin(name: str) -> str:
    """Toneless pinyin, syllables separated by spaces: ``张小伟`` → ``zhang xiao wei``."""
    syllables = [s for s in lazy_pinyin(name.strip(), v_to_u=False) if s.strip()]
    return normalise_latin(" ".join(syllables))


def _syllable_runs(syllables: list[str]) -> set[str]:
    runs: set[str] = set()
    for i in range(len(syllables)):
        for j in range(i + 1, min(len(syllables), i + 5) + 1):
            runs.add("".join(syllables[i:j]))
    return runs


def name_tokens(*names: str) -> set[str]:
    """Every search token of one or more names (Han and/or Latin spellings)."""
    tokens: set[str] = set()
    for name in names:
        if not name or not name.strip():
            continue
        han = _HAN.findall(name)
        tokens.update(han)
        if han:
            tokens.add("".join(han))
        syllables = to_pinyin(name).split() if han else normalise_latin(name).split()
        tokens.update(_syllable_runs(syllables))
        if len(syllables) > 1:
            tokens.add("".join(s[0] for s in syllables))
    return tokens


def query_tokens(query: str) -> set[str]:
    """The tokens a record must all carry to match ``query``."""
    tokens: set[str] = set(_HAN.findall(query))
    latin = _HAN.sub(" ", query)
    tokens.update(normalise_latin(latin).split())
    return tokens
