"""CAP 1.2 (OASIS Common Alerting Protocol) documents for alert messages, checked against the
schema.

``build`` writes one ``<alert>`` from plain data (no database); ``validate`` checks a document
against the OASIS schema shipped in ``data/cap12.xsd``.  Reunite validates every message before
it is stored or sent, so an invalid document is a programming error that stops the release, never
something a subscriber receives.

The values follow what CAP asks of an imminent-threat alert and the CAP 1.2 AMBER example
(Appendix A.4): ``status`` Actual, ``scope`` Public, ``category`` Rescue, ``urgency`` Immediate,
``severity`` Severe, ``certainty`` Likely, and one ``<info>`` per language.  A withdrawal
(``Cancel``) says ``urgency`` Past (no action is needed any more), ``severity`` Minor and
``certainty`` Observed, and carries no photo.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.utils import timezone
from lxml import etree  # type: ignore[import-untyped]

NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"
SCHEMA_PATH = Path(__file__).resolve().parent / "data" / "cap12.xsd"
CONTENT_TYPE = "application/cap+xml; charset=utf-8"


class InvalidCap(ValueError):
    """A document does not validate against the CAP 1.2 schema."""


@dataclass(frozen=True)
class Reference:
    """An earlier message, as CAP ``<references>`` names it: ``sender,identifier,sent``."""

    sender: str
    identifier: str
    sent: dt.datetime

    def render(self) -> str:
        return f"{self.sender},{self.identifier},{cap_time(self.sent)}"


@dataclass(frozen=True)
class Area:
    """``circle`` is (latitude, longitude, radius_km); ``geocode`` is (valueName, value)."""

    description: str
    circle: tuple[float, float, float] | None = None
    geocode: tuple[str, str] | None = None


@dataclass(frozen=True)
class Resource:
    description: str
    mime_type: str
    uri: str


@dataclass(frozen=True)
class Info:
    language: str
    event: str
    headline: str
    description: str
    instruction: str
    sender_name: str
    web: str
    contact: str
    expires: dt.datetime | None
    areas: tuple[Area, ...]
    resources: tuple[Resource, ...] = ()
    event_code: tuple[str, str] | None = None
    urgency: str = "Immediate"
    severity: str = "Severe"
    certainty: str = "Likely"
    response_type: str = "Monitor"


@dataclass(frozen=True)
class Message:
    identifier: str
    sender: str
    sent: dt.datetime
    msg_type: str  # Alert, Update or Cancel
    infos: tuple[Info, ...]
    references: tuple[Reference, ...] = ()
    incidents: str = ""
    note: str = ""
    status: str = "Actual"
    scope: str = "Public"


def cap_time(moment: dt.datetime) -> str:
    """CAP's date-time form: local time with its offset, whole seconds, no ``Z``."""
    return timezone.localtime(moment).replace(microsecond=0).isoformat()


def _coordinate(value: float) -> str:
    return f"{value:.5f}".rstrip("0").rstrip(".")


def circle_text(latitude: float, longitude: float, radius_km: float) -> str:
    """``"lat,lon radius"``: WGS 84 degrees and kilometres, as CAP writes a circle."""
    return f"{_coordinate(latitude)},{_coordinate(longitude)} {radius_km:g}"


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, f"{{{NAMESPACE}}}{name}")
    if text is not None:
        element.text = text
    return element


def _pair(parent: etree._Element, name: str, value_name: str, value: str) -> None:
    element = _sub(parent, name)
    _sub(element, "valueName", value_name)
    _sub(element, "value", value)


def _info(root: etree._Element, info: Info) -> None:
    element = _sub(root, "info")
    _sub(element, "language", info.language)
    _sub(element, "category", "Rescue")
    _sub(element, "event", info.event)
    _sub(element, "responseType", info.response_type)
    _sub(element, "urgency", info.urgency)
    _sub(element, "severity", info.severity)
    _sub(element, "certainty", info.certainty)
    if info.event_code is not None:
        _pair(element, "eventCode", *info.event_code)
    if info.expires is not None:
        _sub(element, "expires", cap_time(info.expires))
    _sub(element, "senderName", info.sender_name)
    _sub(element, "headline", info.headline)
    _sub(element, "description", info.description)
    _sub(element, "instruction", info.instruction)
    _sub(element, "web", info.web)
    _sub(element, "contact", info.contact)
    for resource in info.resources:
        res = _sub(element, "resource")
        _sub(res, "resourceDesc", resource.description)
        _sub(res, "mimeType", resource.mime_type)
        _sub(res, "uri", resource.uri)
    for area in info.areas:
        area_element = _sub(element, "area")
        _sub(area_element, "areaDesc", area.description)
        if area.circle is not None:
            _sub(area_element, "circle", circle_text(*area.circle))
        if area.geocode is not None:
            _pair(area_element, "geocode", *area.geocode)


def build(message: Message) -> str:
    """The CAP 1.2 document of ``message`` (UTF-8 XML text with its declaration), validated."""
    root = etree.Element(f"{{{NAMESPACE}}}alert", nsmap={None: NAMESPACE})
    _sub(root, "identifier", message.identifier)
    _sub(root, "sender", message.sender)
    _sub(root, "sent", cap_time(message.sent))
    _sub(root, "status", message.status)
    _sub(root, "msgType", message.msg_type)
    _sub(root, "scope", message.scope)
    if message.note:
        _sub(root, "note", message.note)
    if message.references:
        _sub(root, "references", " ".join(r.render() for r in message.references))
    if message.incidents:
        _sub(root, "incidents", message.incidents)
    for info in message.infos:
        _info(root, info)
    text = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode(
        "utf-8"
    )
    validate(text)
    return text


@cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


def validate(document: str | bytes) -> None:
    """Raise ``InvalidCap`` unless ``document`` is valid CAP 1.2."""
    data = document.encode("utf-8") if isinstance(document, str) else document
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        tree = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise InvalidCap(f"not well-formed XML: {exc}") from exc
    schema = _schema()
    if not schema.validate(tree):
        raise InvalidCap("; ".join(str(error) for error in schema.error_log))
