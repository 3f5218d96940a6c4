"""A member of the public reports a sighting by clicking the alert map, in a real Chromium.

The server is a separate `reunite serve` over its own SQLite file seeded by `reunite demo` with
no registry records, which still creates the demo alerts (one active, with its rings).  The
click must put the coordinates of the clicked point into the form — the inverse of the projection
the server drew the map with — and the sighting must reach the police as placed on the map.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import pytest

from tests.browser_support import demo_server

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
DEMO_PASSWORD = "Reunite-demo-2026"
KM_PER_DEGREE_LAT = 110.574

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM}"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    var = tmp_path_factory.mktemp("alerts-browser-var")
    with demo_server(var, missing=0, found=0, ready_path="/alerts/") as url:
        yield url


@pytest.fixture
def page(server: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
        pg = context.new_page()
        pg.set_default_timeout(15_000)
        # Nothing may be fetched from anywhere but the server itself.
        requested: list[str] = []
        pg.on("request", lambda request: requested.append(request.url))
        yield pg
        assert all(u.startswith((server, "data:")) for u in requested), requested
        context.close()
        browser.close()


def test_a_sighting_placed_by_clicking_the_map(server: str, page) -> None:
    from playwright.sync_api import expect

    page.goto(f"{server}/alerts/")
    page.get_by_role("link", name=re.compile("Alert A-")).first.click()
    svg = page.locator("svg[data-pick]")
    expect(svg).to_be_visible()
    data = svg.evaluate(
        "e => ({lat: +e.dataset.lat, lon: +e.dataset.lon, kmPerPx: +e.dataset.kmPerPx,"
        " kmPerDegLon: +e.dataset.kmPerDegLon, size: +e.dataset.size})"
    )
    box = svg.bounding_box()
    assert box is not None
    click_x, click_y = box["width"] * 0.7, box["height"] * 0.3
    svg.click(position={"x": click_x, "y": click_y})

    # The clicked point in the map's own units, then back through the projection.
    x = click_x * data["size"] / box["width"]
    y = click_y * data["size"] / box["height"]
    half = data["size"] / 2
    expected_lat = data["lat"] + (half - y) * data["kmPerPx"] / KM_PER_DEGREE_LAT
    expected_lon = data["lon"] + (x - half) * data["kmPerPx"] / data["kmPerDegLon"]
    latitude = float(page.locator("#id_latitude").input_value())
    longitude = float(page.locator("#id_longitude").input_value())
    assert latitude == pytest.approx(expected_lat, abs=0.01)
    assert longitude == pytest.approx(expected_lon, abs=0.01)
    expect(page.locator("#alert-map-pick")).to_have_attribute("visibility", "visible")

    page.get_by_label("What did you see?").fill("A girl in a red jacket near the bus stop.")
    page.get_by_role("button", name="Send the sighting").click()
    thanks = page.get_by_text(re.compile(r"reference S-\d+"))
    expect(thanks).to_be_visible()
    reference = re.search(r"S-\d+", thanks.inner_text())
    assert reference is not None
    alert_url = page.url

    page.goto(f"{server}/accounts/login/?next=/alerts/manage/")
    page.get_by_label("Username").fill("demo-investigator")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name=re.compile("sign in", re.I)).click()
    alert_id = alert_url.rstrip("/").rsplit("/", 1)[-1]
    page.goto(f"{server}/alerts/manage/{alert_id}/")
    row = page.locator("tr", has_text=reference.group(0))
    expect(row).to_contain_text("Chosen on the map")
    expect(row).to_contain_text(f"{latitude:.4f}")
