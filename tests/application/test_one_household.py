"""One person, at most one active household per programme (issue 11 item 4; 低保办法 Art. 6,
DOMAIN §7): the reproduction (a spouse of an approved 低保 household applies again in another
household → 409 naming the other case, nothing written), racing creates, claims released by
refusal/withdrawal/termination, an investigation adding a member held elsewhere, the explicit
household split (成员迁出) after which the member may be claimed, and the migration's back-fill
with the sweep report of duplicates from before the rule."""

import asyncio
import io
import uuid
from contextlib import redirect_stdout
from datetime import date
from typing import Any

import httpx
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from jiuzhu.db.engine import make_engine
from jiuzhu.db.migrate import alembic_config, upgrade
from jiuzhu.db.models import CaseRecord, IdempotencyKey
from jiuzhu.db.models_membership import HouseholdMembership
from jiuzhu.db.models_payments import EntitlementMember
from jiuzhu.db.sealing import blind_index
from jiuzhu.household_ids import household_id_for
from jiuzhu.membership import duplicates
from scripts import sweep_memberships
from tests.application.helpers import (
    card,
    create,
    household,
    investigation,
    step,
    through_publicity,
    to_opinion,
    wait_status,
)
from tests.conftest import auth
from tests.factories import id_number

AREA = "419901001001"


def person(name: str, relation: str, born: date) -> dict[str, str]:
    return {"name": name, "id_number": id_number(born), "relation": relation}


def body_of(*members: dict[str, str], programme: str = "dibao") -> dict[str, Any]:
    return {"programme": programme, "area_code": AREA, "household": list(members)}


def holder(engine: Engine, id_no: str, programme: str = "dibao") -> HouseholdMembership | None:
    with Session(engine) as s:
        return s.exec(
            select(HouseholdMembership).where(
                HouseholdMembership.programme == programme,
                HouseholdMembership.id_number_index == blind_index(id_no),
            )
        ).first()


