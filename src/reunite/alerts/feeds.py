"""The Atom feed of active alerts (``/alerts/feed.atom``), with a link to each CAP document."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.syndication.views import Feed
from django.http import HttpRequest
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext_lazy as _

from reunite.alerts import cap, policy, services
from reunite.alerts.models import Alert
from reunite.alerts.public import compose_text, headline


class AtomWithCap(Atom1Feed):
    """Atom 1.0 whose entries also link their CAP document (``rel="alternate"``, CAP type)."""

    def add_item_elements(self, handler: Any, item: dict[str, Any]) -> None:
        super().add_item_elements(handler, item)
        handler.addQuickElement(
            "link",
            "",
            {"rel": "alternate", "type": cap.CONTENT_TYPE.split(";")[0], "href": item["cap_url"]},
        )


class ActiveAlertsFeed(Feed):
    feed_type = AtomWithCap
    title = _("Reunite: active rapid-search alerts")
    subtitle = _("Missing children and women at risk. If you see one of them, call 110.")
    author_name = _("Reunite")

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        response = super().__call__(request, *args, **kwargs)
        response["Cache-Control"] = "no-cache"
        return response

    def link(self) -> str:
        return policy.current().public_base_url + reverse("alerts:public_list")

    def feed_url(self) -> str:
        return policy.current().public_base_url + reverse("alerts:feed")

    def feed_guid(self) -> str:
        return "tag:reunite,2026:alerts"

    def items(self) -> list[Alert]:
        return list(services.active_alerts()[:200])

    def item_title(self, item: Alert) -> str:
        return headline(services.facts_of(item))

    def item_description(self, item: Alert) -> str:
        return compose_text(services.facts_of(item))

    def item_link(self, item: Alert) -> str:
        return services.public_url(item)

    def item_guid(self, item: Alert) -> str:
        return f"urn:uuid:{item.public_id}"

    item_guid_is_permalink = False

    def item_pubdate(self, item: Alert) -> dt.datetime | None:
        return item.released_at

    def item_updateddate(self, item: Alert) -> dt.datetime | None:
        latest = item.messages.order_by("-seq").first()
        return latest.sent_at if latest is not None else item.released_at

    def item_extra_kwargs(self, item: Alert) -> dict[str, Any]:
        return {"cap_url": services.cap_url(item)}
