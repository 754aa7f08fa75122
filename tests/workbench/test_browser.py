"""The workbench in headless Chromium over real HTTP (harness: ``tests/workbench/browser.py``):
an officer signs in through the form, finds the case on the worklist and opens it by its link;
an officer of another township gets the 403 page for the same URL; every field has a label; the
keyboard reaches the skip link first and the skip link moves on to the main content; at 200 %
zoom (640 × 800 CSS pixels) the worklist needs no horizontal scrolling and cuts off no text.

Screenshots in ``var/test-artifacts/workbench/``. The case lives in 西山村 of 西山乡 (419901003),
whose officer is made here (few other tests have cases there; an area must be in the registry
``rules/areas.py`` to take an application); the officer of another township is 东湖乡's
(``township2``, tests/conftest.py)."""

import httpx
import pytest_asyncio
from playwright.async_api import Page, expect
from sqlalchemy import Engine
from temporalio.worker import Worker

from jiuzhu.contract import Role
from jiuzhu.officers import create_officer
from tests.application.helpers import create, step
from tests.conftest import token_for
from tests.factories import application_body
from tests.workbench import browser
from tests.workbench.browser import (
    clipped_text,
    first_focusable,
    focused,
    overflow,
    screenshot,
    sign_in,
    unlabelled_fields,
)

# The harness's fixtures, used by name below.
chromium = browser.chromium
live_server = browser.live_server
page = browser.page

TOWNSHIP = "419901003"  # 西山乡
VILLAGE = f"{TOWNSHIP}001"  # 西山村
OFFICER = "browser-township3"
OTHER_OFFICER = "township2"  # 东湖乡 (419901002)
MAX_TABS = 100  # the worklist may hold other tests' cases of 西山乡 before this one


@pytest_asyncio.fixture(scope="module")
async def case_id(api: httpx.AsyncClient, engine: Engine, worker: Worker) -> str:
    """One accepted application in VILLAGE, and TOWNSHIP's officer who accepted it."""
    create_officer(
        engine,
        f"officer-{OFFICER}",
        "西山乡经办",
        Role.TOWNSHIP_OFFICER,
        TOWNSHIP,
        token_for(OFFICER),
    )
    app_id, _ = await create(api, application_body(area_code=VILLAGE), who=OFFICER)
    await step(api, app_id, "accept", {}, who=OFFICER)
    return app_id


async def test_officer_signs_in_sees_the_worklist_and_opens_the_case(
    page: Page, case_id: str
) -> None:
    await page.goto("/workbench")
    assert await unlabelled_fields(page) == []
    await screenshot(page, "signin.png")

    await sign_in(page, OFFICER)
    link = page.get_by_role("link", name=case_id)
    await expect(link).to_be_visible()
    assert await unlabelled_fields(page) == []
    await screenshot(page, "worklist.png")

    await link.click()
    await expect(page).to_have_url(f"/workbench/cases/{case_id}")
    await expect(page.get_by_role("heading", level=1)).to_contain_text(case_id)
    await expect(page.get_by_role("heading", name="办理记录")).to_be_visible()
    assert await unlabelled_fields(page) == []
    await screenshot(page, "case.png")


async def test_officer_of_another_township_gets_the_403_page(page: Page, case_id: str) -> None:
    await sign_in(page, OTHER_OFFICER)
    await expect(page.get_by_role("link", name=case_id)).to_have_count(0)
    response = await page.goto(f"/workbench/cases/{case_id}")
    assert response is not None and response.status == 403
    await expect(page.get_by_role("alert")).to_have_text("该案件不在您的辖区内")
    await expect(page.get_by_text(case_id)).to_have_count(0)
    await screenshot(page, "forbidden.png")


async def test_keyboard_reaches_the_skip_link_first_and_it_moves_focus_to_main(
    page: Page, case_id: str
) -> None:
    await sign_in(page, OFFICER)
    await page.goto("/workbench")  # a fresh load: focus starts at the top of the document

    await page.keyboard.press("Tab")
    first = await focused(page)
    assert first["skip"] and first["href"] == "#main", first
    assert first["visible"] and first["outline"], first  # shown when focused, with an outline
    await screenshot(page, "skip-link.png")

    # Tab on from the skip link: each stop visible with a focus outline, up to the case's link.
    stops = []
    for _ in range(MAX_TABS):
        await page.keyboard.press("Tab")
        now = await focused(page)
        assert now["visible"] and now["outline"], now
        stops.append(now["what"])
        if now["href"] == f"/workbench/cases/{case_id}":
            break
    else:
        raise AssertionError(f"the case's link is not among {MAX_TABS} tab stops: {stops}")

    # Enter on the skip link: the next Tab starts inside main (or main itself takes focus).
    await page.goto("/workbench")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Enter")
    await expect(page).to_have_url("/workbench#main")
    landed = await focused(page)
    if not (landed["isMain"] or landed["inMain"]):
        await page.keyboard.press("Tab")
        landed = await focused(page)
    assert landed["isMain"] or landed["what"] == await first_focusable(page, "main"), landed


async def test_worklist_at_200_percent_zoom_reflows_without_clipping(
    page: Page, case_id: str
) -> None:
    # 200 % zoom on a 1280 × 1600 screen: a 640 × 800 CSS-pixel window.
    await page.set_viewport_size({"width": 640, "height": 800})
    await sign_in(page, OFFICER)
    await expect(page.get_by_role("link", name=case_id)).to_be_visible()
    await screenshot(page, "worklist-200.png")
    sizes = await overflow(page)
    assert sizes["scrollWidth"] <= sizes["innerWidth"], sizes
    assert await clipped_text(page) == []

    await page.get_by_role("link", name=case_id).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(case_id)
    await screenshot(page, "case-200.png")
    sizes = await overflow(page)
    assert sizes["scrollWidth"] <= sizes["innerWidth"], sizes
    assert await clipped_text(page) == []