async def wait_holder(
    engine: Engine, id_no: str, case_id: str | None, seconds: float = 20
) -> HouseholdMembership | None:
    """Poll the index until ``id_no`` is held by ``case_id`` (None: released)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while True:
        row = holder(engine, id_no)
        if (row.case_id if row else None) == case_id:
            return row
        assert loop.time() < end, (id_no, row.case_id if row else None, case_id)
        await asyncio.sleep(0.05)


def cases_of(engine: Engine, applicant_id_number: str) -> int:
    with Session(engine) as s:
        query = select(func.count()).where(
            CaseRecord.applicant_id_number_index == blind_index(applicant_id_number)
        )
        return int(s.exec(query).one())


def assert_conflict(r: httpx.Response, field: str, other_case_id: str) -> dict[str, Any]:
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = r.json()
    assert problem["code"] == "Conflict"
    assert problem["other_case_id"] == other_case_id
    assert [e["field"] for e in problem["errors"]] == [field]
    assert other_case_id in problem["detail"] and "成员迁出" in problem["detail"]
    return problem


async def approved_household(
    api: httpx.AsyncClient, env: WorkflowEnvironment, client: Client, engine: Engine
) -> tuple[dict[str, Any], str]:
    """An approved 低保 household A + S (entitlement running); returns (body, entitlement id)."""
    body = body_of(
        person("王建国", "applicant", date(1971, 6, 1)),
        person("赵秀英", "spouse", date(1973, 8, 9)),
    )
    app_id, _ = await create(api, body)
    await to_opinion(api, app_id, household(body, incomes={0: [("wage", "600.00")]}))
    await through_publicity(api, env, client, app_id)
    s = await step(
        api, app_id, "decision", {"outcome": "approve", "card_account": card(body)}, who="county"
    )
    assert s["status"] == "approved"
    entitlement_id = f"{s['household_id']}-dibao"
    for m in body["household"]:  # the entitlement holds both members now
        row = await wait_holder(engine, m["id_number"], entitlement_id)
        assert row is not None and row.case_kind == "entitlement"
    return body, entitlement_id


# --- (a) the reproduction, and (e) the household split ------------------------------
async def test_spouse_of_an_approved_household_is_refused_until_moved_out(
    api: httpx.AsyncClient, client: Client, env: WorkflowEnvironment, engine: Engine
) -> None:
    first, entitlement_id = await approved_household(api, env, client, engine)
    spouse = first["household"][1]
    second = body_of(person("孙志强", "applicant", date(1970, 2, 3)), {**spouse})
    key = f"k-{uuid.uuid4().hex}"
    r = await api.post(
        "/applications", json=second, headers={**auth("township"), "Idempotency-Key": key}
    )
    problem = assert_conflict(r, "household[1].id_number", entitlement_id)
    assert problem["other_case_kind"] == "entitlement"
    assert "低保" in problem["detail"]
    # Nothing written: no case, no workflow, no claim, no idempotency row.
    applicant = second["household"][0]["id_number"]
    assert cases_of(engine, applicant) == 0
    assert holder(engine, applicant) is None
    hh = household_id_for(applicant, AREA)
    assert (await client.count_workflows(f"HouseholdId = '{hh}'")).count == 0
    with Session(engine) as s:
        keys = s.exec(select(IdempotencyKey).where(col(IdempotencyKey.key).endswith(key))).all()
    assert keys == []

    # A bad move-out is refused naming the field; the applicant cannot move out.
    path = f"/entitlements/{entitlement_id}/move-outs"
    r = await api.post(
        path,
        json={"member_id_number": first["household"][0]["id_number"], "reason_zh": "分户"},
        headers=auth("township"),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "member_id_number", r.text
    r = await api.post(path, json={"reason_zh": "分户"}, headers=auth("township"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "member_id_number", r.text

    # The split: S moves out of A's household first, then the new application may claim S.
    r = await api.post(
        path,
        json={"member_id_number": spouse["id_number"], "reason_zh": "离婚后分户另行申请"},
        headers=auth("township"),
    )
    assert r.status_code == 201, r.text
    assert r.json()["notice_id"]
    await wait_holder(engine, spouse["id_number"], None)
    assert holder(engine, first["household"][0]["id_number"]) is not None  # A stays
    with Session(engine) as s:
        share = s.exec(
            select(EntitlementMember).where(
                EntitlementMember.case_id == entitlement_id,
                EntitlementMember.id_number_index == blind_index(spouse["id_number"]),
            )
        ).one()
    assert share.share_status == "moved_out"
    # Moving out twice is a wrong state.
    r = await api.post(
        path,
        json={"member_id_number": spouse["id_number"], "reason_zh": "再次迁出"},
        headers=auth("township"),
    )
    assert r.status_code == 409, r.text

    r = await api.post(
        "/applications", json=second, headers={**auth("township"), "Idempotency-Key": key}
    )
    assert r.status_code == 201, r.text
    new_id = r.json()["application_id"]
    assert (await wait_holder(engine, spouse["id_number"], new_id)) is not None


# --- (b) racing creates ------------------------------------------------------------------
async def test_ten_racing_applications_sharing_one_person_make_one(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    shared = person("周桂兰", "spouse", date(1975, 4, 4))
    bodies = [
        body_of(person(f"申请人{i}", "applicant", date(1969, 1, 10)), {**shared}) for i in range(10)
    ]
    answers = await asyncio.gather(
        *(api.post("/applications", json=b, headers=auth("township")) for b in bodies)
    )
    codes = sorted(r.status_code for r in answers)
    assert codes == [201] + [409] * 9, [r.text for r in answers if r.status_code not in (201, 409)]
    winner = next(r.json()["application_id"] for r in answers if r.status_code == 201)
    row = holder(engine, shared["id_number"])
    assert row is not None and row.case_id == winner
    for r in answers:
        if r.status_code == 409:
            assert_conflict(r, "household[1].id_number", winner)
    applicants = [b["household"][0]["id_number"] for b in bodies]
    assert sum(cases_of(engine, a) for a in applicants) == 1
    assert sum(1 for a in applicants if holder(engine, a) is not None) == 1


# --- (c) closing without approval releases ------------------------------------------------
async def test_withdrawn_application_releases_its_members(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    body = body_of(
        person("钱大伟", "applicant", date(1966, 3, 3)),
        person("吴小梅", "spouse", date(1967, 9, 1)),
    )
    app_id, _ = await create(api, body)
    spouse = body["household"][1]["id_number"]
    assert (await wait_holder(engine, spouse, app_id)) is not None
    again = body_of(person("郑海", "applicant", date(1965, 5, 5)), {**body["household"][1]})
    r = await api.post("/applications", json=again, headers=auth("township"))
    assert_conflict(r, "household[1].id_number", app_id)
    assert r.json()["other_case_kind"] == "application"

    await step(api, app_id, "withdraw", {"reason_zh": "申请人书面撤回"}, who="village")
    await wait_holder(engine, spouse, None)
    await wait_holder(engine, body["household"][0]["id_number"], None)
    new_id, _ = await create(api, again)
    assert (await wait_holder(engine, spouse, new_id)) is not None


async def test_refused_and_terminated_applications_release_their_members(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    refused = body_of(person("冯强", "applicant", date(1962, 7, 7)))
    app_id, _ = await create(api, refused)
    hh = household(refused, incomes={0: [("wage", "5000.00")]})
    await step(api, app_id, "accept", {})
    await step(api, app_id, "investigation", investigation(hh))
    await wait_status(api, app_id, "awaiting_opinion")
    await step(api, app_id, "initial-opinion", {"recommendation": "refuse"})
    s = await step(api, app_id, "decision", {"outcome": "refuse"}, who="county")
    assert s["status"] == "refused"
    await wait_holder(engine, refused["household"][0]["id_number"], None)
    again_id, _ = await create(api, refused)  # the person may apply again
    assert again_id != app_id

    ended = body_of(person("陈刚", "applicant", date(1963, 8, 8)))
    ended_id, _ = await create(api, ended)
    await step(api, ended_id, "accept", {})
    await step(api, ended_id, "end-review", {"grounds_zh": "三次拒绝入户调查"})
    await wait_holder(engine, ended["household"][0]["id_number"], None)


# --- the investigation claims the household it records ---------------------------------
async def test_investigation_adding_a_member_of_another_case_is_refused(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    other = body_of(person("褚亮", "applicant", date(1964, 2, 2)))
    other_id, _ = await create(api, other)
    body = body_of(
        person("卫东", "applicant", date(1961, 1, 1)), person("蒋芳", "spouse", date(1962, 2, 2))
    )
    app_id, _ = await create(api, body)
    await step(api, app_id, "accept", {})
    hh = household(body)
    hh["members"].append({**hh["members"][1], **other["household"][0], "relation": "other"})
    hh["members"][2]["birth_date"] = "1964-02-02"
    r = await api.post(
        f"/applications/{app_id}/investigation", json=investigation(hh), headers=auth("township")
    )
    assert_conflict(r, "household.members[2].id_number", other_id)
    s = await wait_status(api, app_id, "accepted")
    assert s["investigations"] == []  # nothing recorded

    # The investigation drops the spouse (not living together): the spouse is released.
    hh = household(body)
    hh["members"] = hh["members"][:1]
    await step(api, app_id, "investigation", investigation(hh))
    await wait_holder(engine, body["household"][1]["id_number"], None)
    assert holder(engine, body["household"][0]["id_number"]) is not None


# --- (d) migration back-fill and the sweep report --------------------------------------------
# Seeded with plain SQL (only the columns every revision since payments_0001 has), so the rows
# fit the schema at ``idempotency_0002`` as well as at head.
def seed_account(conn: sa.Connection, case_id: str, status: str, payee: str) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO entitlement_account (case_id, workflow_id, household_id, programme,"
            " area_code, county_code, township_code, status, centralised, monthly_amount,"
            " payable_amount, members_total, members_paid, start_month, payee_name,"
            " payee_id_number, card_account, bank_code, revision) VALUES (:c, :w, :h, 'dibao',"
            " :a, '419901', '419901001', :s, FALSE, 500, 500, 1, 1, 24300, '某某', :p,"
            " '6217001234567890123', '', 1)"
        ),
        {
            "c": case_id,
            "w": f"entitlement-{case_id}",
            "h": case_id,
            "a": AREA,
            "s": status,
            "p": payee,
        },
    )


def seed_member(conn: sa.Connection, case_id: str, id_no: str, share: str) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO entitlement_member (case_id, id_number, name, relation, share_status)"
            " VALUES (:c, :i, '成员', 'other', :s)"
        ),
        {"c": case_id, "i": id_no, "s": share},
    )


def seed_member_at_head(conn: sa.Connection, case_id: str, id_no: str, share: str) -> None:
    """A member as the head's code writes one: the ID number sealed, its blind index filled
    (jiuzhu/db/sealing.py), through the table's own insert."""
    table = EntitlementMember.__table__  # type: ignore[attr-defined]
    conn.execute(
        table.insert(),
        {
            "case_id": case_id,
            "id_number": id_no,
            "name": "成员",
            "relation": "other",
            "share_status": share,
        },
    )


