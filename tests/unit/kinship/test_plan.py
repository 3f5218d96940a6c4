"""Search planning: exact expectations against simulation, and the recommendation."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from reunite.kinship import (
    KinshipInputError,
    Pedigree,
    frequencies_for,
    load_table,
    parse_profile,
    relationship_pedigree,
)
from reunite.kinship.cli import main
from reunite.kinship.pairwise import pairwise_lr
from reunite.kinship.plan import plan_search

TABLE = load_table("nist_us_caucasian")
LOCI = list(TABLE.loci)[:12]
FAMILY = Pedigree.from_spec(
    [
        {"id": "MO", "sex": "F"},
        {"id": "FA", "sex": "M"},
        {"id": "MP", "sex": "M", "mother": "MO", "father": "FA"},
        {"id": "SIB", "sex": "F", "mother": "MO", "father": "FA"},
    ]
)


def _draw(rng: np.random.Generator) -> dict[str, list[str]]:
    genotype = {}
    for locus in LOCI:
        f = TABLE.loci[locus]
        genotype[locus] = list(rng.choice(f.alleles, 2, p=f.frequencies / f.frequencies.sum()))
    return genotype


def test_expectations_agree_with_gene_dropping() -> None:
    """The exact E[log10 LR | H1] and exclusion power of a parent–child search agree with a
    plain simulation of children and unrelated persons scored by the pairwise LR."""
    rng = np.random.default_rng(5)
    parent = _draw(rng)
    reference = parse_profile("A", parent)
    freqs = frequencies_for([reference], TABLE)
    pedigree, a, b = relationship_pedigree("parent-child")
    plan = plan_search(pedigree, b, {a: reference}, freqs, simulations=4000, seed=3)

    children, strangers = [], []
    for i in range(400):
        child = {locus: [parent[locus][rng.integers(2)], _draw(rng)[locus][0]] for locus in LOCI}
        children.append(parse_profile(f"C{i}", child))
        strangers.append(parse_profile(f"S{i}", _draw(rng)))
    everyone = frequencies_for([reference, *children, *strangers], TABLE)
    logs = [pairwise_lr(reference, c, everyone, "parent-child").log10_lr for c in children]
    assert all(value is not None for value in logs)
    mean = float(np.mean([value for value in logs if value is not None]))
    spread = float(np.std([value for value in logs if value is not None]))
    assert abs(mean - plan.current.expected_log10_lr) < 4 * spread / math.sqrt(len(logs))
    excluded = np.mean(
        [pairwise_lr(reference, s, everyone, "parent-child").lr == 0 for s in strangers]
    )
    assert abs(excluded - plan.current.exclusion_power) < 0.06
    assert 0.0 < plan.current.exclusion_power < 1.0


def test_the_father_is_recommended_over_a_sibling() -> None:
    rng = np.random.default_rng(6)
    mother = parse_profile("MO", _draw(rng))
    freqs = frequencies_for([mother], TABLE)
    plan = plan_search(FAMILY, "MP", {"MO": mother}, freqs, simulations=2000)
    assert [c.person for c in plan.candidates] == ["FA", "SIB"]
    assert plan.recommended is not None and plan.recommended.person == "FA"
    assert plan.candidates[0].gain > plan.candidates[1].gain > 0.0
    assert plan.candidates[0].summary.detection_rate >= plan.current.detection_rate
    again = plan_search(FAMILY, "MP", {"MO": mother}, freqs, simulations=2000)
    assert again.as_dict() == plan.as_dict()  # seeded: reproducible


def test_bad_planning_input() -> None:
    rng = np.random.default_rng(7)
    mother = parse_profile("MO", _draw(rng))
    freqs = frequencies_for([mother], TABLE)
    with pytest.raises(KinshipInputError, match="threshold must be a positive number"):
        plan_search(FAMILY, "MP", {"MO": mother}, freqs, threshold=0.0)
    with pytest.raises(KinshipInputError, match="simulations must be an integer"):
        plan_search(FAMILY, "MP", {"MO": mother}, freqs, simulations=0)
    with pytest.raises(KinshipInputError, match="at least one typed relative"):
        plan_search(FAMILY, "MP", {}, freqs)
    with pytest.raises(KinshipInputError, match="not in the pedigree"):
        plan_search(FAMILY, "NOBODY", {"MO": mother}, freqs)


def test_the_plan_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(8)
    case = {
        "population": "nist_us_caucasian",
        "profiles": {"MO": _draw(rng)},
        "pedigree": {"persons": FAMILY.as_spec(), "missing": "MP"},
        "plan": {"simulations": 500, "seed": 2, "threshold": 1000},
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(case), "utf-8")
    assert main(["plan", str(path)]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["recommended"] == "FA"
    assert document["threshold"] == 1000.0 and document["simulations"] == 500
    assert set(document["current"]) >= {"expected_log10_lr", "exclusion_power", "detection_rate"}

    for bad, message in [
        ({**case, "plan": {"simulations": -1}}, "simulations must be an integer"),
        ({**case, "plan": {"speed": 1}}, "unknown key 'speed' in 'plan'"),
        ({**case, "plan": []}, "'plan' must be an object"),
        ({k: v for k, v in case.items() if k != "pedigree"}, "planning needs a 'pedigree'"),
    ]:
        path.write_text(json.dumps(bad), "utf-8")
        assert main(["plan", str(path)]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert message in captured.err and captured.err.count("\n") == 1
