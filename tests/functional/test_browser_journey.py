"""The investigator's first journey, in a real Chromium against a real `reunite serve`.

Log in, register a missing person with a photo, find them by pinyin, open the detail page,
switch the language.  The server is a separate process over its own SQLite file, seeded by
`reunite demo` (small), so this exercises the same code paths a user's browser does.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser_support import demo_server
from tests.conftest import png_bytes

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
DEMO_PASSWORD = "Reunite-demo-2026"
DEMO_COUNTY = "510106"  # 成都市金牛区, where the demo investigator's bureau is
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    var = tmp_path_factory.mktemp("browser-var")
    with demo_server(var, missing=30, found=30, ready_path="/accounts/login/") as url:
        yield url


@pytest.fixture
def page(server: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
        pg = context.new_page()
        pg.set_default_timeout(15_000)
        yield pg
        context.close()
        browser.close()


def test_register_find_by_pinyin_and_switch_language(server: str, page, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    photo = tmp_path / "face.png"
    photo.write_bytes(png_bytes((120, 160), "peru"))

    page.goto(f"{server}/accounts/login/")
    page.get_by_label("Username").fill("demo-investigator")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name=re.compile("sign in", re.I)).click()
    expect(page).to_have_url(f"{server}/")
    page.screenshot(path=str(SCREENSHOTS / "home.png"), full_page=True)

    page.goto(f"{server}/people/missing/new/")
    page.get_by_label("Full name").fill("欧阳晓梅")
    page.get_by_label("Sex").select_option("F")
    page.get_by_label("Date of birth").fill("2015-03-14")
    page.get_by_label(re.compile("^Last seen \\(date and time\\)")).fill("2026-11-20T16:30")
    page.get_by_label(re.compile("^Last seen in")).fill(DEMO_COUNTY)
    page.get_by_label("Photos").set_input_files(str(photo))
    page.get_by_role("button", name="Save report").click()
    expect(page.get_by_text("欧阳晓梅").first).to_be_visible()
    detail_url = page.url

    page.goto(f"{server}/people/missing/")
    page.get_by_label("Search").fill("ouyang xiaomei")
    page.get_by_label("Search").press("Enter")
    link = page.get_by_role("link", name=re.compile("欧阳晓梅"))
    expect(link).to_have_count(1)
    link.click()
    expect(page).to_have_url(detail_url)
    expect(page.locator("img[src*='/people/photos/']")).to_have_count(1)

    page.get_by_label("Language").select_option("zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "detail-zh.png"), full_page=True)