def seed_case(
    conn: sa.Connection, case_id: str, kind: str, status: str, created: str, applicant: str
) -> None:
    conn.execute(
        sa.text(
            "INSERT INTO case_record (case_id, workflow_id, case_kind, programme, status,"
            " area_code, county_code, township_code, household_id, applicant_name,"
            " applicant_id_number, household_size, overdue, revision, detail, created_at,"
            " updated_at) VALUES (:c, :w, :k, 'dibao', :s, :a, '419901', '419901001', :c,"
            " '申请人', :p, 1, FALSE, 1, '{}', :t, :t)"
        ),
        {
            "c": case_id,
            "w": f"wf-{case_id}",
            "k": kind,
            "s": status,
            "a": AREA,
            "p": applicant,
            "t": f"{created} 00:00:00",
        },
    )


def _seed_before_the_rule(url: str, ids: dict[str, str]) -> None:
    """Two active 低保 entitlements sharing D, an ended one holding E, a cut share C, an open
    application whose applicant S is also a member of the first entitlement, a withdrawn one."""
    engine = make_engine(url)
    with engine.begin() as conn:
        for case_id, status, created in (
            ("H1-dibao", "active", "2025-01-01"),
            ("H2-dibao", "withdrawal", "2025-06-01"),
            ("H3-dibao", "ended", "2024-01-01"),
        ):
            seed_account(conn, case_id, status, ids["D"])
            seed_case(conn, case_id, "entitlement", "active", created, ids["D"])
        for case_id, who in (("H1-dibao", "D"), ("H1-dibao", "S"), ("H2-dibao", "D")):
            seed_member(conn, case_id, ids[who], "active")
        seed_member(conn, "H3-dibao", ids["E"], "active")
        seed_member(conn, "H2-dibao", ids["C"], "cut")
        seed_case(conn, "A-OPEN", "application", "accepted", "2026-01-01", ids["S"])
        seed_case(conn, "A-DONE", "application", "withdrawn", "2026-01-01", ids["W"])
    engine.dispose()


