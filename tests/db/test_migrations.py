"""Migrations on the run's database (SQLite in ``make test``, PostgreSQL in ``make test-pg``):

- from empty to head: the schema is exactly the models' (no autogenerate difference);
- from a previous release's head with data in it (cases, entitlements and their members, payment
  instructions, a reserve fund and its ledger, outbox messages, household memberships) to head:
  every row is still there and reads back the same through the models, and the code of the new
  release writes on top of it (the payroll compiles the old entitlements, the fund is debited,
  new rows get fresh ids).
"""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import Session, SQLModel, select

import jiuzhu.db.models_membership
import jiuzhu.db.models_payments
import jiuzhu.db.models_temporary  # noqa: F401  (every table in the metadata)
from activities.payments import instructions
from activities.temporary.reserve_fund import debit
from jiuzhu.db.engine import make_engine, unit_of_work
from jiuzhu.db.migrate import alembic_config, upgrade
from jiuzhu.db.models import CaseRecord, OutboxMessage, PaymentInstruction
from jiuzhu.db.models_membership import HouseholdMembership
from jiuzhu.db.models_payments import EntitlementAccount, EntitlementMember
from jiuzhu.db.models_temporary import ReserveFund, ReserveFundEntry

# The heads of earlier releases a production database may stand at (0014 access log, 0015
# outbox void); an upgrade from each must keep its data.
PREVIOUS_RELEASES = ("access_log_0001", "outbox_void_0001")

COUNTY, TOWNSHIP, VILLAGE = "419958", "419958001", "419958001001"
AT = datetime(2026, 10, 1, 8, 30, tzinfo=UTC)
HEAD_ID = "419958195001011234"
MEMBER_ID = "41995819800202123X"
ACCOUNT = "6217000011112222"


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def test_upgrade_from_empty_builds_the_models_schema(scratch_db_url: str) -> None:
    upgrade(scratch_db_url)
    engine = make_engine(scratch_db_url)
    try:
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
        assert diff == [], f"models and migrations differ on {engine.dialect.name}: {diff}"
        upgrade(scratch_db_url)  # a second start changes nothing
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def _instant(engine: sa.Engine) -> datetime:
    """``AT`` as the release wrote it: UTC wall time on SQLite, an aware instant on PostgreSQL."""
    return AT.replace(tzinfo=None) if engine.dialect.name == "sqlite" else AT


def _seed_release(engine: sa.Engine) -> None:
    """Rows as a previous release wrote them, through its own tables (reflected: the models
    describe the head, not that revision). No explicit ids: sequences must move on."""
    meta = sa.MetaData()
    names = [
        "case_record",
        "entitlement_account",
        "entitlement_member",
        "payment_instruction",
        "reserve_fund",
        "reserve_fund_entry",
        "outbox_message",
        "household_membership",
    ]
    meta.reflect(engine, only=names)
    t = meta.tables
    at = _instant(engine)
    account: dict[str, Any] = {
        "workflow_id": "",
        "household_id": "",
        "programme": "dibao",
        "area_code": VILLAGE,
        "county_code": COUNTY,
        "township_code": TOWNSHIP,
        "status": "active",
        "centralised": False,
        "monthly_amount": Decimal("640.00"),
        "payable_amount": Decimal("640.00"),
        "members_total": 2,
        "members_paid": 2,
        "start_month": 2026 * 12,
        "payee_name": "王大山",
        "payee_id_number": HEAD_ID,
        "card_account": ACCOUNT,
        "bank_code": "",
        "revision": 3,
        "updated_at": at,
    }
    with engine.begin() as conn:
        conn.execute(
            t["case_record"].insert(),
            [
                {
                    "case_id": f"HM{i}-dibao",
                    "workflow_id": f"entitlement-HM{i}-dibao",
                    "case_kind": "entitlement",
                    "programme": "dibao",
                    "status": "active",
                    "area_code": VILLAGE,
                    "county_code": COUNTY,
                    "township_code": TOWNSHIP,
                    "household_id": f"HM{i}",
                    "applicant_name": "王大山",
                    "applicant_id_number": HEAD_ID,
                    "household_size": 2,
                    "overdue": False,
                    "revision": 3,
                    "detail": {"note": "上一版本写入"},
                    "created_at": at,
                    "updated_at": at,
                }
                for i in (1, 2)
            ],
        )
        conn.execute(
            t["entitlement_account"].insert(),
            [
                {
                    **account,
                    "case_id": f"HM{i}-dibao",
                    "workflow_id": f"entitlement-HM{i}-dibao",
                    "household_id": f"HM{i}",
                    "card_account": f"{ACCOUNT[:-1]}{i}",
                }
                for i in (1, 2)
            ],
        )
        conn.execute(
            t["entitlement_member"].insert(),
            [
                {
                    "case_id": "HM1-dibao",
                    "id_number": HEAD_ID,
                    "name": "王大山",
                    "relation": "self",
                    "share_status": "active",
                },
                {
                    "case_id": "HM1-dibao",
                    "id_number": MEMBER_ID,
                    "name": "李小花",
                    "relation": "spouse",
                    "share_status": "active",
                },
            ],
        )
        conn.execute(
            t["payment_instruction"].insert(),
            {
                "idempotency_key": "payroll:HM1:dibao:2026-09",
                "kind": "payroll",
                "case_id": "HM1-dibao",
                "household_id": "HM1",
                "programme": "dibao",
                "area_code": VILLAGE,
                "county_code": COUNTY,
                "period": "2026-09",
                "amount": Decimal("640.00"),
                "payee_name": "王大山",
                "payee_id_number": HEAD_ID,
                "card_account": f"{ACCOUNT[:-1]}1",
                "funding_source": "county",
                "payroll_id": f"payroll-{COUNTY}-2026-09",
                "status": "paid",
                "attempts": 1,
                "created_at": at,
                "paid_at": at,
            },
        )
        conn.execute(
            t["reserve_fund"].insert(),
            {
                "township_code": TOWNSHIP,
                "county_code": COUNTY,
                "balance_fen": 500_000,
                "created_at": at,
                "updated_at": at,
            },
        )
        conn.execute(
            t["reserve_fund_entry"].insert(),
            {
                "dedupe_key": "release-opening",
                "township_code": TOWNSHIP,
                "county_code": COUNTY,
                "direction": "credit",
                "purpose": "replenishment",
                "amount_fen": 500_000,
                "balance_after_fen": 500_000,
                "note_zh": "县级拨付",
                "created_at": at,
            },
        )
        conn.execute(
            t["outbox_message"].insert(),
            {
                "dedupe_key": "HM1-dibao:review:reminder",
                "kind": "reminder",
                "recipient_role": "township_officer",
                "recipient_area": TOWNSHIP,
                "case_id": "HM1-dibao",
                "workflow_id": "entitlement-HM1-dibao",
                "deadline_name": "review",
                "message_zh": "定期核查将到期",
                "due_at": at,
                "created_at": at,
            },
        )
        conn.execute(
            t["household_membership"].insert(),
            [
                {
                    "programme": "dibao",
                    "id_number": who,
                    "case_id": "HM1-dibao",
                    "household_id": "HM1",
                    "case_kind": "entitlement",
                    "member_name": name,
                    "claimed_at": at,
                }
                for who, name in ((HEAD_ID, "王大山"), (MEMBER_ID, "李小花"))
            ],
        )


