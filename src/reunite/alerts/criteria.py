"""The alert criteria (AMBER-style), as plain data: which are met, and why not.

An alert may be released only when every criterion holds:

* **person** — a minor (younger than ``MINOR_UNDER_AGE`` when last seen), or a woman the
  officer states to be at risk;
* **danger** — abduction or danger to the person is stated (with the reason, kept internal);
* **description** — a public description of at least ``MIN_DESCRIPTION_CHARS`` characters
  (clothing, appearance, a vehicle …), enough for the public to recognise the person;
* **photo** — a photo of the person is chosen for publication;
* **recent** — the person was last seen within ``RECENT_WINDOW_HOURS``;
* **still missing** — the report is still open.

Nothing here touches the database: the caller passes the report and the alert (saved or not).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from reunite.alerts.models import Alert
from reunite.alerts.policy import Policy
from reunite.people.models import MissingPersonReport, MissingStatus, Sex


@dataclass(frozen=True)
class CriterionResult:
    code: str
    label: str
    met: bool
    detail: str


def age_when_last_seen(report: MissingPersonReport, last_seen_at: dt.datetime) -> int | None:
    """Whole years when last seen: from the date of birth, else the age given when missing."""
    if report.date_of_birth is not None:
        seen = timezone.localtime(last_seen_at).date()
        born = report.date_of_birth
        return seen.year - born.year - ((seen.month, seen.day) < (born.month, born.day))
    return report.age_at_disappearance


def check(
    report: MissingPersonReport, alert: Alert, *, policy: Policy, now: dt.datetime
) -> list[CriterionResult]:
    """Each criterion, in a fixed order, with a sentence saying why it is or is not met."""
    results: list[CriterionResult] = []
    age = age_when_last_seen(report, alert.last_seen_at)
    minor = age is not None and age < policy.minor_under_age
    woman_at_risk = report.sex == Sex.FEMALE and alert.at_risk
    if minor:
        person_detail = _("A minor: %(age)d years old when last seen.") % {"age": age}
    elif woman_at_risk:
        person_detail = _("A woman stated to be at risk.")
    elif age is None:
        person_detail = _("The age is not known, and no woman at risk is stated.")
    else:
        person_detail = _("%(age)d years old when last seen, and no woman at risk is stated.") % {
            "age": age
        }
    results.append(
        CriterionResult(
            "person", _("A minor, or a woman at risk"), minor or woman_at_risk, person_detail
        )
    )

    danger = alert.abduction_or_danger and bool(alert.danger_statement.strip())
    results.append(
        CriterionResult(
            "danger",
            _("Abduction or danger stated"),
            danger,
            _("Stated, with the reason.")
            if danger
            else _("State that abduction or danger is believed, and why."),
        )
    )

    length = len(alert.public_description.strip())
    described = length >= policy.min_description_chars
    results.append(
        CriterionResult(
            "description",
            _("Enough description for the public"),
            described,
            _("%(n)d characters of public description (at least %(min)d needed).")
            % {"n": length, "min": policy.min_description_chars},
        )
    )

    photo = alert.public_photo_id is not None
    results.append(
        CriterionResult(
            "photo",
            _("A photo to publish"),
            photo,
            _("A photo is chosen.") if photo else _("Choose a photo of the person to publish."),
        )
    )

    elapsed = now - alert.last_seen_at
    window_hours = policy.recent_window.total_seconds() / 3600
    recent = dt.timedelta(0) <= elapsed <= policy.recent_window
    results.append(
        CriterionResult(
            "recent",
            _("Reported within %(hours)g hours of the disappearance") % {"hours": window_hours},
            recent,
            _("Last seen %(hours).1f hours ago.") % {"hours": elapsed.total_seconds() / 3600},
        )
    )

    missing = report.status == MissingStatus.MISSING
    results.append(
        CriterionResult(
            "missing",
            _("The person is still missing"),
            missing,
            _("The report is “%(status)s”.") % {"status": report.get_status_display()},
        )
    )
    return results


def all_met(results: list[CriterionResult]) -> bool:
    return all(r.met for r in results)
