"""JSON API of cases (read-only for now): the list of cases you may see, and one case's record.

Thin handlers over ``cases.services``: ``list_cases`` refuses (and audits) a role that sees no
cases, ``get_case`` authorises and audits each read.
"""

import datetime as dt
import enum
from typing import Annotated

from django.http import HttpRequest
from ninja import Field, P, PathEx, Query, Router, Schema
from pydantic import BeforeValidator

from reunite.cases.models import Case, CaseEventKind, CaseStatus, CaseType
from reunite.cases.services import CaseFilters, get_case, list_cases
from reunite.people.api import READ_ERRORS, acting_user, division_reads, reject_unknown_params
from reunite.people.schemas import MAX_ID, DivisionRead, PageInput, UnitRead

router = Router(tags=["cases"])


def _blank_to_none(value: object) -> object:
    return None if value == "" else value


class CaseEventRead(Schema):
    at: dt.datetime
    kind: CaseEventKind
    actor: str | None = Field(description="Username of who did it, if anyone.")
    summary: str


class CaseSummary(Schema):
    id: int
    number: str
    case_type: CaseType
    status: CaseStatus
    division: DivisionRead
    opened_at: dt.datetime
    missing_report: int | None = Field(description="Id of the missing person report, if any.")


class CaseRead(Schema):
    id: int
    number: str
    case_type: CaseType
    status: CaseStatus
    owning_unit: UnitRead
    division: DivisionRead
    investigators: list[str] = Field(description="Usernames of the assigned investigators.")
    missing_report: int | None = Field(description="Id of the missing person report, if any.")
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    events: list[CaseEventRead] = Field(description="The timeline, oldest first.")


class CasePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[CaseSummary]


class CaseStatusFilter(enum.StrEnum):
    """A case status, or "active": open or under investigation."""

    OPEN = "open"
    INVESTIGATING = "investigating"
    SOLVED = "solved"
    CLOSED = "closed"
    ACTIVE = "active"


class CaseQuery(PageInput):
    status: Annotated[CaseStatusFilter | None, BeforeValidator(_blank_to_none)] = None
    case_type: Annotated[CaseType | None, BeforeValidator(_blank_to_none)] = None


@router.get("", response={200: CasePage, **READ_ERRORS}, url_name="list_cases")
def list_cases_view(request: HttpRequest, query: Query[CaseQuery]) -> CasePage:
    """The cases of your jurisdiction, newest first."""
    reject_unknown_params(request, CaseQuery)
    found = list_cases(
        acting_user=acting_user(request),
        filters=CaseFilters(
            status=query.status.value if query.status else "",
            case_type=query.case_type.value if query.case_type else "",
        ),
    ).select_related("division")
    page: list[Case] = list(found[query.offset : query.offset + query.limit])
    divisions = division_reads(c.division for c in page)
    items = [
        CaseSummary(
            id=c.pk,
            number=c.number,
            case_type=CaseType(c.case_type),
            status=CaseStatus(c.status),
            division=divisions[c.division.code],
            opened_at=c.opened_at,
            missing_report=c.missing_report_id,
        )
        for c in page
    ]
    return CasePage(count=found.count(), limit=query.limit, offset=query.offset, items=items)


@router.get("/{case_id}", response={200: CaseRead, **READ_ERRORS}, url_name="get_case")
def get_case_view(request: HttpRequest, case_id: PathEx[int, P(ge=1, le=MAX_ID)]) -> CaseRead:
    """One case with its investigators and timeline (audited)."""
    case = get_case(acting_user=acting_user(request), case_id=case_id)
    divisions = division_reads([case.division])
    return CaseRead(
        id=case.pk,
        number=case.number,
        case_type=CaseType(case.case_type),
        status=CaseStatus(case.status),
        owning_unit=UnitRead(id=case.owning_unit.pk, name=case.owning_unit.name),
        division=divisions[case.division.code],
        investigators=sorted(case.investigators.values_list("username", flat=True)),
        missing_report=case.missing_report_id,
        opened_at=case.opened_at,
        closed_at=case.closed_at,
        events=[
            CaseEventRead(
                at=e.at,
                kind=CaseEventKind(e.kind),
                actor=e.actor.get_username() if e.actor is not None else None,
                summary=e.summary,
            )
            for e in case.events.select_related("actor").order_by("at", "pk")
        ],
    )
