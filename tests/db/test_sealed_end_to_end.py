"""ID numbers and account numbers at rest (issue 12 item 3; PIPL Art. 28, 51): a 低保 household
approved and paid through the API on the real dev server leaves none of its ID numbers and not
its card account in the bytes of the SQLite database file or its write-ahead log — every column
holding them is sealed (``jiuzhu/db/sealing.py``) and the JSON columns (read model detail,
audit, timeline, stored notices, recorded step answers) hold none in clear — while the API
still finds the person by ID number (exact, through the blind index), the bank file still
carries the full numbers for finance and every other reader sees them masked."""

import asyncio
import json
import secrets
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, inspect, text
from temporalio.client import Client
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from tests.application.helpers import fast_forward, household, investigation, wait_status
from tests.conftest import auth
from tests.factories import id_number
from workflows.payments.contract import PayrollStatus, payroll_workflow_id
from workflows.payments.payroll import PayrollWorkflow

# A month of the demo county no other test pays (an open-ended entitlement is paid every month
# from its start): its payroll runs here alone.
PAID_MONTH = date(2034, 10, 1)


def sqlite_file(engine: Engine) -> Path | None:
    url = engine.url
    if url.get_backend_name() != "sqlite" or not url.database:
        return None
    return Path(url.database)


def raw_hits(db_file: Path, secrets_: list[str]) -> dict[str, int]:
    """How often each secret occurs in the bytes of the database file and its -wal file."""
    found: dict[str, int] = {}
    for path in (db_file, db_file.with_name(db_file.name + "-wal")):
        if not path.exists():
            continue
        data = path.read_bytes()
        for s in secrets_:
            n = data.count(s.encode("ascii"))
            if n:
                found[f"{path.name}:{s}"] = n
    return found


def table_hits(engine: Engine, secrets_: list[str]) -> dict[str, int]:
    """Rows of every table whose text, JSON or binary columns contain one of the secrets in
    clear: ``{"table.column": rows}`` (only columns with hits)."""
    found: dict[str, int] = {}
    with engine.connect() as conn:
        insp = inspect(conn)
        for table in insp.get_table_names():
            for column in insp.get_columns(table):
                name = column["name"]
                kind = str(column["type"]).upper()
                if not any(k in kind for k in ("CHAR", "TEXT", "JSON", "BLOB", "BINARY", "BYTEA")):
                    continue
                for s in secrets_:
                    n = conn.execute(
                        text(
                            f'SELECT COUNT(*) FROM "{table}" '
                            f'WHERE CAST("{name}" AS TEXT) LIKE :pattern'
                        ),
                        {"pattern": f"%{s}%"},
                    ).scalar_one()
                    if n:
                        key = f"{table}.{name}"
                        found[key] = found.get(key, 0) + int(n)
    return found


async def wait_run(client: Client, start: date, status: PayrollStatus, seconds: float = 90) -> Any:
    handle = client.get_workflow_handle_for(
        PayrollWorkflow.run, payroll_workflow_id("419901", start.year, start.month)
    )
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    state: Any = None
    while True:
        try:
            state = await handle.query(PayrollWorkflow.get_state)
        except RPCError:
            state = None
        if state is not None and state.status is status:
            return state
        assert loop.time() < end, f"payroll {start:%Y-%m}: still {state and state.status}"
        await asyncio.sleep(0.2)


def key() -> str:
    return uuid.uuid4().hex


async def keyed(
    api: httpx.AsyncClient, app_id: str, path: str, body: dict[str, Any], who: str = "township"
) -> dict[str, Any]:
    """One step under its own Idempotency-Key, sent twice: the retry gets the recorded answer."""
    headers = {**auth(who), "Idempotency-Key": key()}
    first = await api.post(f"/applications/{app_id}/{path}", json=body, headers=headers)
    assert first.status_code == 200, (path, first.text)
    again = await api.post(f"/applications/{app_id}/{path}", json=body, headers=headers)
    assert again.status_code == 200 and again.json() == first.json(), path
    answer: dict[str, Any] = first.json()
    return answer


