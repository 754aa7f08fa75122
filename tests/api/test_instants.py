"""Every instant is timezone-aware end to end: stored as UTC, answered in RFC 3339 with an
offset, and compared as an instant in query filters (an input without an offset is Beijing
time). Bad paging and ids are a 4xx, never a 500."""

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from jiuzhu.clock import BEIJING
from jiuzhu.db.models import CaseRecord, OutboxMessage
from tests.conftest import auth
from tests.factories import case_record

DUE = datetime(2026, 12, 3, 0, 0, tzinfo=BEIJING)  # = 2026-12-02T16:00:00Z


def _offset_of(value: str) -> timedelta | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).utcoffset()


@pytest.fixture
def due_case(engine: Engine) -> str:
    """A case in the read model whose next deadline is 2026-12-03 00:00 Beijing time."""
    household = f"H-{uuid.uuid4().hex[:12]}"
    with Session(engine) as s:
        s.add(
            case_record(
                f"A{uuid.uuid4().hex[:15].upper()}",
                workflow_id="application-test",
                status="publicity",
                household_id=household,
                next_deadline=DUE,
            )
        )
        s.commit()
    return household


def test_instants_are_stored_as_utc(engine: Engine, due_case: str) -> None:
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT next_deadline FROM case_record WHERE household_id = :h"), {"h": due_case}
        ).scalar_one()
    assert str(stored).startswith("2026-12-02 16:00:00")
    with Session(engine) as s:
        row = s.exec(select(CaseRecord).where(CaseRecord.household_id == due_case)).first()
    assert row is not None and row.next_deadline == DUE and row.next_deadline.tzinfo is not None


@pytest.mark.parametrize(
    ("before", "found"),
    [
        ("2026-12-02T17:00:00Z", True),
        ("2026-12-03T01:00:00+08:00", True),
        ("2026-12-02T16:00:01Z", True),
        ("2026-12-02T16:00:00Z", False),  # strictly before
        ("2026-12-03T00:00:00+08:00", False),
        ("2026-12-02T23:00:00-01:00", True),  # = 2026-12-03T00:00Z
        ("2026-12-03T00:30:00", True),  # no offset: Beijing time
        ("2026-12-02T23:59:59", False),  # no offset: Beijing time, before the deadline
    ],
)
async def test_deadline_before_compares_instants(
    api: httpx.AsyncClient, due_case: str, before: str, found: bool
) -> None:
    r = await api.get(
        "/applications",
        params={"deadline_before": before, "household_id": due_case},
        headers=auth("township"),
    )
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert (len(items) == 1) is found, (before, items)
    if found:
        item = items[0]
        assert _offset_of(item["next_deadline"]) is not None, item["next_deadline"]
        assert datetime.fromisoformat(item["next_deadline"]) == DUE
        assert _offset_of(item["updated_at"]) is not None, item["updated_at"]


async def test_a_bad_instant_is_422_naming_the_field(api: httpx.AsyncClient) -> None:
    r = await api.get(
        "/applications", params={"deadline_before": "next tuesday"}, headers=auth("township")
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "deadline_before"


async def test_messages_answer_instants_with_their_offset(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    with Session(engine) as s:
        msg = OutboxMessage(
            dedupe_key=f"test-{uuid.uuid4().hex}",
            kind="reminder",
            recipient_role="township_officer",
            recipient_area="419901001",
            case_id="ATEST",
            workflow_id="application-ATEST",
            message_zh="明天到期",
            due_at=DUE,
        )
        s.add(msg)
        s.commit()
        s.refresh(msg)
        message_id = msg.id
    r = await api.post(f"/me/messages/{message_id}/acknowledge", headers=auth("township"))
    assert r.status_code == 200, r.text
    body = r.json()
    for field in ("due_at", "created_at", "acknowledged_at"):
        assert _offset_of(body[field]) is not None, (field, body[field])
    assert datetime.fromisoformat(body["due_at"]) == DUE
    acked = datetime.fromisoformat(body["acknowledged_at"])
    assert abs(acked - datetime.now(UTC)) < timedelta(minutes=5)
    r = await api.get("/me/messages", params={"case_id": "ATEST"}, headers=auth("township"))
    assert all(_offset_of(m["created_at"]) is not None for m in r.json()["items"])


async def test_reserve_fund_entries_answer_instants_with_their_offset(
    api: httpx.AsyncClient,
) -> None:
    r = await api.post(
        "/reserve-funds/419901001/replenishments",
        json={"amount": "10.00"},
        headers={**auth("county"), "Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code == 201, r.text
    assert _offset_of(r.json()["entry"]["created_at"]) is not None
    r = await api.get("/reserve-funds/419901001", headers=auth("township"))
    assert all(_offset_of(e["created_at"]) is not None for e in r.json()["entries"])


async def test_replenishment_key_with_a_different_body_is_422(api: httpx.AsyncClient) -> None:
    headers = {**auth("county"), "Idempotency-Key": uuid.uuid4().hex}
    path = "/reserve-funds/419901001/replenishments"
    first = await api.post(path, json={"amount": "10.00"}, headers=headers)
    again = await api.post(path, json={"amount": "10.00"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json()["entry"]["id"] == again.json()["entry"]["id"]
    r = await api.post(path, json={"amount": "20.00"}, headers=headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "Idempotency-Key"


HUGE = "99999999999999999999999"


@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("township", "/applications"),
        ("township", "/entitlements"),
        ("township", "/temporary-cases"),
        ("township", "/temporary-cases?open_prepayments=true"),
        ("township", "/me/messages"),
        ("county", "/payroll/419901"),
        ("township", "/reserve-funds/419901001"),
    ],
)
@pytest.mark.parametrize(
    "query", [f"offset={HUGE}", "offset=-1", f"limit={HUGE}", "limit=0", "limit=-5"]
)
async def test_bad_paging_is_422_not_500(
    api: httpx.AsyncClient, who: str, path: str, query: str
) -> None:
    joiner = "&" if "?" in path else "?"
    r = await api.get(f"{path}{joiner}{query}", headers=auth(who))
    assert r.status_code == 422, (path, query, r.status_code, r.text)
    field = query.split("=")[0]
    assert r.json()["errors"][0]["field"] == field


@pytest.mark.parametrize("message_id", [HUGE, "-1", "0", "abc", "1e3"])
async def test_bad_message_ids_are_4xx(api: httpx.AsyncClient, message_id: str) -> None:
    r = await api.post(f"/me/messages/{message_id}/acknowledge", headers=auth("township"))
    assert 400 <= r.status_code < 500, (message_id, r.status_code, r.text)
