"""The match report of a confirmed identification: HTML (with the pedigree in SVG) and PDF.

The report is the one place where family reference genotypes are shown (DESIGN.md: reference
DNA is never exported outside a match report).  It holds both persons' pseudonymous ids, the
pedigree drawn, the per-locus table (the unidentified person's and each typed relative's alleles,
their frequencies and the locus LR), the parameters and frequency table that produced the LR,
the engine, and the signatures of the two confirming analysts with their times.  Only users
with ``VIEW_MATCH_REPORT`` over either side's jurisdiction read it, only once the candidate is
confirmed, and every read is audited (format and ``genotypes: true``).

**PDF and Chinese text.** The PDF is drawn with fpdf2's built-in Helvetica (no font file is
shipped), which covers Latin-1 only: the PDF is written in English, and text from the database
that is not Latin-1 (unit names, analysts' names) is transliterated to pinyin (``pypinyin``),
anything else replaced by ``?``.  The HTML report is in the reader's language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from pypinyin import lazy_pinyin

from reunite.accounts.models import User
from reunite.accounts.permissions import Action
from reunite.audit.models import AuditAction
from reunite.audit.services import record
from reunite.core.errors import DomainError
from reunite.dna.models import (
    Candidate,
    CandidateReview,
    CandidateStatus,
    FamilyMember,
    KinRelationship,
    Profile,
)
from reunite.dna.review import CANDIDATE_TYPE, confirmations, get_candidate
from reunite.kinship import load_table
from reunite.kinship.frequencies import list_tables


class NotConfirmed(DomainError):
    """A match report exists only for a confirmed identification."""

    status_code = 409


# --------------------------------------------------------------------------- the pedigree drawn

NODE = 36  # side of a square / diameter of a circle, in px (HTML) or 1/4 mm (PDF)
X_STEP = 120
Y_STEP = 110
MARGIN = 30


@dataclass(frozen=True)
class Node:
    code: str
    sex: str
    x: float  # centre
    y: float
    typed: bool
    missing: bool
    label: str  # second line: pseudonym or relationship

    @property
    def left(self) -> float:
        return self.x - NODE / 2

    @property
    def top(self) -> float:
        return self.y - NODE / 2

    @property
    def code_y(self) -> float:
        return self.y + NODE / 2 + 14

    @property
    def label_y(self) -> float:
        return self.y + NODE / 2 + 28


@dataclass(frozen=True)
class Edge:
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class PedigreeDrawing:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    width: float
    height: float


def _generations(spec: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """A row per generation: children below their parents, a founder beside its partner (one
    row above its first child)."""
    parents = {p["id"]: (p.get("mother"), p.get("father")) for p in spec}
    children: dict[str, list[str]] = {p["id"]: [] for p in spec}
    for pid, (mother, father) in parents.items():
        for parent in (mother, father):
            if parent in children:
                children[parent].append(pid)
    depth = {pid: 0 for pid in parents}
    for _round in range(len(spec) + 1):
        changed = False
        for pid, (mother, father) in parents.items():
            known = [depth[p] for p in (mother, father) if p in depth]
            if known and depth[pid] != max(known) + 1:
                depth[pid] = max(known) + 1
                changed = True
            elif not known and children[pid]:
                wanted = min(depth[c] for c in children[pid]) - 1
                if wanted > depth[pid]:
                    depth[pid] = wanted
                    changed = True
        if not changed:
            break
    return depth


def draw_pedigree(
    spec: Sequence[Mapping[str, Any]],
    typed: Mapping[str, str],
    missing: str,
    missing_label: str,
    relationship: Mapping[str, str],
) -> PedigreeDrawing:
    """Positions for the pedigree ``spec`` (``[{"id", "sex", "mother", "father"}]``): one row
    per generation, parents joined to each child by a line.  ``typed``: code → pseudonym."""
    depth = _generations(spec)
    rows: dict[int, list[str]] = {}
    for person in spec:
        rows.setdefault(depth[person["id"]], []).append(person["id"])
    widest = max((len(r) for r in rows.values()), default=1)
    width = 2 * MARGIN + widest * X_STEP
    position: dict[str, tuple[float, float]] = {}
    for level, ids in sorted(rows.items()):
        offset = (width - len(ids) * X_STEP) / 2
        for i, pid in enumerate(ids):
            position[pid] = (offset + X_STEP * (i + 0.5), MARGIN + NODE / 2 + level * Y_STEP)
    nodes = []
    edges = []
    for person in spec:
        pid = person["id"]
        x, y = position[pid]
        if pid == missing:
            label = missing_label
        elif pid in typed:
            label = typed[pid]
        else:
            label = relationship.get(pid, "")
        nodes.append(Node(pid, person["sex"], x, y, pid in typed, pid == missing, label))
        for parent in (person.get("mother"), person.get("father")):
            if parent in position:
                px, py = position[parent]
                edges.append(Edge(px, py + NODE / 2, x, y - NODE / 2))
    height = MARGIN * 2 + NODE + 30 + max(rows, default=0) * Y_STEP
    return PedigreeDrawing(tuple(nodes), tuple(edges), width, height)


# --------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class LocusRow:
    locus: str
    unknown: str
    references: tuple[str, ...]  # in the order of MatchReport.references
    frequencies: str  # the unknown person's alleles' frequencies in the table
    lr: float | None  # None: the locus did not count (LR 1)


@dataclass(frozen=True)
class Reference:
    code: str
    relationship: str
    pseudonym: str
    erased: bool


@dataclass(frozen=True)
class Signature:
    analyst: str
    full_name: str
    unit: str
    at: dt.datetime
    note: str


@dataclass
class MatchReport:
    candidate: Candidate
    unknown_pseudonym: str
    unknown_erased: bool
    references: list[Reference]
    rows: list[LocusRow]
    drawing: PedigreeDrawing
    table_id: str
    table_population: str
    table_source: str
    table_citation: str
    signatures: list[Signature]
    generated_at: dt.datetime
    generated_by: str
    notes: list[str] = field(default_factory=list)

    @property
    def mutation_text(self) -> str:
        mutation = self.candidate.mutation
        if not mutation:
            return _("none")
        return ", ".join(f"{k}={v}" for k, v in sorted(mutation.items()))


def _pair(genotypes: Mapping[str, Sequence[str]], locus: str) -> str:
    pair = genotypes.get(locus)
    return f"{pair[0]}/{pair[1]}" if pair else "—"


def build_report(*, acting_user: User, candidate_id: int, fmt: str = "html") -> MatchReport:
    """The report of a confirmed candidate (audited as a genotype read in format ``fmt``).

    Raises ``NotFound``, ``AccessDenied`` (audited) or :class:`NotConfirmed`.
    """
    candidate = get_candidate(
        acting_user=acting_user,
        candidate_id=candidate_id,
        action=Action.VIEW_MATCH_REPORT,
        audit=False,
    )
    if candidate.status != CandidateStatus.CONFIRMED:
        raise NotConfirmed(_("A match report exists only for a confirmed identification."))
    record(
        actor=acting_user,
        action=AuditAction.READ,
        object_type=CANDIDATE_TYPE,
        object_id=candidate.pk,
        details={"report": fmt, "genotypes": True},
    )
    refs: dict[str, int] = {str(k): int(v) for k, v in candidate.references.items()}
    stored = Profile.objects.in_bulk([*refs.values(), candidate.profile_id])
    unknown = stored[candidate.profile_id]
    members = {m.code: m for m in FamilyMember.objects.filter(report_id=candidate.report_id)}
    labels = {code: str(KinRelationship(m.relationship).label) for code, m in members.items()}
    codes = sorted(refs)
    references = [
        Reference(
            code=code,
            relationship=labels.get(code, code),
            pseudonym=stored[refs[code]].pseudonym if refs[code] in stored else "?",
            erased=refs[code] not in stored or stored[refs[code]].erased_at is not None,
        )
        for code in codes
    ]
    table = load_table(candidate.frequency_table)
    info = next(t for t in list_tables() if t.id == candidate.frequency_table)
    lrs = {entry["locus"]: float(entry["lr"]) for entry in candidate.per_locus}
    loci = sorted(
        set(lrs) | set(unknown.genotypes),
        key=lambda locus: (
            list(unknown.genotypes).index(locus) if locus in unknown.genotypes else 999
        ),
    )
    rows = []
    for locus in loci:
        pair = unknown.genotypes.get(locus)
        freq = ""
        if pair and locus in table:
            column = table.locus(locus)
            freq = ", ".join(
                f"{a}: {column.frequency(a):.4f}" if a in column else f"{a}: —"
                for a in dict.fromkeys(pair)
            )
        rows.append(
            LocusRow(
                locus=locus,
                unknown=_pair(unknown.genotypes, locus),
                references=tuple(
                    _pair(stored[refs[code]].genotypes, locus) if refs[code] in stored else "—"
                    for code in codes
                ),
                frequencies=freq,
                lr=lrs.get(locus),
            )
        )
    typed_labels = {r.code: r.pseudonym for r in references}
    drawing = draw_pedigree(candidate.pedigree, typed_labels, "MP", unknown.pseudonym, labels)
    signatures = [_signature(review) for review in confirmations(candidate)]
    return MatchReport(
        candidate=candidate,
        unknown_pseudonym=unknown.pseudonym,
        unknown_erased=unknown.erased_at is not None,
        references=references,
        rows=rows,
        drawing=drawing,
        table_id=info.id,
        table_population=info.population,
        table_source=info.source,
        table_citation=info.citation,
        signatures=signatures,
        generated_at=timezone.now(),
        generated_by=acting_user.get_username(),
        notes=list(candidate.notes),
    )


def _signature(review: CandidateReview) -> Signature:
    analyst = review.analyst
    return Signature(
        analyst=analyst.get_username(),
        full_name=analyst.get_full_name(),
        unit=analyst.organisation.name if analyst.organisation else "",
        at=review.at,
        note=review.note,
    )


# --------------------------------------------------------------------------- PDF


def ascii_text(value: object) -> str:
    """Latin-1 text for the PDF's core font: Han characters in pinyin, the rest as ``?``."""
    text = str(value)
    if all(ord(c) < 256 for c in text):
        return text
    out = " ".join(part.strip() for part in lazy_pinyin(text) if part.strip())
    return "".join(c if ord(c) < 256 else "?" for c in out)


