"""A township officer's and a county officer's day in headless Chromium (issue: the officers'
workbench): the township officer signs in, creates an application through the form, accepts it,
records the home investigation and the initial opinion with paper dates (the publicity posted on
paper has ended: 低保办法 Art. 19), then the county officer confirms it (Art. 20) and opens the
decision's notice; an officer of another township gets the 403 page for the case. Every step goes
through the page's own forms; screenshots of the worklist, the case page with its forms and the
notice are kept in ``var/test-artifacts/workbench/``."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

from playwright.async_api import Page, expect

from jiuzhu.clock import beijing_today
from rules.id_number import birth_date_from_id
from tests.factories import application_body
from tests.workbench import browser
from tests.workbench.browser import screenshot, sign_in, unlabelled_fields

chromium = browser.chromium
live_server = browser.live_server
page = browser.page

VILLAGE = "419901001001"  # 城关镇's village, the conftest ``township`` officer's area
VERIFICATION_S = 30


def ago(days: int) -> str:
    return (beijing_today() - timedelta(days=days)).isoformat()


async def open_step(page: Page, slug: str) -> None:
    step = page.locator(f"#step-{slug}")
    await expect(step).to_be_visible()
    if await step.get_attribute("open") is None:
        await step.locator(":scope > summary").click()


async def submit_step(page: Page, slug: str, title: str) -> None:
    await page.locator(f"#step-{slug}").get_by_role("button", name=f"提交：{title}").click()
    await expect(page.get_by_role("status")).to_have_text(f"已办理：{title}")


async def test_an_application_from_the_new_form_to_the_county_decision(page: Page) -> None:
    body = application_body(area_code=VILLAGE)
    applicant, spouse = body["household"]
    await sign_in(page, "township")
    await screenshot(page, "day-worklist.png")

    # 新建申请
    await page.get_by_role("link", name="新建救助申请").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("新建救助申请")
    assert await unlabelled_fields(page) == []
    await page.locator('[name="programme"]').select_option("dibao")
    await page.locator('[name="area_code"]').fill(VILLAGE)
    await page.locator('[name="applied_on"]').fill(ago(45))
    for i, member in enumerate((applicant, spouse)):
        await page.locator(f'[name="household.{i}.name"]').fill(member["name"])
        await page.locator(f'[name="household.{i}.id_number"]').fill(member["id_number"])
        await page.locator(f'[name="household.{i}.relation"]').select_option(member["relation"])
    await page.get_by_role("button", name="提交申请").click()
    await expect(page).to_have_url(re.compile(r"/workbench/cases/A[0-9A-F]{15}$"))
    case_url = urlsplit(page.url).path
    case_id = case_url.rsplit("/", 1)[1]

    # 受理, on the paper date of the written acceptance.
    await open_step(page, "accept")
    await page.locator('#step-accept [name="accepted_on"]').fill(ago(44))
    await page.locator('#step-accept [name="documents"]').fill("申请书\n户口簿\n身份证")
    await submit_step(page, "accept", "受理")

    # 入户调查: the members come filled in from the application.
    await open_step(page, "investigation")
    form = page.locator("#step-investigation")
    await expect(form.locator('[name="household.members.0.id_number"]')).to_have_value(
        applicant["id_number"]
    )
    await form.locator('[name="visited_on"]').fill(ago(43))
    await form.locator('[name="investigators"]').fill("王调查\n李调查")
    await form.locator('[name="signed_by_household"]').select_option("true")
    await form.locator('[name="findings_zh"]').fill("入户查看住房、收入情况，与申报一致")
    for i, member in enumerate((applicant, spouse)):
        born = birth_date_from_id(member["id_number"]).isoformat()
        await expect(form.locator(f'[name="household.members.{i}.birth_date"]')).to_have_value(born)
        await form.locator(f'[name="household.members.{i}.hukou"]').select_option("rural")
    income = form.locator('[name="household.members.0.incomes.0.kind"]')
    await expect(income).to_be_hidden()  # optional rows are folded until used
    await form.locator("summary", has_text="月收入").first.click()  # the first member's
    await income.select_option("wage")
    await form.locator('[name="household.members.0.incomes.0.monthly_amount"]').fill("600.00")
    assert await unlabelled_fields(page) == []
    await screenshot(page, "day-investigation-form.png")
    await submit_step(page, "investigation", "入户调查")

    # The data verification runs in the background; the opinion is offered once it is done.
    for _ in range(VERIFICATION_S * 4):
        if await page.locator("#step-initial-opinion").count():
            break
        await page.wait_for_timeout(250)
        await page.goto(case_url)
    await open_step(page, "initial-opinion")
    form = page.locator("#step-initial-opinion")
    await form.locator('[name="recommendation"]').select_option("approve")
    await form.locator('[name="opinion_on"]').fill(ago(40))
    await form.locator('[name="posted_on"]').fill(ago(40))
    await submit_step(page, "initial-opinion", "初审")
    await expect(page.locator("#step-decision")).to_have_count(0)  # the county confirms
    await screenshot(page, "day-case-township.png")

    # The county officer finds it on the worklist and confirms it.
    await sign_in(page, "county")
    await page.get_by_label("姓名或身份证号").fill(applicant["id_number"])
    await page.get_by_role("button", name="筛选").click()
    await expect(page.get_by_role("link", name=case_id)).to_be_visible()
    await screenshot(page, "day-worklist-county.png")
    await page.get_by_role("link", name=case_id).click()
    await open_step(page, "decision")
    assert await unlabelled_fields(page) == []
    form = page.locator("#step-decision")
    await form.locator('[name="outcome"]').select_option("approve")
    await form.locator('[name="decided_on"]').fill(ago(30))
    await form.locator("summary", has_text="社会保障卡账户").click()  # optional: folded
    await form.locator('[name="card_account.holder_name"]').fill(applicant["name"])
    await form.locator('[name="card_account.holder_id_number"]').fill(applicant["id_number"])
    await form.locator('[name="card_account.account_number"]').fill("6217001234567890123")
    await submit_step(page, "decision", "审核确认")
    await screenshot(page, "day-case-county.png")

    # The decision's notice, as issued (the last one; the publicity notice came first).
    notices = page.get_by_role("region", name="文书")
    await expect(notices).to_contain_text("公示")
    await notices.get_by_role("link").filter(has_not_text="PDF").last.click()
    await expect(page.locator("body")).to_contain_text(applicant["name"])
    await expect(page.locator("body")).to_contain_text("500.00")
    await screenshot(page, "day-notice.png")

    # Another township's officer cannot see it.
    await sign_in(page, "township2")
    response = await page.goto(case_url)
    assert response is not None and response.status == 403
    await expect(page.get_by_role("alert")).to_have_text("该案件不在您的辖区内")
