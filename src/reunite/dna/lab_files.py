"""Reading the genotype files a laboratory exports: GeneMapper ID-X tables and a plain CSV.

Pure functions (no database): bytes in, one :class:`FileRow` per sample × marker out, plus a
:class:`RowProblem` for each row that cannot even be read.  What a row *means* (is the locus
known, are the alleles valid, which sample is it) is decided by ``imports.import_profiles``.

GeneMapper ID-X, tab-delimited (``file_format="genemapper"``)
-------------------------------------------------------------
* **Long layout**, one row per sample × marker: columns ``Sample Name``, ``Marker`` and
  ``Allele 1`` … ``Allele n``; every other column (``Dye``, ``Height n``, ``Size n``,
  ``Data Point n``, ``ADO``, ``UD1``, ``Remark``, ``Sample File`` …) is ignored.  R-style dotted
  headers (``Sample.Name``, ``Allele.1``) are the same columns: headers are compared without
  case, spaces, dots, dashes or underscores.  ``NA`` in an allele cell means empty.
* **Wide layout**, one row per sample: ``Sample Name`` then one column per marker whose cell is a
  comma-separated allele list (``12, 13, , ,``); the ``Height`` columns are ignored.
* CRLF or LF line endings, a trailing tab, no final newline, UTF-8 (with or without a byte-order
  mark) or UTF-16 with a byte-order mark.

Plain CSV (``file_format="csv"``)
---------------------------------
Comma-separated, RFC 4180 quoting, UTF-8, a header naming exactly these four columns (any order,
any case)::

    sample_id,locus,allele1,allele2
    S-2026-0001,D3S1358,15,16
    S-2026-0001,TH01,9.3,
    S-2026-0001,AMEL,X,Y

One row per sample and locus; ``allele2`` empty means a homozygote (``TH01`` above is 9.3/9.3);
both empty means the locus was not typed.  Locus names may be written in any accepted spelling
(``vWA``, ``VWA``, ``Penta_E``); amelogenin is the locus ``AMEL`` with ``X``/``Y``.  Any other
column is an error, so that a column meant for something else is never silently dropped.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

from reunite.kinship import KinshipInputError
from reunite.kinship.loci import locus_info

GENEMAPPER = "genemapper"
CSV = "csv"
FORMATS = (GENEMAPPER, CSV)
MAX_CELL = 100  # characters of a cell kept for messages
CSV_COLUMNS = ("sampleid", "locus", "allele1", "allele2")

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_FOLD = re.compile(r"[\s._\-]+")
_ALLELE_COLUMN = re.compile(r"allele(\d{1,3})")
_SAMPLE_COLUMNS = ("samplename", "sampleid", "sample")
_MARKER_COLUMNS = ("marker", "locus")
_MISSING = {"", "NA"}


class LabFileError(Exception):
    """The file as a whole cannot be read; ``code`` and ``params`` name the reason."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class FileRow:
    """One sample × marker as written: ``alleles`` are the non-empty cells, stripped."""

    line: int
    sample: str
    marker: str
    alleles: tuple[str, ...]