def render_pdf(report: MatchReport) -> bytes:
    """The report as PDF (English; see the module docstring on fonts)."""
    from fpdf import FPDF

    with translation.override("en"):
        return _render_pdf(report, FPDF)


def _render_pdf(report: MatchReport, pdf_class: Any) -> bytes:
    c = report.candidate
    pdf = pdf_class(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_title(ascii_text(f"DNA match report C-{c.pk}"))
    pdf.set_creator("Reunite")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 9, ascii_text(f"DNA match report C-{c.pk}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(
        0,
        5,
        ascii_text(
            f"Missing report MP-{c.report_id}  |  unidentified profile {report.unknown_pseudonym} "
            f"(UP-{c.profile.sample.found_person_id})  |  generated "
            f"{timezone.localtime(report.generated_at):%Y-%m-%d %H:%M} by {report.generated_by}"
        ),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    _pdf_heading(pdf, "Result")
    log10 = f"{c.log10_lr:.2f}"
    _pdf_lines(
        pdf,
        [
            f"Hypothesis H1: {report.unknown_pseudonym} is the missing person (MP) of this family "
            f"pedigree; H2: unrelated. Typed relatives: "
            + ", ".join(f"{r.code} ({r.relationship}) {r.pseudonym}" for r in report.references),
            f"Likelihood ratio LR = {c.lr:.4g} (log10 LR = {log10})",
        ],
    )
    _pdf_heading(pdf, "Pedigree")
    _pdf_pedigree(pdf, report.drawing)
    _pdf_heading(pdf, "Per-locus table")
    _pdf_table(pdf, report)
    _pdf_heading(pdf, "Parameters and frequency table")
    _pdf_lines(
        pdf,
        [
            f"LR threshold {c.threshold:g}; theta {c.theta:g}; mutation {report.mutation_text}",
            f"Frequency table {report.table_id}: {report.table_population}",
            f"Source: {report.table_source}",
            f"Citation: {report.table_citation}",
            f"Engine: {c.engine}; computed {timezone.localtime(c.computed_at):%Y-%m-%d %H:%M}"
            + (f"; comparison run {c.run_id}" if c.run_id else "; incremental search"),
            *[f"Note: {note}" for note in report.notes],
        ],
    )
    _pdf_heading(pdf, "Signatures")
    for sig in report.signatures:
        _pdf_lines(
            pdf,
            [
                f"Confirmed by {sig.analyst}"
                + (f" ({sig.full_name})" if sig.full_name else "")
                + (f", {sig.unit}" if sig.unit else "")
                + f" at {timezone.localtime(sig.at):%Y-%m-%d %H:%M:%S}",
            ],
        )
    return bytes(pdf.output())


def _pdf_heading(pdf: Any, text: str) -> None:
    pdf.ln(2)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 7, ascii_text(text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)


def _pdf_lines(pdf: Any, lines: Sequence[str]) -> None:
    for line in lines:
        pdf.multi_cell(0, 5, ascii_text(line), new_x="LMARGIN", new_y="NEXT")


def _pdf_pedigree(pdf: Any, drawing: PedigreeDrawing) -> None:
    """The same layout as the SVG, scaled to the page width."""
    scale = min(0.25, 180 / drawing.width)
    left, top = 15.0, pdf.get_y() + 2
    if top + drawing.height * scale > 270:
        pdf.add_page()
        top = pdf.get_y() + 2
    pdf.set_line_width(0.3)
    for edge in drawing.edges:
        pdf.line(
            left + edge.x1 * scale,
            top + edge.y1 * scale,
            left + edge.x2 * scale,
            top + edge.y2 * scale,
        )
    side = NODE * scale
    for node in drawing.nodes:
        x, y = left + node.x * scale - side / 2, top + node.y * scale - side / 2
        style = "DF" if node.typed or node.missing else "D"
        pdf.set_fill_color(*((255, 200, 80) if node.missing else (170, 170, 170)))
        if node.sex == "F":
            pdf.ellipse(x, y, side, side, style=style)
        else:
            pdf.rect(x, y, side, side, style=style)
        pdf.set_font("Helvetica", "B", 7)
        pdf.set_xy(x - 8, y + side + 0.5)
        pdf.cell(side + 16, 3, ascii_text(node.code), align="C")
        pdf.set_font("Helvetica", "", 6)
        pdf.set_xy(x - 10, y + side + 3.5)
        pdf.cell(side + 20, 3, ascii_text(node.label), align="C")
    pdf.set_font("Helvetica", "", 9)
    pdf.set_xy(15, top + drawing.height * scale + 2)


def _pdf_table(pdf: Any, report: MatchReport) -> None:
    refs = report.references
    headers = ["Locus", report.unknown_pseudonym, *[f"{r.code} {r.pseudonym}" for r in refs]]
    headers += ["Freq. (unknown's alleles)", "LR"]
    width = 180
    lr_w, freq_w = 22, 44
    rest = (width - lr_w - freq_w) / (len(headers) - 2)
    widths = [rest] * (len(headers) - 2) + [freq_w, lr_w]
    pdf.set_font("Helvetica", "B", 7)
    for text, w in zip(headers, widths, strict=True):
        pdf.cell(w, 5, ascii_text(text), border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 7)
    for row in report.rows:
        cells = [row.locus, row.unknown, *row.references, row.frequencies]
        cells.append(f"{row.lr:.4g}" if row.lr is not None else "(1)")
        for text, w in zip(cells, widths, strict=True):
            pdf.cell(w, 4.5, ascii_text(text), border=1)
        pdf.ln()
    pdf.set_font("Helvetica", "B", 7)
    pdf.cell(sum(widths[:-1]), 5, "Total", border=1)
    pdf.cell(widths[-1], 5, f"{report.candidate.lr:.4g}", border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 9)
