"""The Simplified Chinese catalogue is complete, compiled, and keeps every placeholder.

The .po file is read with a small parser written here and the .mo file with a small reader of
the GNU binary format, so the checks need neither the gettext tools nor a database.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.utils import translation

import reunite

CATALOGUE_DIR = Path(reunite.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_FILE = CATALOGUE_DIR / "django.po"
MO_FILE = CATALOGUE_DIR / "django.mo"

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(".*")\s*$')


@dataclass
class PoEntry:
    line: int
    flags: set[str] = field(default_factory=set)
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"django.po line {self.line}: {self.msgid!r}"


def _unquote(token: str) -> str:
    token = token.strip()
    if len(token) < 2 or not (token.startswith('"') and token.endswith('"')):
        raise ValueError(f"not a quoted PO string: {token!r}")
    return re.sub(r"\\(.)", lambda m: _ESCAPES[m.group(1)], token[1:-1])


def parse_po(text: str) -> list[PoEntry]:
    """Entries of a PO file in order (obsolete ``#~`` entries are skipped)."""
    entries: list[PoEntry] = []
    current: PoEntry | None = None
    target: tuple[str, int] | None = None
    for number, raw in enumerate([*text.splitlines(), ""], start=1):
        line = raw.rstrip("\n")
        if not line.strip():
            if current is not None:
                entries.append(current)
            current, target = None, None
            continue
        if line.startswith("#~"):
            continue
        if current is None:
            current = PoEntry(line=number)
        if line.startswith("#,"):
            current.flags.update(f.strip() for f in line[2:].split(",") if f.strip())
            continue
        if line.startswith("#"):
            continue
        match = _KEYWORD.match(line)
        if match:
            keyword, index, value = match.group(1), match.group(2), _unquote(match.group(3))
            if keyword == "msgstr":
                target = ("msgstr", int(index) if index is not None else 0)
                current.msgstr[target[1]] = value
            else:
                target = (keyword, 0)
                setattr(current, keyword, value)
            continue
        if not line.startswith('"') or target is None:
            raise ValueError(f"django.po line {number}: cannot parse {line!r}")
        if target[0] == "msgstr":
            current.msgstr[target[1]] += _unquote(line)
        else:
            setattr(current, target[0], getattr(current, target[0]) + _unquote(line))
    return entries


def read_mo(data: bytes) -> dict[str, str]:
    """The catalogue of a GNU .mo file: key (``ctxt\\x04``msgid``\\0``plural) -> translation."""
    for order in ("<", ">"):
        if struct.unpack(order + "I", data[:4])[0] == 0x950412DE:
            break
    else:
        raise ValueError("not a GNU .mo file")
    _revision, count, originals, translations = struct.unpack(order + "4I", data[4:20])
    catalogue: dict[str, str] = {}
    for i in range(count):
        length, offset = struct.unpack(
            order + "2I", data[originals + 8 * i : originals + 8 * i + 8]
        )
        key = data[offset : offset + length].decode("utf-8")
        start = translations + 8 * i
        length, offset = struct.unpack(order + "2I", data[start : start + 8])
        catalogue[key] = data[offset : offset + length].decode("utf-8")
    return catalogue


def expected_mo_catalogue(entries: list[PoEntry]) -> dict[str, str]:
    """What msgfmt puts in the .mo for these entries: translated, non-fuzzy ones only."""
    catalogue: dict[str, str] = {}
    for entry in entries:
        if "fuzzy" in entry.flags and entry.msgid != "":
            continue
        forms = [entry.msgstr[i] for i in sorted(entry.msgstr)]
        if not all(forms):
            continue
        key = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        if entry.msgid_plural is not None:
            key += "\0" + entry.msgid_plural
        catalogue[key] = "\0".join(forms)
    return catalogue


@pytest.fixture(scope="module")
def entries() -> list[PoEntry]:
    return parse_po(PO_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def messages(entries: list[PoEntry]) -> list[PoEntry]:
    return [e for e in entries if e.msgid != ""]


def test_the_header_declares_simplified_chinese_utf8_and_one_plural_form(
    entries: list[PoEntry],
) -> None:
    header = entries[0]
    assert header.msgid == ""
    assert "fuzzy" not in header.flags
    fields = dict(line.split(": ", 1) for line in header.msgstr[0].splitlines() if ": " in line)
    assert fields["Language"] == "zh_Hans"
    assert fields["Content-Type"] == "text/plain; charset=UTF-8"
    assert fields["Plural-Forms"] == "nplurals=1; plural=0;"


def test_the_catalogue_is_not_empty(messages: list[PoEntry]) -> None:
    assert len(messages) > 400
    assert len({(e.msgctxt, e.msgid) for e in messages}) == len(messages)


def test_no_entry_is_fuzzy(messages: list[PoEntry]) -> None:
    assert [e.label for e in messages if "fuzzy" in e.flags] == []


def test_every_entry_is_translated(messages: list[PoEntry]) -> None:
    untranslated = [e.label for e in messages if not e.msgstr or not all(e.msgstr.values())]
    assert untranslated == []


def test_plural_entries_have_exactly_the_one_chinese_form(messages: list[PoEntry]) -> None:
    plurals = [e for e in messages if e.msgid_plural is not None]
    assert plurals, "the catalogue is expected to hold plural messages"
    assert [e.label for e in plurals if sorted(e.msgstr) != [0]] == []
    assert [e.label for e in messages if e.msgid_plural is None and sorted(e.msgstr) != [0]] == []


_PRINTF = re.compile(r"%(?:\((?P<name>[^)]+)\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa%]")
_NAMED = re.compile(r"%\((?P<name>[^)]+)\)[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa]")


def placeholders(text: str, *, python_format: bool) -> tuple[frozenset[str], tuple[str, ...]]:
    """(named placeholders as a set, positional ones in order) of a message.

    Outside python-format messages a lone ``%`` is plain text ("88.3% since …"), so only the
    unmistakable ``%(name)s`` form counts there.
    """
    if not python_format:
        return frozenset(m.group(0) for m in _NAMED.finditer(text)), ()
    named, positional = set(), []
    for m in _PRINTF.finditer(text):
        if m.group(0) == "%%":
            continue
        if m.group("name") is None:
            positional.append(m.group(0))
        else:
            named.add(m.group(0))
    return frozenset(named), tuple(positional)


def test_the_placeholder_parser_sees_what_it_should() -> None:
    assert placeholders("%(n)d of %(s).1f s, 100%%", python_format=True) == (
        frozenset({"%(n)d", "%(s).1f"}),
        (),
    )
    assert placeholders("%s and %d", python_format=True) == (frozenset(), ("%s", "%d"))
    assert placeholders("down 88.3% since %(year)s", python_format=False) == (
        frozenset({"%(year)s"}),
        (),
    )


def test_every_translation_keeps_the_placeholders_of_its_source(
    messages: list[PoEntry],
) -> None:
    wrong = []
    for entry in messages:
        python_format = "python-format" in entry.flags
        source = entry.msgid if entry.msgid_plural is None else entry.msgid_plural
        expected = placeholders(source, python_format=python_format)
        if entry.msgid_plural is not None:
            singular = placeholders(entry.msgid, python_format=python_format)
            expected = (expected[0] | singular[0], expected[1])
        for index, text in entry.msgstr.items():
            got = placeholders(text, python_format=python_format)
            if got != expected:
                wrong.append(f"{entry.label} msgstr[{index}]: {got} instead of {expected}")
    assert wrong == []


def test_no_translation_carries_template_syntax(messages: list[PoEntry]) -> None:
    # blocktranslate variables appear as %(name)s; a "{{ name }}" in a msgstr would be
    # printed literally.
    assert [
        e.label for e in messages if any("{{" in s or "{%" in s for s in e.msgstr.values())
    ] == []


def _without_creation_date(catalogue: dict[str, str]) -> dict[str, str]:
    # Recent msgfmt versions leave POT-Creation-Date out of the compiled header, older ones
    # keep it; it says nothing about the translations.
    header = "".join(
        line
        for line in catalogue.get("", "").splitlines(keepends=True)
        if not line.startswith("POT-Creation-Date:")
    )
    return {**catalogue, "": header}


def test_the_compiled_catalogue_matches_the_po_file(entries: list[PoEntry]) -> None:
    assert MO_FILE.exists(), "run: reunite compilemessages -l zh_Hans"
    compiled = _without_creation_date(read_mo(MO_FILE.read_bytes()))
    expected = _without_creation_date(expected_mo_catalogue(entries))
    stale = sorted(
        k for k in expected.keys() | compiled.keys() if expected.get(k) != compiled.get(k)
    )
    assert stale == [], "django.mo is out of date: run reunite compilemessages -l zh_Hans"


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext msgfmt is not installed")
def test_msgfmt_accepts_the_po_file_with_all_checks(tmp_path: Path) -> None:
    msgfmt = shutil.which("msgfmt")
    assert msgfmt is not None
    result = subprocess.run(
        [msgfmt, "--check", "--statistics", "-o", str(tmp_path / "out.mo"), str(PO_FILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "LC_ALL": "C", "LANGUAGE": ""},
    )
    assert result.returncode == 0, result.stderr
    assert "fuzzy" not in result.stderr and "untranslated" not in result.stderr, result.stderr
    assert re.fullmatch(r"\d+ translated messages?\.\n", result.stderr), result.stderr


@pytest.mark.parametrize(
    ("source", "chinese"),
    [
        ("Sign out", "退出登录"),
        ("Sign in", "登录"),
        ("Missing persons", "失踪人员"),
        ("Persons of unknown origin", "身份不明人员"),
        ("Search", "搜索"),
        ("Full name", "姓名"),
        ("Save report", "保存报告"),
        ("Audit log", "审计日志"),
        ("Jurisdiction", "辖区"),
        ("Investigator", "侦查员"),
        ("Supervisor", "主管领导"),
        ("DNA technician", "DNA检验员"),
        ("Owning unit", "主办单位"),
    ],
)
def test_key_strings_translate_when_chinese_is_active(source: str, chinese: str) -> None:
    with translation.override("zh-hans"):
        assert translation.gettext(source) == chinese
    with translation.override("en"):
        assert translation.gettext(source) == source


def test_plural_and_formatted_messages_translate_when_chinese_is_active() -> None:
    with translation.override("zh-hans"):
        for n in (1, 2, 17):
            text = translation.ngettext("%(n)s record found.", "%(n)s records found.", n)
            assert text % {"n": n} == f"找到 {n} 条记录。"
        assert translation.gettext("Relative %(n)s") % {"n": 2} == "亲属 2"
