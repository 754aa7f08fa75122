"""The long-term public listing on the real server (issue 14 item 5): per village, name masked,
household size, programme and amount, rendered from the entitlements' read model — so it shows a
case that starts, an amount that changes and drops a case that ends (the ended one then stays in
the monitoring population as an exit, with its reason and date); HTML and PDF; no ID number,
address, illness or disability; officers of other areas are refused."""

import io
from datetime import date, timedelta

import httpx
from pypdf import PdfReader
from sqlalchemy import Engine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from jiuzhu.contract import Role
from jiuzhu.settings import Settings
from rules.authorities import township_authority_name
from tests.conftest import auth
from tests.entitlements.helpers import (
    account_row,
    actor,
    approved_case,
    start_entitlement,
    wait_for,
    wait_published,
)
from tests.monitoring.support import subject
from workflows.entitlements.models import (
    ChangeKind,
    ChangeReport,
    InvestigationClose,
    ReviewOutcome,
    ReviewOutcomeKind,
    WorkRefusal,
)
from workflows.entitlements.workflow import EntitlementWorkflow

VILLAGE = "419901001007"


def pdf_text(pdf: bytes) -> str:
    """All the text of ``pdf``, without the separators pypdf puts between glyphs (a space or
    NUL, from the glyph positions) — as ``pages_of`` in ``tests/notices/test_notice_pdfs.py``."""
    reader = PdfReader(io.BytesIO(pdf))
    return "".join(
        (page.extract_text() or "").replace(" ", "").replace("\x00", "") for page in reader.pages
    )


async def test_village_listing_follows_cases_and_hides_identities(
    api: httpx.AsyncClient,
    env: WorkflowEnvironment,
    client: Client,
    worker: Worker,
    settings: Settings,
    engine: Engine,
) -> None:
    url = f"/listings/{VILLAGE}"
    first = approved_case(VILLAGE, start_month=date(2026, 10, 1), amount="600.00", members=2)
    second = approved_case(VILLAGE, start_month=date(2026, 10, 1), amount="900.00", members=3)
    h1 = await start_entitlement(client, settings.task_queue, first)
    c1 = f"{first.household_id}-dibao"
    await wait_published(engine, c1)
    r = await api.get(url, headers=auth("township"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), r.text
    assert "王*山" in r.text and "600.00" in r.text and "共1户" in r.text
    assert township_authority_name(VILLAGE) in r.text and "乡镇人民政府（街道办事处）" not in r.text
    assert f"（{VILLAGE}）" not in r.text  # the title names the village, not its code
    r404 = await api.get("/listings/419999001001", headers=auth("county"))
    assert r404.status_code in (403, 422)

    # A case that starts is on it at once.
    h2 = await start_entitlement(client, settings.task_queue, second)
    c2 = f"{second.household_id}-dibao"
    await wait_published(engine, c2)
    html = (await api.get(url, headers=auth("county"))).text
    assert "共2户" in html and "900.00" in html and "1500.00" in html
    secrets = [m.id_number for m in (*first.household.members, *second.household.members)]
    secrets += [first.card_account.account_number, second.card_account.account_number]
    names = [m.name for m in (*first.household.members, *second.household.members)]
    for leaked in (*secrets, *names, "残疾", "疾病", "地址", "住址"):
        assert leaked not in html, leaked
    pdf = await api.get(f"{url}/pdf", headers=auth("township"))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and b"NotoSerifSC" in pdf.content
    # The PDF stores glyph codes, not the characters: read its text back to check it.
    text = pdf_text(pdf.content)
    assert "王*山" in text and "共2户" in text, text
    for leaked in (*secrets, *names, "残疾", "疾病", "地址", "住址"):
        assert leaked not in text, leaked

    # Areas and roles.
    assert (await api.get(url, headers=auth("village"))).status_code == 403  # another village
    assert (await api.get(url, headers=auth("township2"))).status_code == 403
    assert (await api.get(url, headers=auth("other_county"))).status_code == 403
    assert (await api.get(url, headers=auth("finance"))).status_code == 403
    r = await api.get("/listings/41990100100", headers=auth("county"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "village_code"

    # An amount that changes: a member's share cut after 3 unjustified work refusals, from
    # next month (低保办法 Art. 34).
    township = actor(Role.TOWNSHIP_OFFICER, "419901001")
    worker_member = second.household.members[1].id_number
    for _ in range(3):
        await h2.execute_update(
            EntitlementWorkflow.record_work_refusal,
            WorkRefusal(
                actor=township,
                member_id_number=worker_member,
                justified=False,
                description_zh="无正当理由拒绝推荐的公益性岗位",
            ),
        )

    # A case that ends: the county stops the first household after a review.
    receipt = await h1.execute_update(
        EntitlementWorkflow.report_change,
        ChangeReport(actor=township, kind=ChangeKind.INCOME, description_zh="户主外出务工"),
    )
    await h1.execute_update(
        EntitlementWorkflow.close_investigation,
        InvestigationClose(
            actor=township,
            investigation_id=receipt.investigation_id,
            finding_zh="户主稳定就业，月收入3000元",
            open_review=True,
        ),
    )
    await h1.execute_update(
        EntitlementWorkflow.record_review_outcome,
        ReviewOutcome(
            actor=actor(Role.COUNTY_OFFICER, "419901"),
            outcome=ReviewOutcomeKind.STOP,
            reasons_zh="家庭人均收入高于当地低保标准",
        ),
    )
    for handle in (h1, h2):
        await env.fast_forward(handle, timedelta(days=40))
    await wait_for(
        lambda: (account_row(engine, c1) or first).status == "ended",  # type: ignore[union-attr]
        what="first entitlement ended",
    )
    await wait_for(
        lambda: str((account_row(engine, c2) or second).payable_amount) == "600.00",  # type: ignore[union-attr]
        what="second household's cut share",
    )
    html = (await api.get(url, headers=auth("township"))).text
    assert "共1户" in html and "600.00" in html and "900.00" not in html
    # The board owes the changes, each case once: the first ended; the second, not yet posted,
    # comes on as it is now (tests/listings for the posting itself).
    r = await api.get(f"{url}/posting", headers=auth("township"))
    assert r.status_code == 200, r.text
    kinds = {p["case_id"]: p["kind"] for p in r.json()["pending"]}
    assert kinds == {c1: "end", c2: "start"}, kinds

    # The ended household stays in the monitoring population as an exit, with its reason.
    row = await wait_for(
        lambda: (s := subject(engine, c1)) is not None and s.category == "exited" and s,
        what="exit recorded",
    )
    assert row.ended_on is not None and "低保标准" in (row.reason_zh or "")
    r = await api.get(f"/monitoring?category=exited&area_code={VILLAGE}", headers=auth("county"))
    assert [i["source_case_id"] for i in r.json()["items"]] == [c1]
