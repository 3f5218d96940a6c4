"""`reunite kinship` as tools call it: real processes for the contract, in-process for bad input.

A handful of tests start the real `reunite` console script (each start costs about 0.3 s); the
long list of bad inputs goes through `reunite.kinship.cli.main` in-process, which is the very
function the script calls. The worked examples of docs/kinship-case-format.md are run again and
compared with the outputs pasted there.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from reunite.kinship import STR_LOCI
from reunite.kinship.case import MAX_CASE_BYTES, run_case
from reunite.kinship.cli import lr_document, main
from reunite.kinship.results import LRResult
from tests.unit.kinship.test_case import CONTRACT_LITERAL, STEPWISE, TRIO_CASE, pair_case

ROOT = Path(__file__).resolve().parents[2]
REUNITE = Path(sys.executable).with_name("reunite")
DOC = ROOT / "docs" / "kinship-case-format.md"
PREFIX = "reunite kinship: error: "
KEYS = ["lr", "log10_lr", "per_locus", "notes"]


def _strict_json(text: str) -> Any:
    def refuse(name: str) -> None:
        raise AssertionError(f"non-JSON constant {name} in the output")

    return json.loads(text, parse_constant=refuse)


def _run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        # A Django set-up would fail on this: the kinship command must not attempt one.
        "DJANGO_SETTINGS_MODULE": "no.such.settings",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
    }
    return subprocess.run(
        [*args], input=stdin, capture_output=True, timeout=60, check=False, env=env
    )


def _assert_one_error_line(stdout: str | bytes, stderr: str | bytes, fragment: str) -> str:
    out = stdout.decode() if isinstance(stdout, bytes) else stdout
    err = stderr.decode() if isinstance(stderr, bytes) else stderr
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith(PREFIX), err
    assert "Traceback" not in err
    assert fragment in err, err
    return err


# ---------------------------------------------------------------------------------------------
# Real processes
# ---------------------------------------------------------------------------------------------


def test_reunite_kinship_lr_prints_the_contract_json(tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(TRIO_CASE), "utf-8")
    done = _run(str(REUNITE), "kinship", "lr", str(path))

    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    text = done.stdout.decode("ascii")
    assert text.endswith("\n") and text.count("\n") == 1
    document = _strict_json(text)
    assert list(document) == KEYS
    assert type(document["lr"]) is float and document["lr"] > 1e3
    assert type(document["log10_lr"]) is float
    assert all(type(value) is float for value in document["per_locus"].values())
    assert all(type(note) is str for note in document["notes"])
    # Full precision: the printed numbers are the engine's doubles.
    assert document == lr_document(run_case(TRIO_CASE))


def test_reunite_kinship_lr_reads_stdin_and_refuses_garbage_there() -> None:
    case = pair_case("parent-child", mutation=STEPWISE)
    done = _run(str(REUNITE), "kinship", "lr", "-", stdin=json.dumps(case).encode())
    assert done.returncode == 0, done.stderr
    assert _strict_json(done.stdout.decode()) == lr_document(run_case(case))

    garbage = _run(str(REUNITE), "kinship", "lr", "-", stdin=b"\x00\xff\xfe binary \x80")
    assert garbage.returncode == 2
    _assert_one_error_line(garbage.stdout, garbage.stderr, "stdin is not UTF-8 text")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["lr", "{missing}"], "no such file"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["lr", "{nan}"], "NaN is not a JSON number"),
    ],
)
def test_reunite_kinship_bad_input_is_one_line_and_status_2(
    tmp_path: Path, args: list[str], fragment: str
) -> None:
    nan = tmp_path / "nan.json"
    nan.write_bytes(b'{"theta": NaN}')
    filled = [a.format(missing=tmp_path / "missing.json", nan=nan) for a in args]
    done = _run(str(REUNITE), "kinship", *filled)
    assert done.returncode == 2
    _assert_one_error_line(done.stdout, done.stderr, fragment)


def test_python_m_reunite_kinship_never_imports_django() -> None:
    done = _run(sys.executable, "-X", "importtime", "-m", "reunite", "kinship", "tables")
    assert done.returncode == 0, done.stderr[-2000:]
    imported = [
        line.rsplit("|", 1)[-1].strip()
        for line in done.stderr.decode().splitlines()
        if line.startswith("import time:")
    ]
    assert "reunite.kinship.cli" in imported
    assert [name for name in imported if name.split(".")[0] in {"django", "ninja"}] == []
    tables = _strict_json(done.stdout.decode())["tables"]
    assert [table["id"] for table in tables] == sorted(table["id"] for table in tables)
    assert {"han_chinese", "nist_us_caucasian"} <= {table["id"] for table in tables}
    nist = next(table for table in tables if table["id"] == "nist_us_caucasian")
    assert nist["sample_size"] == 361 and "D3S1358" in nist["loci"]
    assert nist["source"] and nist["licence"] and nist["citation"]


# ---------------------------------------------------------------------------------------------
# In-process: the same main() the script runs
# ---------------------------------------------------------------------------------------------


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


DROP = object()


def _with(base: dict[str, Any], **changes: Any) -> bytes:
    """``base`` as JSON bytes with top-level (or ``ped_``-prefixed pedigree) keys changed, or
    removed when the value is :data:`DROP`."""
    case = json.loads(json.dumps(base))
    for key, value in changes.items():
        target, name = (case["pedigree"], key[4:]) if key.startswith("ped_") else (case, key)
        if value is DROP:
            del target[name]
        else:
            target[name] = value
    return json.dumps(case).encode()


PAIR = pair_case("parent-child")
A_PROFILE = {"D3S1358": ["15", "16"], "vWA": ["14", "17"]}
B_PROFILE = {"D3S1358": ["15", "17"], "vWA": ["17", "18"]}

BAD_INPUTS: list[tuple[str, bytes, str]] = [
    # The "Bad input" list.
    (
        "unknown locus",
        _with(PAIR, profiles={"A": {"D3S9999": ["15", "16"]}, "B": B_PROFILE}),
        "unknown locus 'D3S9999'",
    ),
    (
        "malformed allele",
        _with(PAIR, profiles={"A": {"vWA": ["15", "x7"]}, "B": B_PROFILE}),
        "malformed allele 'x7' at vWA",
    ),
    (
        "microvariant with two digits",
        _with(PAIR, profiles={"A": {"TH01": ["9.33", "6"]}, "B": B_PROFILE}),
        "malformed allele '9.33' at TH01",
    ),
    (
        "mixture",
        _with(PAIR, profiles={"A": {"vWA": ["15", "16", "17"]}, "B": B_PROFILE}),
        "mixture at locus vWA",
    ),
    (
        "frequencies beyond 1%",
        _with(
            PAIR,
            population=DROP,
            frequencies={"D3S1358": {"14": 0.2, "15": 0.3, "16": 0.3, "17": 0.15}},
            profiles={"A": {"D3S1358": ["15", "16"]}, "B": {"D3S1358": ["15", "17"]}},
        ),
        "sum to 0.95, more than 1% away from 1",
    ),
    (
        "pedigree loop",
        _with(
            TRIO_CASE,
            ped_persons=[
                {"id": "MO", "sex": "F", "mother": "MP", "father": "FA"},
                {"id": "FA", "sex": "M"},
                {"id": "MP", "sex": "F", "mother": "MO", "father": "FA"},
            ],
        ),
        "pedigree loop",
    ),
    (
        "a mother who is male",
        _with(
            TRIO_CASE,
            ped_persons=[
                {"id": "MO", "sex": "M"},
                {"id": "FA", "sex": "M"},
                {"id": "MP", "sex": "M", "mother": "MO", "father": "FA"},
            ],
        ),
        "sex conflict: 'MO' is the mother of 'MP' but has sex 'M'",
    ),
    (
        "amelogenin XY for a female person",
        _with(
            TRIO_CASE,
            profiles={
                "MO": {**TRIO_CASE["profiles"]["MO"], "AMEL": "XY"},
                "UNKNOWN": TRIO_CASE["profiles"]["UNKNOWN"],
            },
        ),
        "sex conflict: the profile of 'MO' shows amelogenin XY",
    ),
    (
        "missing person not in the pedigree",
        _with(TRIO_CASE, ped_missing="SON"),
        "the missing person 'SON' is not in the pedigree",
    ),
    ("theta 0.25", _with(PAIR, theta=0.25), "theta = 0.25 must lie in [0, 0.25)"),
    ("theta negative", _with(PAIR, theta=-1e-9), "must lie in [0, 0.25)"),
    (
        "mutation rate above 1",
        _with(PAIR, mutation={"model": "equal", "rate": 1.01}),
        "mutation rate must be in [0, 1], got 1.01",
    ),
    (
        "mutation rate below 0",
        _with(PAIR, mutation={"model": "equal", "rate": -0.001}),
        "mutation rate must be in [0, 1]",
    ),
    (
        "per-locus mutation rate2 above 1",
        _with(PAIR, mutation={"per_locus": {"vWA": {**STEPWISE, "rate2": 2}}}),
        "mutation rate2 must be in [0, 1]",
    ),
    # JSON itself.
    ("malformed JSON", b'{"theta": 0.1', "is not valid JSON"),
    ("trailing comma", b'{"theta": 0.1,}', "is not valid JSON"),
    ("NaN", b'{"theta": NaN}', "NaN is not a JSON number"),
    ("Infinity", b'{"profiles": {"A": {"vWA": [Infinity]}}}', "Infinity is not a JSON number"),
    ("float overflow", b'{"theta": 1e400}', "too large for a float"),
    ("duplicate keys", b'{"theta": 0, "theta": 0}', "duplicate key 'theta'"),
    ("empty file", b"", "is empty"),
    ("binary garbage", bytes(range(256)) * 4, "is not UTF-8 text"),
    ("top-level array", b"[]", "must be a JSON object"),
    ("deep nesting", b'{"profiles": ' + b"[" * 50_000, "nested too deeply"),
    # Shape and types.
    ("unknown top-level key", _with(PAIR, thetta=0.01), "unknown key 'thetta' in the case"),
    ("unknown pedigree key", _with(TRIO_CASE, ped_founders=[]), "unknown key 'founders'"),
    (
        "unknown person key",
        _with(TRIO_CASE, ped_persons=[{"id": "MO", "sex": "F", "age": 40}]),
        "unknown key 'age'",
    ),
    ("unknown mutation key", _with(PAIR, mutation={**STEPWISE, "step": 1}), "unknown key 'step'"),
    ("both modes: the literal contract example", json.dumps(CONTRACT_LITERAL).encode(), "not both"),
    ("neither mode", json.dumps({"population": "han_chinese"}).encode(), "needs 'relationship'"),
    ("no frequencies", _with(PAIR, population=DROP), "needs 'frequencies'"),
    ("population null", _with(PAIR, population=None), "'population' must be the id"),
    ("unknown table", _with(PAIR, population="mars"), "unknown population table 'mars'"),
    ("three profiles", _with(PAIR, profiles={"A": {}, "B": {}, "C": {}}), "exactly two profiles"),
    ("profiles a list", _with(PAIR, profiles=[A_PROFILE, B_PROFILE]), "profiles must map"),
    ("profile a string", _with(PAIR, profiles={"A": "x", "B": {}}), "must map locus names"),
    ("alleles a string", _with(PAIR, profiles={"A": {"vWA": "15"}, "B": {}}), "must be a list"),
    ("allele true", _with(PAIR, profiles={"A": {"vWA": [True]}, "B": {}}), "malformed allele"),
    ("theta a string", _with(PAIR, theta="0"), "theta must be a number"),
    ("theta null", _with(PAIR, theta=None), "theta must be a number"),
    ("relationship a number", _with(PAIR, relationship=1), "must be a relationship name"),
    ("kappa not summing to 1", _with(PAIR, relationship={"kappa": [1, 1, 0]}), "must sum to 1"),
    (
        "kappa with mutation",
        _with(PAIR, relationship={"kappa": [0, 1, 0]}, mutation=STEPWISE),
        "kappa relationship has no pedigree",
    ),
    ("mutation a string", _with(PAIR, mutation="stepwise"), "mutation must be an object"),
    ("frequencies a list", _with(PAIR, frequencies=[1]), "'frequencies' must be an object"),
    (
        "frequency a string",
        _with(PAIR, frequencies={"D3S1358": {"15": "0.5"}}),
        "frequency of allele 15 at D3S1358 must be a number",
    ),
    ("pedigree a list", _with(TRIO_CASE, pedigree=[]), "'pedigree' must be an object"),
    ("persons an object", _with(TRIO_CASE, ped_persons={}), "persons must be a list"),
    ("person sex", _with(TRIO_CASE, ped_persons=[{"id": "MO", "sex": "W"}]), "sex must be 'M'"),
    ("missing a number", _with(TRIO_CASE, ped_missing=3), "'pedigree.missing' must be"),
    ("unknown a list", _with(TRIO_CASE, ped_unknown=["X"]), "'pedigree.unknown' must be"),
    ("unknown names no profile", _with(TRIO_CASE, ped_unknown="Z"), "names no profile"),
]


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [pytest.param(raw, fragment, id=name) for name, raw, fragment in BAD_INPUTS],
)
def test_every_bad_input_is_one_line_on_stderr_and_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], raw: bytes, fragment: str
) -> None:
    path = tmp_path / "case.json"
    path.write_bytes(raw)
    code, out, err = _cli(capsys, "lr", str(path))
    assert code == 2, out
    _assert_one_error_line(out, err, fragment)


def test_a_file_over_the_size_limit_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:
        handle.write(b'{"profiles": {}, "pad": "')
        handle.truncate(MAX_CASE_BYTES + 10)
    code, out, err = _cli(capsys, "lr", str(path))
    assert code == 2
    _assert_one_error_line(out, err, "is larger than 10485760 bytes")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["lr"], "the following arguments are required: CASE.json"),
        (["lr", "a.json", "b.json"], "unrecognized arguments: b.json"),
        (["tables", "extra"], "unrecognized arguments: extra"),
        (["plot"], "invalid choice: 'plot'"),
        (["lr", "--bogus", "x"], "unrecognized arguments: --bogus"),
        (["lr", "{dir}"], "is a directory, not a case file"),
        (["lr", "{dir}/absent.json"], "no such file"),
    ],
)
def test_a_wrong_command_line_is_one_line_and_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], fragment: str
) -> None:
    code, out, err = _cli(capsys, *(a.format(dir=tmp_path) for a in args))
    assert code == 2
    _assert_one_error_line(out, err, fragment)


def test_control_characters_in_a_message_are_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "case.json"
    path.write_bytes(_with(PAIR, **{"\x1b[31mred\u2028": 1}))
    code, out, err = _cli(capsys, "lr", str(path))
    assert code == 2
    line = _assert_one_error_line(out, err, "unknown key")
    assert "\x1b" not in line and "\u2028" not in line


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(capsys, "--help")
    assert code == 0
    assert "lr" in out and "tables" in out


def test_frequencies_within_one_percent_run_with_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "case.json"
    frequencies = {"D3S1358": {"14": 0.2, "15": 0.3, "16": 0.3, "17": 0.196}}
    path.write_bytes(
        _with(
            PAIR,
            frequencies=frequencies,
            population="nist_us_caucasian",
            profiles={"A": {"D3S1358": ["15", "16"]}, "B": {"D3S1358": ["15", "17"]}},
        )
    )
    code, out, err = _cli(capsys, "lr", str(path))
    assert code == 0, err
    assert err == ""
    document = _strict_json(out)
    assert document["notes"] == [
        "'population' nist_us_caucasian ignored: the case gives 'frequencies'",
        "frequencies at D3S1358 in table case sum to 0.996; renormalised",
    ]
    assert document["lr"] == pytest.approx(0.996 / (4 * 0.3), rel=1e-12)


def test_an_exclusion_prints_lr_0_and_log10_null(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = json.loads(json.dumps(TRIO_CASE))
    del case["mutation"]
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case), "utf-8")
    code, out, _ = _cli(capsys, "lr", str(path))
    assert code == 0
    document = _strict_json(out)
    assert document["lr"] == 0.0 and document["log10_lr"] is None
    assert document["per_locus"]["D7S820"] == 0.0


#: Near the smallest frequencies the engine accepts (MIN_FREQUENCY = 1e-9): an identical
#: heterozygous pair gives LR 1/(2·2e-9·2e-9) = 1.25e17 per locus, so 20 loci pass the double range.
TINY = {"15": 2e-9, "16": 2e-9, "17": 1.0 - 4e-9}
TWENTY_LOCI = STR_LOCI[:20]


def test_an_lr_beyond_the_double_range_is_clamped_with_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    genotypes = {locus: ["15", "16"] for locus in TWENTY_LOCI}
    case = {
        "frequencies": {locus: TINY for locus in TWENTY_LOCI},
        "relationship": {"kappa": [0, 0, 1]},
        "profiles": {"A": genotypes, "B": genotypes},
    }
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case), "utf-8")
    code, out, _ = _cli(capsys, "lr", str(path))
    assert code == 0
    document = _strict_json(out)
    assert document["lr"] == sys.float_info.max
    assert document["log10_lr"] == pytest.approx(20 * math.log10(1 / (2 * 4e-18)), rel=1e-12)
    assert document["notes"][-1].startswith("lr is printed as 1.7976931348623157e+308")


def test_a_positive_lr_below_the_double_range_is_clamped_with_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = pair_case("parent-child", mutation={"model": "equal", "rate": 1e-200})
    case["profiles"] = {
        "A": {"D3S1358": ["15", "16"], "vWA": ["15", "16"]},
        "B": {"D3S1358": ["17", "18"], "vWA": ["17", "18"]},
    }
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case), "utf-8")
    code, out, _ = _cli(capsys, "lr", str(path))
    assert code == 0
    document = _strict_json(out)
    assert document["lr"] == 5e-324
    assert document["log10_lr"] < -308
    assert document["notes"][-1].startswith("lr is printed as 5e-324")


def test_lr_document_refuses_what_json_cannot_carry() -> None:
    with pytest.raises(ArithmeticError):
        lr_document(LRResult(lr=math.inf, log10_lr=math.inf, per_locus={"vWA": math.inf}))
    with pytest.raises(ArithmeticError):
        lr_document(LRResult(lr=2.0, log10_lr=math.log10(2.0), per_locus={"vWA": math.nan}))


# ---------------------------------------------------------------------------------------------
# The documentation's worked examples
# ---------------------------------------------------------------------------------------------

_BLOCK = re.compile(r"<!-- (case|output): ([\w-]+) -->\n```(?:json|console)\n(.*?)\n```", re.S)


def _doc_examples() -> dict[str, dict[str, str]]:
    examples: dict[str, dict[str, str]] = {}
    for kind, name, body in _BLOCK.findall(DOC.read_text("utf-8")):
        examples.setdefault(name, {})[kind] = body
    return examples


def test_the_documentation_has_three_worked_examples() -> None:
    examples = _doc_examples()
    assert sorted(examples) == ["pairwise-theta", "parent-child-stepwise", "trio"]
    assert all(set(parts) == {"case", "output"} for parts in examples.values())


@pytest.mark.parametrize("name", ["pairwise-theta", "parent-child-stepwise", "trio"])
def test_the_documented_outputs_are_what_the_command_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    example = _doc_examples()[name]
    command, printed = example["output"].split("\n", 1)
    assert command == f"$ reunite kinship lr {name}.json"
    path = tmp_path / f"{name}.json"
    path.write_text(example["case"], "utf-8")
    code, out, err = _cli(capsys, "lr", str(path))
    assert code == 0, err
    document, documented = _strict_json(out), _strict_json(printed)
    assert list(document) == KEYS
    assert document["notes"] == documented["notes"]
    assert list(document["per_locus"]) == list(documented["per_locus"])
    # The engine may be re-optimised; the numbers must stay the same to rounding.
    for locus, value in documented["per_locus"].items():
        assert document["per_locus"][locus] == pytest.approx(value, rel=1e-12)
    assert document["lr"] == pytest.approx(documented["lr"], rel=1e-12)
    assert document["log10_lr"] == pytest.approx(documented["log10_lr"], rel=1e-12)
