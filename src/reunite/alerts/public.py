"""What the public may see of an alert, and the public text of each message, in each language.

``public_facts`` is the one gate between a report and anything public — the alert page, the CAP
documents, the Atom feed, the messages sent to subscribers: it copies only the fields the alert
marks for publication, and nothing at all once the alert is closed.  ``compose_text`` turns the
facts into the short text of one message; it must fit ``MAX_PUBLIC_TEXT`` characters (the length
of a Wireless Emergency Alert) in every language, which ``text_errors`` checks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from reunite.alerts.criteria import age_when_last_seen
from reunite.alerts.models import Alert, AlertStatus
from reunite.alerts.policy import MAX_PUBLIC_TEXT, Policy
from reunite.people.models import Sex

# (Django language, CAP language): every message carries one <info> per entry, in this order.
LANGUAGES: tuple[tuple[str, str], ...] = (("zh-hans", "zh-CN"), ("en", "en-US"))


@contextmanager
def in_language(code: str) -> Iterator[None]:
    with translation.override(code):
        yield


def _is_chinese() -> bool:
    return (translation.get_language() or "").startswith("zh")


@dataclass(frozen=True)
class PublicFacts:
    """The published facts of an alert; empty strings and ``None`` where a fact is not published.

    ``name`` is the name as registered (Han characters), ``name_latin`` its pinyin.
    """

    alert_id: int
    status: str
    child: bool
    name: str
    name_latin: str
    sex: str
    age: int | None
    height_cm: int | None
    marks: str
    place: str
    division_name: str
    division_name_latin: str
    last_seen_at: dt.datetime
    latitude: float
    longitude: float
    description: str
    has_photo: bool

    @property
    def active(self) -> bool:
        return self.status == AlertStatus.ACTIVE

    @property
    def sex_label(self) -> str:
        return str(Sex(self.sex).label) if self.sex else ""


def public_facts(alert: Alert, *, policy: Policy) -> PublicFacts:
    """The facts of ``alert`` marked for publication (none but the outcome once it is closed).

    A draft's facts are what its release *would* publish: the officers preview them.
    """
    report = alert.report
    age = age_when_last_seen(report, alert.last_seen_at)
    child = age is not None and age < policy.minor_under_age
    closed = not alert.is_open
    division = report.last_seen_division

    def shown(flag: bool) -> bool:
        return flag and not closed

    return PublicFacts(
        alert_id=alert.pk,
        status=alert.status,
        child=child,
        name=report.full_name if shown(alert.publish_name) else "",
        name_latin=report.name_pinyin.title() if shown(alert.publish_name) else "",
        sex=report.sex if shown(alert.publish_sex) and report.sex != Sex.UNKNOWN else "",
        age=age if shown(alert.publish_age) else None,
        height_cm=report.height_cm if shown(alert.publish_height) else None,
        marks=report.distinguishing_marks.strip() if shown(alert.publish_marks) else "",
        place=report.last_seen_place.strip() if shown(alert.publish_place) else "",
        division_name="" if closed else division.name,
        division_name_latin="" if closed else division.name_latin,
        last_seen_at=alert.last_seen_at,
        latitude=alert.latitude,
        longitude=alert.longitude,
        description="" if closed else alert.public_description.strip(),
        has_photo=alert.public_photo_id is not None and alert.status == AlertStatus.ACTIVE,
    )


def local_time(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def event_name(facts: PublicFacts) -> str:
    """The CAP ``<event>`` in the active language."""
    return _("Child Abduction") if facts.child else _("Missing Person at Risk")


def headline(facts: PublicFacts) -> str:
    """A short title in the active language."""
    if facts.status == AlertStatus.RESOLVED:
        return _("Found – thank you")
    if facts.status == AlertStatus.CANCELLED:
        return _("Alert cancelled")
    if facts.status == AlertStatus.EXPIRED:
        return _("Alert expired")
    if facts.child:
        return _("Rapid-search alert: missing child")
    return _("Rapid-search alert: missing woman at risk")


def _sentence_gap() -> str:
    return "" if _is_chinese() else " "


def place_phrase(facts: PublicFacts) -> str:
    """Where the person was last seen, in the active language."""
    division = facts.division_name if _is_chinese() else facts.division_name_latin
    division = division or facts.division_name
    return (
        _("%(division)s, %(place)s") % {"division": division, "place": facts.place}
        if (facts.place)
        else division
    )


def who_phrase(facts: PublicFacts) -> str:
    """Name, sex, age and height as published, in the active language ('' if none is)."""
    parts: list[str] = []
    name = facts.name if _is_chinese() else (facts.name_latin or facts.name)
    if name:
        parts.append(name)
    if facts.sex:
        parts.append(str(Sex(facts.sex).label))
    if facts.age is not None:
        parts.append(_("%(age)d years old") % {"age": facts.age})
    if facts.height_cm is not None:
        parts.append(_("%(height)d cm tall") % {"height": facts.height_cm})
    return _(", ").join(parts)


def compose_text(facts: PublicFacts) -> str:
    """The public text of a message about ``facts``, in the active language."""
    if facts.status == AlertStatus.RESOLVED:
        return _(
            "The person this alert was about has been found. Thank you for your help. "
            "Please delete the posts and photos you shared."
        )
    if facts.status == AlertStatus.CANCELLED:
        return _("This alert has been cancelled. Please delete the posts and photos you shared.")
    if facts.status == AlertStatus.EXPIRED:
        return _(
            "This alert has expired. Please delete the posts and photos you shared. "
            "Sightings can still be reported on 110."
        )
    sentences = [headline(facts) + _(".")]
    who = who_phrase(facts)
    if who:
        sentences.append(who + _("."))
    sentences.append(
        _("Last seen %(time)s in %(place)s.")
        % {"time": local_time(facts.last_seen_at), "place": place_phrase(facts)}
    )
    if facts.description:
        sentences.append(facts.description)
    if facts.marks:
        sentences.append(_("Marks: %(marks)s.") % {"marks": facts.marks})
    sentences.append(_("If you see this person, call 110 or report it on the alert page."))
    return _sentence_gap().join(sentences)


def texts(facts: PublicFacts) -> dict[str, str]:
    """The public text in every language, keyed by CAP language."""
    result = {}
    for django_code, cap_code in LANGUAGES:
        with in_language(django_code):
            result[cap_code] = compose_text(facts)
    return result


def text_errors(facts: PublicFacts) -> list[str]:
    """A message for each language whose public text is longer than ``MAX_PUBLIC_TEXT``."""
    errors = []
    for cap_code, text in texts(facts).items():
        if len(text) > MAX_PUBLIC_TEXT:
            errors.append(
                _(
                    "The public text is %(n)d characters long in %(language)s; a message may "
                    "have at most %(max)d (the length of a Wireless Emergency Alert). Shorten "
                    "the public description or publish fewer facts."
                )
                % {"n": len(text), "language": cap_code, "max": MAX_PUBLIC_TEXT}
            )
    return errors
