"""Masking by role and the access log on the real server (issue 12 item 5; PIPL Art. 28, 51,
55): ID numbers are masked to their first 6 and last 4 characters and card accounts to their
last 4 unless the role needs them — the case's township and county read ID numbers, finance
reads accounts, auditors and admins read masked data; each unmasked read of a person's file
(and each codec decode) is one row of the access log, which an auditor or admin of the area
queries by officer, case and time range; bad queries are 4xx naming the field."""

import base64
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from temporalio.client import Client
from temporalio.worker import Worker

from api.masking import (
    Disclosure,
    _needs_masking,
    mask,
    mask_account,
    mask_bank_line,
    mask_id_number,
)
from jiuzhu.contract import Role
from jiuzhu.db.models_access import AccessLogEntry
from jiuzhu.officers import create_officer
from jiuzhu.settings import Settings
from tests.conftest import auth
from tests.entitlements.helpers import approved_case, start_entitlement, wait_published
from tests.factories import application_body
from tests.temporary.helpers import create_case

ID = "419901197005171012"


def test_mask_rules() -> None:
    assert mask_id_number(ID) == "419901********1012"
    assert mask_account("6217000000000001234") == "***************1234"
    data = {
        "members": [{"id_number": ID, "name": "张建明", "birth_date": "1970-05-17"}],
        "card_account": {"account_number": "6217000000000001234", "holder_id_number": ID},
        "note_zh": f"死亡比对：{ID}",
        "recovery_id": f"recovery-H1-{ID}",  # identifiers stay as they are
    }
    masked = mask(data, Disclosure(id_numbers=False, accounts=False))
    # The birth date is what the ID number's mask hides: the year only.
    assert masked["members"][0] == {
        "id_number": "419901********1012",
        "name": "张建明",
        "birth_date": "1970-**-**",
    }
    assert masked["card_account"] == {
        "account_number": "***************1234",
        "holder_id_number": "419901********1012",
    }
    assert masked["note_zh"] == "死亡比对：419901********1012"
    assert masked["recovery_id"] == data["recovery_id"]
    finance = mask(data, Disclosure(id_numbers=False, accounts=True))
    assert finance["card_account"]["account_number"] == "6217000000000001234"
    assert finance["card_account"]["holder_id_number"] == "419901********1012"
    township = mask(data, Disclosure(id_numbers=True, accounts=False))
    assert township["members"][0]["id_number"] == ID
    assert township["card_account"]["account_number"] == "***************1234"
    line = f"D|000001|payroll:H1:dibao:2030-01|6217000000000001234|张建明|{ID}|500.00|dibao|2030-01"
    assert mask_bank_line(line, Disclosure(False, False)).split("|")[3:6] == [
        "***************1234",
        "张建明",
        "419901********1012",
    ]
    assert mask_bank_line("H|JZPAY1|b|419901|20300110|1|500.00", Disclosure(False, False)) == (
        "H|JZPAY1|b|419901|20300110|1|500.00"
    )


def _log(engine: Engine, case_id: str) -> list[AccessLogEntry]:
    with Session(engine) as s:
        return list(
            s.exec(
                select(AccessLogEntry)
                .where(AccessLogEntry.case_id == case_id)
                .order_by(col(AccessLogEntry.id))
            ).all()
        )


