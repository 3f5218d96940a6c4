"""``reunite kinship``: the kinship engine on the command line, for experts and other tools.

Subcommands (each prints exactly one JSON object on stdout and exits 0):

``reunite kinship lr CASE.json``
    The likelihood ratio of a case file (``-`` reads the case from stdin), as
    ``{"lr": float, "log10_lr": float | null, "per_locus": {locus: float}, "notes": [str]}``.
    The case format is :mod:`reunite.kinship.case` (``docs/kinship-case-format.md``).
``reunite kinship tables``
    The shipped population tables with their provenance: ``{"tables": [{...}]}``.

Output. Numbers are printed with ``json.dumps`` (the shortest repr that reads back to the same
double). JSON has no infinity, so ``lr`` is kept within the positive doubles: an LR beyond the
largest double is printed as ``1.7976931348623157e308`` and one below the smallest positive
double as ``5e-324``, each with a note; ``log10_lr`` always holds the exact magnitude. So
``lr == 0`` exactly when ``log10_lr`` is ``null``: an exclusion (a locus incompatible with the
hypothesis), never an underflow.

Errors. Bad input (a :class:`~reunite.kinship.errors.KinshipInputError`, malformed JSON, a
missing or unreadable file, a wrong subcommand or argument count) prints nothing on stdout and
one line ``reunite kinship: error: <message>`` on stderr, exit status 2. A bug in the engine
prints one line ``reunite kinship: internal error: ...`` and exits 1. Neither prints a traceback.

Subcommands: ``lr`` (the contract), ``plan`` (search planning) and ``tables``; adding one is one
function decorated with :func:`command`. This module never imports Django: ``reunite kinship``
is dispatched from :mod:`reunite.cli` before Django is set up.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from reunite.kinship.case import (
    MAX_CASE_BYTES,
    load_case,
    parse_case_json,
    prepare_case,
    run_case,
)
from reunite.kinship.errors import KinshipInputError
from reunite.kinship.frequencies import list_tables, load_table
from reunite.kinship.plan import DEFAULT_SIMULATIONS, DEFAULT_THRESHOLD, plan_search
from reunite.kinship.results import LRResult

__all__ = ["COMMANDS", "Command", "build_parser", "command", "lr_document", "main"]

PROG = "reunite kinship"
#: Printed for ``lr`` when the LR exceeds the largest double.
LARGEST_DOUBLE = sys.float_info.max
#: Printed for ``lr`` when a positive LR is below the smallest positive double.
SMALLEST_DOUBLE = 5e-324

Configure = Callable[[argparse.ArgumentParser], None]
Run = Callable[[argparse.Namespace], Mapping[str, Any]]


class _UsageError(Exception):
    """A wrong command line (argparse's complaint), reported as one line with exit 2."""


class _Parser(argparse.ArgumentParser):
    """argparse without its multi-line usage dump and ``sys.exit`` on a bad command line."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


@dataclass(frozen=True)
class Command:
    """A subcommand: ``name``, one-line ``help``, ``configure`` adds its arguments to its parser,
    ``run`` takes the parsed arguments and returns the JSON object to print."""

    name: str
    help: str
    configure: Configure
    run: Run


#: The subcommands, in the order ``--help`` lists them.
COMMANDS: dict[str, Command] = {}


def _no_arguments(parser: argparse.ArgumentParser) -> None:
    del parser


def command(name: str, help: str, configure: Configure = _no_arguments) -> Callable[[Run], Run]:
    """Register the decorated function as the subcommand ``name`` (see :class:`Command`).

    The function returns a JSON-able mapping (finite floats only); raising
    :class:`KinshipInputError` gives exit status 2 with its message.
    """

    def register(run: Run) -> Run:
        if name in COMMANDS:
            raise RuntimeError(f"subcommand {name!r} registered twice")
        COMMANDS[name] = Command(name, help, configure, run)
        return run

    return register


# ---------------------------------------------------------------------------------------------
# lr
# ---------------------------------------------------------------------------------------------


def _finite(value: float, what: str) -> float:
    if not math.isfinite(value):
        raise ArithmeticError(f"{what} is {value!r}, which JSON cannot carry")
    return value


def lr_document(result: LRResult) -> dict[str, Any]:
    """The printed JSON object of an LR: ``result.as_dict()`` with ``lr`` kept within the
    positive doubles (module docstring) and a note when it was clamped."""
    document = result.as_dict()
    notes = list(result.notes)
    lr = float(result.lr)
    log10_lr = result.log10_lr
    if log10_lr is not None:
        _finite(log10_lr, "log10_lr")
        if lr == math.inf:
            lr = LARGEST_DOUBLE
            notes.append(
                f"lr is printed as {LARGEST_DOUBLE!r}, the largest double; the LR is "
                f"10^{log10_lr:.4f} (log10_lr)"
            )
        elif lr == 0.0:
            lr = SMALLEST_DOUBLE
            notes.append(
                f"lr is printed as {SMALLEST_DOUBLE!r}, the smallest positive double; the LR is "
                f"10^{log10_lr:.4f} (log10_lr)"
            )
    elif lr != 0.0:
        raise ArithmeticError(f"log10_lr is missing for lr {lr!r}")
    document["lr"] = _finite(lr, "lr")
    document["per_locus"] = {
        locus: _finite(float(value), f"the LR at {locus}")
        for locus, value in result.per_locus.items()
    }
    document["notes"] = notes
    return document


def _configure_lr(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "case",
        metavar="CASE.json",
        help=f"the case file ('-' reads stdin); at most {MAX_CASE_BYTES} bytes",
    )


@command("lr", "likelihood ratio of a case file, as one JSON object", _configure_lr)
def lr_command(args: argparse.Namespace) -> Mapping[str, Any]:
    """``reunite kinship lr CASE.json``."""
    if args.case == "-":
        raw = sys.stdin.buffer.read(MAX_CASE_BYTES + 1)
        data = parse_case_json(raw, source="stdin")
    else:
        data = load_case(args.case)
    return lr_document(run_case(data))


# ---------------------------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------------------------


@command("tables", "the shipped population frequency tables and their provenance")
def tables_command(args: argparse.Namespace) -> Mapping[str, Any]:
    """``reunite kinship tables``: id, population, sample sizes, floor, source, licence,
    citation, caveats and loci of each shipped table."""
    del args
    tables = []
    for info in list_tables():
        tables.append(
            {
                "id": info.id,
                "population": info.population,
                "sample_size": info.sample_size,
                "sample_size_by_locus": dict(info.sample_size_by_locus),
                "sample_size_note": info.sample_size_note,
                "min_frequency": info.min_frequency,
                "source": info.source,
                "licence": info.licence,
                "citation": info.citation,
                "caveats": list(info.caveats),
                "loci": list(load_table(info.id).locus_names),
            }
        )
    return {"tables": tables}


# ---------------------------------------------------------------------------------------------
# plan
# ---------------------------------------------------------------------------------------------

PLAN_KEYS = ("threshold", "simulations", "seed", "candidates")


def _configure_plan(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "case",
        metavar="CASE.json",
        help="a pedigree case ('-' reads stdin); the unknown profile is optional, and an "
        f"optional 'plan' object sets {', '.join(PLAN_KEYS)}",
    )


@command(
    "plan", "search planning: expected LR, exclusion power, whom to sample next", _configure_plan
)
def plan_command(args: argparse.Namespace) -> Mapping[str, Any]:
    """``reunite kinship plan CASE.json``: :func:`reunite.kinship.plan.plan_search` on the
    case's pedigree and typed relatives, as one JSON object."""
    if args.case == "-":
        data = parse_case_json(sys.stdin.buffer.read(MAX_CASE_BYTES + 1), source="stdin")
    else:
        data = load_case(args.case)
    options = data.get("plan", {}) if isinstance(data, Mapping) else {}
    if not isinstance(options, Mapping):
        raise KinshipInputError(f"'plan' must be an object with {', '.join(PLAN_KEYS)}")
    for key in options:
        if key not in PLAN_KEYS:
            raise KinshipInputError(
                f"unknown key {key!r} in 'plan'; allowed: {', '.join(PLAN_KEYS)}"
            )
    seed = options.get("seed", 1)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise KinshipInputError("'plan.seed' must be a non-negative integer")
    candidates = options.get("candidates")
    if candidates is not None and (
        not isinstance(candidates, list) or not all(isinstance(c, str) for c in candidates)
    ):
        raise KinshipInputError("'plan.candidates' must be a list of person ids")
    case = prepare_case(data, for_plan=True)
    assert case.pedigree is not None and case.missing is not None
    result = plan_search(
        case.pedigree,
        case.missing,
        case.references,
        case.frequencies,
        case.theta,
        case.mutation,
        threshold=options.get("threshold", DEFAULT_THRESHOLD),
        simulations=options.get("simulations", DEFAULT_SIMULATIONS),
        seed=seed,
        candidates=candidates,
    )
    document = result.as_dict()
    document["notes"] = [*case.notes, *document["notes"]]
    return document


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The ``reunite kinship`` parser with one subparser per registered :class:`Command`."""
    parser = _Parser(
        prog=PROG,
        description="Kinship likelihood ratios from STR profiles (prints JSON on stdout).",
        allow_abbrev=False,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for spec in COMMANDS.values():
        sub = subparsers.add_parser(
            spec.name, help=spec.help, description=spec.help, allow_abbrev=False
        )
        spec.configure(sub)
        sub.set_defaults(run=spec.run)
    return parser


def _one_line(text: str) -> str:
    """``text`` on one printable line: control and other unprintable characters escaped."""
    out = []
    for char in " ".join(text.split()):
        if char.isprintable():
            out.append(char)
        else:
            out.append(char.encode("unicode_escape").decode("ascii"))
    return "".join(out)


def _fail(kind: str, message: str, code: int) -> int:
    line = _one_line(f"{PROG}: {kind}: {message}")
    sys.stderr.write(line.encode("utf-8", "backslashreplace").decode("utf-8") + "\n")
    sys.stderr.flush()
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``reunite kinship`` with ``argv`` (default ``sys.argv[1:]``); return the exit status:
    0 on success, 2 for bad input or a bad command line, 1 for an internal error."""
    args_in = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(args_in)
        document = args.run(args)
        text = json.dumps(document, allow_nan=False)
    except SystemExit as leaving:  # --help
        return leaving.code if isinstance(leaving.code, int) else 0
    except KinshipInputError as error:
        return _fail("error", str(error), 2)
    except _UsageError as error:
        return _fail("error", f"{error} (see '{PROG} --help')", 2)
    except RecursionError:
        return _fail("error", "the input is nested too deeply", 2)
    except MemoryError:
        return _fail("error", "the input is too large to process", 2)
    except Exception as error:  # a bug: one line, no traceback, a distinct status
        return _fail("internal error", f"{type(error).__name__}: {error}", 1)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