@pytest.mark.parametrize("release", PREVIOUS_RELEASES)
def test_upgrade_from_a_previous_release_keeps_its_data(scratch_db_url: str, release: str) -> None:
    command.upgrade(alembic_config(scratch_db_url), release)
    engine = make_engine(scratch_db_url)
    try:
        assert current_revision(engine) == release
        _seed_release(engine)
        upgrade(scratch_db_url)
        assert current_revision(engine) == head_revision()

        with Session(engine) as s:
            cases = s.exec(select(CaseRecord).order_by(CaseRecord.case_id)).all()
            assert [c.case_id for c in cases] == ["HM1-dibao", "HM2-dibao"]
            assert all(c.applicant_id_number == HEAD_ID for c in cases)
            assert cases[0].detail == {"note": "上一版本写入"}
            assert cases[0].created_at == AT and cases[0].overdue is False
            accounts = s.exec(select(EntitlementAccount).order_by(EntitlementAccount.id)).all()  # type: ignore[arg-type]
            assert [(a.payee_id_number, a.card_account) for a in accounts] == [
                (HEAD_ID, f"{ACCOUNT[:-1]}1"),
                (HEAD_ID, f"{ACCOUNT[:-1]}2"),
            ]
            assert accounts[0].payable_amount == Decimal("640.00")
            members = s.exec(select(EntitlementMember).order_by(EntitlementMember.id)).all()  # type: ignore[arg-type]
            assert [m.id_number for m in members] == [HEAD_ID, MEMBER_ID]
            paid = s.exec(select(PaymentInstruction)).one()
            assert (paid.payee_id_number, paid.status, paid.paid_at) == (HEAD_ID, "paid", AT)
            outbox = s.exec(select(OutboxMessage)).one()
            assert outbox.due_at == AT and outbox.voided_at is None
            claims = s.exec(select(HouseholdMembership)).all()
            assert sorted(c.id_number for c in claims) == sorted([HEAD_ID, MEMBER_ID])
            fund = s.get(ReserveFund, TOWNSHIP)
            assert fund is not None and fund.balance_fen == 500_000

        # The new release works on the old rows: the month compiles the old entitlements
        # (payee and account copied as stored), the fund is debited, ids move on.
        with unit_of_work(engine) as s:
            instructions.insert_payroll_chunk(
                s,
                payroll_id=f"payroll-{COUNTY}-2026-10",
                county=COUNTY,
                after=0,
                upto=10**12,
                period_index=2026 * 12 + 9,
                quarterly=False,
                monthly_key="2026-10",
                quarterly_key="2026-Q4",
                now=datetime.now(UTC),
            )
            debit(
                s,
                township=TOWNSHIP,
                amount_fen=120_000,
                dedupe_key="after-upgrade",
                purpose="prepayment",
                case_id=None,
                actor=None,
                note_zh="先行救助",
            )
        with Session(engine) as s:
            october = s.exec(
                select(PaymentInstruction)
                .where(PaymentInstruction.period == "2026-10")
                .order_by(PaymentInstruction.id)  # type: ignore[arg-type]
            ).all()
            assert [(p.household_id, p.payee_id_number, p.card_account) for p in october] == [
                ("HM1", HEAD_ID, f"{ACCOUNT[:-1]}1"),
                ("HM2", HEAD_ID, f"{ACCOUNT[:-1]}2"),
            ]
            old = s.exec(
                select(PaymentInstruction).where(PaymentInstruction.period == "2026-09")
            ).one()
            assert all(p.id is not None and old.id is not None and p.id > old.id for p in october)
            entries = s.exec(select(ReserveFundEntry).order_by(ReserveFundEntry.id)).all()  # type: ignore[arg-type]
            assert [(e.direction, e.balance_after_fen) for e in entries] == [
                ("credit", 500_000),
                ("debit", 380_000),
            ]
    finally:
        engine.dispose()