def test_migration_backfills_first_claimant_and_sweep_lists_duplicates(scratch_db_url: str) -> None:
    url = scratch_db_url  # the run's database: SQLite, or PostgreSQL in make test-pg
    command.upgrade(alembic_config(url), "idempotency_0002")
    ids = {k: id_number(date(1950, 3, 3)) for k in "DSECW"}
    _seed_before_the_rule(url, ids)
    upgrade(url)

    engine = make_engine(url)
    with Session(engine) as s:
        rows = {r.id_number: r for r in s.exec(select(HouseholdMembership)).all()}
        report = duplicates(s)
        report_elsewhere = duplicates(s, "410882")
    engine.dispose()
    assert rows[ids["D"]].case_id == "H1-dibao"  # the oldest case wins
    assert rows[ids["D"]].case_kind == "entitlement"
    assert rows[ids["S"]].case_id == "H1-dibao"  # entitlement (2025) before the application
    assert ids["E"] not in rows and ids["C"] not in rows and ids["W"] not in rows
    listed = {d.id_number: d.case_ids for d in report}
    assert listed == {ids["D"]: ["H1-dibao", "H2-dibao"], ids["S"]: ["A-OPEN", "H1-dibao"]}
    assert report_elsewhere == []

    out = io.StringIO()
    with redirect_stdout(out):
        assert sweep_memberships.main(["--database-url", url]) == 0
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and ids["D"] in lines[0] + lines[1]

    # Running the back-fill again (a re-stamped database) writes nothing twice.
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'idempotency_0002'"))
    engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as s:
        assert len(s.exec(select(HouseholdMembership)).all()) == len(rows)
    engine.dispose()


async def test_sweep_report_lists_a_seeded_duplicate_in_my_area(
    api: httpx.AsyncClient, engine: Engine
) -> None:
    dup = id_number(date(1951, 4, 4))
    suffix = uuid.uuid4().hex[:8]
    cases = [f"HX{suffix}{i}-dibao" for i in (1, 2)]
    with engine.begin() as conn:
        for case_id in cases:
            seed_account(conn, case_id, "active", dup)
            seed_member_at_head(conn, case_id, dup, "active")
    r = await api.get("/reports/duplicate-memberships", headers=auth("county"))
    assert r.status_code == 200, r.text
    found = [i for i in r.json()["items"] if i["id_number"] == dup]
    assert found and found[0]["case_ids"] == sorted(cases) and found[0]["programme"] == "dibao"
    r = await api.get("/reports/duplicate-memberships", headers=auth("other_county"))
    assert r.status_code == 200 and all(i["id_number"] != dup for i in r.json()["items"])
    r = await api.get("/reports/duplicate-memberships", headers=auth("township"))
    assert r.status_code == 403
    r = await api.get(
        "/reports/duplicate-memberships", params={"programme": "nope"}, headers=auth("admin")
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "programme"
