"""Pinyin romanisation and the search tokens behind the blind name index."""

from __future__ import annotations

import pytest

from reunite.core.names import name_tokens, normalise_latin, query_tokens, to_pinyin


@pytest.mark.parametrize(
    ("name", "pinyin"),
    [
        pytest.param("张小伟", "zhang xiao wei", id="three-syllables"),
        pytest.param("吕芳", "lv fang", id="u-umlaut-as-v"),
        pytest.param("欧阳娜娜", "ou yang na na", id="compound-surname"),
        pytest.param("  李 明 ", "li ming", id="spaces"),
    ],
)
def test_to_pinyin(name: str, pinyin: str) -> None:
    assert to_pinyin(name) == pinyin


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("Zhāng Xiǎowěi", "zhang xiaowei"),
        ("LÜ Fang", "lv fang"),
        ("Lu: Fang", "lv fang"),
        ("O'Brien-Smith", "o brien smith"),
    ],
)
def test_normalise_latin(text: str, normal: str) -> None:
    assert normalise_latin(text) == normal


def test_name_tokens_cover_han_syllables_runs_and_initials() -> None:
    tokens = name_tokens("张小伟")
    for token in [
        "张",
        "小",
        "伟",
        "张小伟",
        "zhang",
        "xiao",
        "wei",
        "xiaowei",
        "zhangxiaowei",
        "zxw",
    ]:
        assert token in tokens
    assert "weixiao" not in tokens


def test_latin_only_name_is_tokenised_by_words() -> None:
    tokens = name_tokens("Maria Gonzalez")
    assert {"maria", "gonzalez", "mariagonzalez", "mg"} <= tokens


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("张小伟", {"张", "小", "伟"}),
        ("zhang xiaowei", {"zhang", "xiaowei"}),
        ("Zhāng", {"zhang"}),
        ("张 wei", {"张", "wei"}),
        ("", set()),
    ],
)
def test_query_tokens(query: str, expected: set[str]) -> None:
    assert query_tokens(query) == expected


@pytest.mark.parametrize(
    "query", ["张小伟", "zhang xiaowei", "zhangxiaowei", "Zhāng Xiǎowěi", "xiao wei", "zxw"]
)
def test_every_query_form_is_covered_by_the_record_tokens(query: str) -> None:
    assert query_tokens(query) <= name_tokens("张小伟")


def test_a_different_name_does_not_match() -> None:
    assert not query_tokens("zhang xiaoming") <= name_tokens("张小伟")
