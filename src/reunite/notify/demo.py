"""Demo subscribers: a few thousand people around the demo's areas and one partner endpoint.

None of them is real: e-mail addresses are under ``example.invalid`` and mobile numbers in a
reserved test range.  The partner endpoint points at a loopback address and is disabled, so
that nothing leaves the machine until someone runs a receiver there and enables it.
Running it again adds nothing.
"""

from __future__ import annotations

import math
import random
import secrets
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from reunite.accounts.models import Division, DivisionLevel
from reunite.core.crypto import blind_token
from reunite.notify import geo
from reunite.notify.models import (
    Subscriber,
    SubscriberKind,
    SubscriberStatus,
    WebhookEndpoint,
)
from reunite.notify.services import NATION_PATH

DEMO_ENDPOINT_NAME = "Demo partner app (loopback)"
DEMO_ENDPOINT_URL = "http://127.0.0.1:8765/reunite-demo"
# Where the demo's reports concentrate, and how many of the subscribers live there.
AREAS = (("/CN/510000/", 0.6), ("/CN/110000/", 0.2), ("/CN/", 0.2))


def seed(*, count: int = 3000, seed: int = 7, progress: Callable[[str], None] | None = None) -> int:
    """Create ``count`` confirmed subscribers and the disabled partner; returns how many new."""
    made = 0
    with transaction.atomic():
        if not WebhookEndpoint.objects.filter(name=DEMO_ENDPOINT_NAME).exists():
            endpoint = WebhookEndpoint.objects.create(
                name=DEMO_ENDPOINT_NAME,
                url=DEMO_ENDPOINT_URL,
                secret=secrets.token_urlsafe(24),
                enabled=False,
            )
            Subscriber.objects.create(
                kind=SubscriberKind.PARTNER,
                status=SubscriberStatus.DISABLED,
                active=False,
                endpoint=endpoint,
                division_path=NATION_PATH,
            )
        if Subscriber.objects.filter(kind=SubscriberKind.PERSON).exists():
            return 0
        rng = random.Random(seed)
        seats = {
            prefix: list(
                Division.objects.filter(
                    level=DivisionLevel.COUNTY, path__startswith=prefix, latitude__isnull=False
                )
            )
            for prefix, _share in AREAS
        }
        now = timezone.now()
        rows = []
        for i in range(count):
            prefix = rng.choices([a for a, _s in AREAS], [s for _a, s in AREAS])[0]
            if not seats[prefix]:
                continue
            county = rng.choice(seats[prefix])
            assert county.latitude is not None and county.longitude is not None
            lat = county.latitude + rng.gauss(0, 0.05)
            lon = county.longitude + rng.gauss(0, 0.05) / math.cos(math.radians(lat))
            email = f"subscriber{i}@example.invalid" if i % 3 != 2 else ""
            phone = f"+861990000{i:04d}" if i % 3 != 0 else ""
            x, y, z = geo.unit_vector(lat, lon)
            rows.append(
                Subscriber(
                    kind=SubscriberKind.PERSON,
                    status=SubscriberStatus.ACTIVE,
                    active=True,
                    email=email,
                    phone=phone,
                    email_index=blind_token(email) if email else "",
                    phone_index=blind_token(phone) if phone else "",
                    latitude=lat,
                    longitude=lon,
                    h3_cell=geo.cell_of(lat, lon),
                    x=x,
                    y=y,
                    z=z,
                    division=county,
                    division_path=county.path,
                    confirmed_at=now,
                )
            )
        Subscriber.objects.bulk_create(rows, batch_size=500)
        made = len(rows)
    if progress:
        progress(_("Alert subscribers: %(n)d people added.") % {"n": made})
    return made