@dataclass(frozen=True)
class RowProblem:
    """A row that could not be read (no sample name, no marker, broken quoting …)."""

    line: int
    sample: str
    marker: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class LabFile:
    file_format: str
    layout: str  # "long", "wide" or "csv"
    rows: list[FileRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def row_count(self) -> int:
        return len(self.rows) + len(self.problems)


def decode(data: bytes) -> str:
    """The text of an uploaded file: UTF-8 (BOM optional) or UTF-16 with a BOM; anything else,
    and anything that looks binary, raises :class:`LabFileError`."""
    if not data.strip():
        raise LabFileError("empty")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise LabFileError("encoding") from None
    else:
        if b"\x00" in data:
            raise LabFileError("binary")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise LabFileError("encoding", line=line) from None
    if "\x00" in text or any(ord(ch) < 32 and ch not in "\t\r\n" for ch in text[:4096]):
        raise LabFileError("binary")
    return text


def detect_format(text: str) -> str:
    """``genemapper`` when the header line holds a tab, else ``csv``."""
    first = next((line for line in _LINE_BREAK.split(text) if line.strip()), "")
    return GENEMAPPER if "\t" in first else CSV


def fold(header: str) -> str:
    """A header as compared: lower case, without spaces, dots, dashes or underscores."""
    return _FOLD.sub("", header).lower()


def _cell(value: str) -> str:
    return value.strip()[:MAX_CELL]


def _alleles(cells: list[str]) -> tuple[str, ...]:
    return tuple(c.strip() for c in cells if c.strip() not in _MISSING)


def _known_locus(header: str) -> bool:
    try:
        locus_info(header)
    except KinshipInputError:
        return False
    return True


def parse(data: bytes, file_format: str | None = None, *, max_rows: int = 100_000) -> LabFile:
    """Read an uploaded file; ``file_format`` ``None`` means detect it from the header line."""
    text = decode(data)
    chosen = file_format or detect_format(text)
    if chosen not in FORMATS:
        raise LabFileError("format", file_format=chosen)
    if chosen == CSV:
        return _parse_csv(text, max_rows)
    return _parse_genemapper(text, max_rows)


def _numbered_lines(text: str) -> list[tuple[int, str]]:
    return [(n, line) for n, line in enumerate(_LINE_BREAK.split(text), start=1) if line.strip()]


def _parse_genemapper(text: str, max_rows: int) -> LabFile:
    lines = _numbered_lines(text)
    if not lines:
        raise LabFileError("empty")
    if len(lines) - 1 > max_rows:
        raise LabFileError("too_many_rows", limit=max_rows)
    header = [fold(h) for h in lines[0][1].split("\t")]
    sample_col = next((header.index(n) for n in _SAMPLE_COLUMNS if n in header), None)
    if sample_col is None:
        raise LabFileError("header", missing="Sample Name")
    marker_col = next((header.index(n) for n in _MARKER_COLUMNS if n in header), None)
    if marker_col is not None:
        allele_cols = sorted(
            (int(m.group(1)), i)
            for i, h in enumerate(header)
            if (m := _ALLELE_COLUMN.fullmatch(h)) is not None
        )
        if not allele_cols:
            raise LabFileError("header", missing="Allele 1")
        return _long_rows(lines[1:], sample_col, marker_col, [i for _n, i in allele_cols])
    raw_header = lines[0][1].split("\t")
    marker_cols = [
        (i, raw_header[i].strip())
        for i in range(len(raw_header))
        if i != sample_col and _known_locus(raw_header[i])
    ]
    if not marker_cols:
        raise LabFileError("header", missing="Marker")
    return _wide_rows(lines[1:], sample_col, marker_cols)


def _long_rows(
    lines: list[tuple[int, str]], sample_col: int, marker_col: int, allele_cols: list[int]
) -> LabFile:
    result = LabFile(GENEMAPPER, "long")
    width = max(sample_col, marker_col, *allele_cols) + 1
    for number, line in lines:
        cells = line.split("\t")
        cells += [""] * (width - len(cells))
        sample, marker = _cell(cells[sample_col]), _cell(cells[marker_col])
        _add(result, number, sample, marker, _alleles([cells[i] for i in allele_cols]))
    return result


def _wide_rows(
    lines: list[tuple[int, str]], sample_col: int, marker_cols: list[tuple[int, str]]
) -> LabFile:
    result = LabFile(GENEMAPPER, "wide")
    width = max(sample_col, *(i for i, _m in marker_cols)) + 1
    for number, line in lines:
        cells = line.split("\t")
        cells += [""] * (width - len(cells))
        sample = _cell(cells[sample_col])
        for index, marker in marker_cols:
            _add(result, number, sample, marker, _alleles(cells[index].split(",")))
    return result


def _add(result: LabFile, line: int, sample: str, marker: str, alleles: tuple[str, ...]) -> None:
    if not sample:
        result.problems.append(RowProblem(line, sample, marker, "no_sample"))
    elif not marker:
        result.problems.append(RowProblem(line, sample, marker, "no_marker"))
    else:
        result.rows.append(FileRow(line, sample, marker, alleles))


def _parse_csv(text: str, max_rows: int) -> LabFile:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    result = LabFile(CSV, "csv")
    try:
        header: list[str] | None = None
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = [fold(c) for c in cells]
                _check_csv_header(header, cells)
                continue
            if result.row_count >= max_rows:
                raise LabFileError("too_many_rows", limit=max_rows)
            _csv_row(result, reader.line_num, header, cells)
    except csv.Error as exc:
        raise LabFileError("csv", line=reader.line_num, detail=str(exc)[:MAX_CELL]) from None
    if header is None:
        raise LabFileError("empty")
    return result


def _check_csv_header(header: list[str], raw: list[str]) -> None:
    unknown = [
        r.strip()[:MAX_CELL] for r, h in zip(raw, header, strict=True) if h not in CSV_COLUMNS
    ]
    if unknown:
        raise LabFileError("csv_unknown_column", column=unknown[0])
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        names = {"sampleid": "sample_id", "locus": "locus", "allele1": "allele1"}
        raise LabFileError("header", missing=names.get(missing[0], missing[0]))
    if len(set(header)) != len(header):
        raise LabFileError("csv_duplicate_column")


def _csv_row(result: LabFile, line: int, header: list[str], cells: list[str]) -> None:
    if len(cells) > len(header):
        result.problems.append(
            RowProblem(line, _cell(cells[0]) if cells else "", "", "csv_extra_cells")
        )
        return
    cells = cells + [""] * (len(header) - len(cells))
    row = dict(zip(header, cells, strict=True))
    alleles = [row["allele1"].strip(), row["allele2"].strip()]
    if alleles[0] and not alleles[1]:
        alleles[1] = alleles[0]  # allele2 empty: a homozygote
    _add(
        result,
        line,
        _cell(row["sampleid"]),
        _cell(row["locus"]),
        tuple(a for a in alleles if a),
    )