_TEXTS = st.sampled_from(
    [ID, "6217000000000001234", "1970-05-17", "张建明", "", "419901", f"备注{ID}"]
)
_PERSONAL_KEYS = ["id_number", "holder_id_number", "birth_date", "account_number", "account"]
_KEYS = st.sampled_from([*_PERSONAL_KEYS, "card_account", "name", "note_zh", "case_id"])
_JSON = st.recursive(
    _TEXTS | st.integers() | st.none(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=12,
)


@given(data=_JSON, id_numbers=st.booleans(), accounts=st.booleans())
def test_an_answer_left_unparsed_is_one_masking_would_not_change(
    data: Any, id_numbers: bool, accounts: bool
) -> None:
    """The middleware skips parsing when ``_needs_masking`` says no: then ``mask`` must indeed
    leave the answer as it is."""
    seen = Disclosure(id_numbers=id_numbers, accounts=accounts)
    body = json.dumps(data, ensure_ascii=False).encode()
    if not _needs_masking(body, seen):
        assert mask(data, seen) == data


async def test_application_read_masked_by_role_and_unmasked_reads_logged(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    body = application_body()
    ids = [m["id_number"] for m in body["household"]]
    r = await api.post("/applications", json=body, headers=auth("township"))
    assert r.status_code == 201, r.text
    app_id = r.json()["application_id"]
    assert _log(engine, app_id) == []  # a POST answer is not a read of the file

    reads: dict[str, str] = {}
    for who in ("village", "township", "county", "finance", "auditor", "admin"):
        r = await api.get(
            f"/applications/{app_id}",
            headers={**auth(who), "X-Access-Reason": "%E5%AE%A1%E6%A0%B8"},  # 审核
        )
        if r.status_code == 200:
            reads[who] = r.text
    assert set(reads) >= {"township", "county", "auditor", "admin"}
    for who, text in reads.items():
        clear = who in ("township", "county")
        for id_number in ids:
            assert (id_number in text) is clear, who
            assert (mask_id_number(id_number) in text) is not clear, who

    # The list of the read model carries no ID numbers either way.
    r = await api.get("/applications", headers=auth("auditor"))
    assert r.status_code == 200 and not any(i in r.text for i in ids)

    entries = _log(engine, app_id)
    assert [(e.officer_id, e.role, e.kind, e.reason) for e in entries] == [
        ("officer-township", "township_officer", "application", "审核"),
        ("officer-county", "county_officer", "application", "审核"),
    ]
    assert all(e.area_code == body["area_code"] for e in entries)

    # The auditor queries it: by case, by officer, by time range, paginated.
    r = await api.get("/access-log", params={"case_id": app_id}, headers=auth("auditor"))
    assert r.status_code == 200, r.text
    page = r.json()
    assert page["total"] == 2
    assert [i["officer_id"] for i in page["items"]] == ["officer-county", "officer-township"]
    r = await api.get(
        "/access-log",
        params={"case_id": app_id, "officer_id": "officer-township", "limit": 1},
        headers=auth("admin"),
    )
    assert r.status_code == 200 and [i["role"] for i in r.json()["items"]] == ["township_officer"]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    r = await api.get(
        "/access-log", params={"case_id": app_id, "since": future}, headers=auth("auditor")
    )
    assert r.status_code == 200 and r.json()["total"] == 0
    # Other roles may not read the log; another county's auditor sees none of it.
    for who in ("village", "township", "county", "finance"):
        r = await api.get("/access-log", headers=auth(who))
        assert r.status_code == 403, (who, r.text)
    tag = uuid.uuid4().hex[:8]
    create_officer(engine, f"aud-{tag}", "外县督查", Role.AUDITOR, "410882", f"aud-{tag}")
    other = {"Authorization": f"Bearer aud-{tag}"}
    r = await api.get("/access-log", params={"case_id": app_id}, headers=other)
    assert r.status_code == 200 and r.json()["total"] == 0
    r = await api.get("/access-log", params={"area_code": "419901"}, headers=other)
    assert r.status_code == 403
    # Bad input: 4xx naming the field, nothing read.
    for params, field in (
        ({"limit": "0"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"since": "yesterday"}, "since"),
        ({"area_code": "41x"}, "area_code"),
        ({"since": future, "until": datetime.now(UTC).isoformat()}, "until"),
    ):
        r = await api.get("/access-log", params=params, headers=auth("auditor"))
        assert r.status_code == 422, (params, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert field in r.text, (params, r.text)


async def test_temporary_case_account_masked_except_finance(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    case = await create_case(api)
    case_id = case["case_id"]
    account = "6217000000000001234"

    async def read(who: str) -> tuple[int, str]:
        r = await api.get(f"/temporary-cases/{case_id}", headers=auth(who))
        return r.status_code, r.text

    status, township = await read("township")
    assert status == 200 and account not in township and mask_account(account) in township
    status, auditor = await read("auditor")
    assert status == 200 and account not in auditor
    assert case["members"][0]["id_number"] not in auditor
    assert [e.officer_id for e in _log(engine, case_id)] == ["officer-township"]


async def test_codec_decode_is_logged(api: httpx.AsyncClient, engine: Engine) -> None:
    wid = f"application-walk-{uuid.uuid4().hex[:8]}"
    plain = {"metadata": {"encoding": base64.b64encode(b"json/plain").decode()}, "data": ""}
    r = await api.post(
        "/codec/decode",
        json={"payloads": [plain]},
        headers={**auth("admin"), "X-Workflow-Id": wid, "X-Access-Reason": "ops"},
    )
    assert r.status_code == 200, r.text
    with Session(engine) as s:
        rows: list[Any] = list(
            s.exec(select(AccessLogEntry).where(AccessLogEntry.workflow_id == wid)).all()
        )
    assert [(x.officer_id, x.kind, x.reason) for x in rows] == [
        ("officer-admin", "codec_decode", "ops")
    ]


async def test_entitlement_account_in_clear_for_finance_only(
    api: httpx.AsyncClient, client: Client, worker: Worker, settings: Settings, engine: Engine
) -> None:
    inp = approved_case("419901001001", start_month=date(2026, 10, 1), members=1)
    await start_entitlement(client, settings.task_queue, inp)
    case_id = f"{inp.household_id}-dibao"
    await wait_published(engine, case_id)
    account = inp.card_account.account_number
    person = inp.household.members[0].id_number
    seen: dict[str, str] = {}
    for who in ("township", "county", "finance", "auditor", "admin"):
        r = await api.get(f"/entitlements/{case_id}", headers=auth(who))
        assert r.status_code == 200, (who, r.text)
        seen[who] = r.text
    assert account in seen["finance"] and person not in seen["finance"]
    for who in ("township", "county"):
        assert account not in seen[who] and person in seen[who]
    for who in ("auditor", "admin"):
        assert account not in seen[who] and person not in seen[who]
        assert mask_account(account) in seen[who]
    assert [e.officer_id for e in _log(engine, case_id)] == ["officer-township", "officer-county"]