async def test_approved_and_paid_household_leaves_no_id_or_account_in_the_database_file(
    api: httpx.AsyncClient, client: Client, env: WorkflowEnvironment, engine: Engine
) -> None:
    applicant_id = id_number(date(1961, 7, 23))
    spouse_id = id_number(date(1963, 2, 11))
    account = "6217" + "".join(str(secrets.randbelow(10)) for _ in range(15))
    body = {
        "programme": "dibao",
        "area_code": "419901001001",
        "household": [
            {"name": "赵守田", "id_number": applicant_id, "relation": "applicant"},
            {"name": "钱桂芳", "id_number": spouse_id, "relation": "spouse"},
        ],
    }
    # Every step under an Idempotency-Key: its recorded answer (the case's full state, ID
    # numbers and account included) is kept too — sealed.
    r = await api.post(
        "/applications", json=body, headers={**auth("township"), "Idempotency-Key": key()}
    )
    assert r.status_code == 201, r.text
    app_id = r.json()["application_id"]
    await keyed(api, app_id, "accept", {})
    await keyed(
        api, app_id, "investigation", investigation(household(body, {0: [("wage", "600")]}))
    )
    await wait_status(api, app_id, "awaiting_opinion")
    await keyed(api, app_id, "initial-opinion", {"recommendation": "approve"})
    await fast_forward(env, client, app_id, timedelta(days=8))
    await wait_status(api, app_id, "awaiting_decision")
    card = {
        "holder_name": "赵守田",
        "holder_id_number": applicant_id,
        "account_number": account,
        "bank_code": "ICBC",
    }
    s = await keyed(
        api, app_id, "decision", {"outcome": "approve", "card_account": card}, who="county"
    )
    assert s["status"] == "approved"
    entitlement_id = f"{s['household_id']}-dibao"
    assert date.fromisoformat(s["start_month"]) < PAID_MONTH  # paid from the month after

    # Found by ID number, exactly, through the blind index (GET /cases).
    r = await api.get("/cases", params={"id_number": applicant_id}, headers=auth("county"))
    assert r.status_code == 200, r.text
    assert app_id in [c["case_id"] for c in r.json()["items"]]
    r = await api.get(
        "/cases", params={"id_number": applicant_id[:-1] + "0"}, headers=auth("county")
    )
    assert r.status_code in (200, 422)
    if r.status_code == 200:
        assert app_id not in [c["case_id"] for c in r.json()["items"]]

    # Paid: the month started by backfill, funded by finance, reconciled.
    period = f"{PAID_MONTH:%Y-%m}"
    loop = asyncio.get_running_loop()
    end = loop.time() + 30
    while True:  # the entitlement publishes its account once it has started
        r = await api.get(f"/entitlements/{entitlement_id}", headers=auth("county"))
        if r.status_code == 200:
            break
        assert loop.time() < end, r.text
        await asyncio.sleep(0.1)
    r = await api.post("/payroll/419901/backfill", json={"period": period}, headers=auth("admin"))
    assert r.status_code == 202, r.text
    state = await wait_run(client, PAID_MONTH, PayrollStatus.AWAITING_FUNDING)
    total = str(state.compiled.pending_total)
    r = await api.post(
        f"/payroll/419901/{period}/funding",
        json={"amount": total, "reference": "SEALED-1"},
        headers=auth("finance"),
    )
    assert r.status_code == 200, r.text
    await wait_run(client, PAID_MONTH, PayrollStatus.RECONCILED)

    # The bank file carries the full numbers (written from decrypted values) — for finance.
    r = await api.get(f"/payroll/419901/{period}/bank-file", headers=auth("finance"))
    assert r.status_code == 200
    line = next(ln for ln in r.text.splitlines() if f":{s['household_id']}:dibao:" in ln)
    assert line.split("|")[3] == account and line.split("|")[5] == applicant_id
    r = await api.get(f"/payroll/419901/{period}/bank-file", headers=auth("auditor"))
    assert account not in r.text and applicant_id not in r.text
    # The entitlement read back and masked by role (decrypted values, then masked).
    r = await api.get(f"/entitlements/{entitlement_id}", headers=auth("finance"))
    assert account in r.text and applicant_id not in r.text
    r = await api.get(f"/entitlements/{entitlement_id}", headers=auth("county"))
    assert applicant_id in r.text and account not in r.text

    with engine.connect() as conn:
        answers = conn.execute(
            text("SELECT response FROM idempotency_key WHERE resource_id = :a"), {"a": app_id}
        ).all()
    recorded = [  # the create records none; each step its answer, sealed whole
        json.loads(r[0]) if isinstance(r[0], str) else r[0] for r in answers if r[0] is not None
    ]
    assert len(recorded) == 4
    assert all(list(r) == ["sealed"] and r["sealed"].startswith("v1:") for r in recorded)

    secret_values = [applicant_id, spouse_id, account]
    tables = table_hits(engine, secret_values)
    db_file = sqlite_file(engine)
    raw = raw_hits(db_file, secret_values) if db_file is not None else {}
    print("SEALED-REPORT tables", tables)
    print("SEALED-REPORT raw", raw)
    assert tables == {}
    assert raw == {}
