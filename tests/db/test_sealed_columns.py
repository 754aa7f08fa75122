"""Column-level encryption of ID numbers and account numbers (``jiuzhu/db/sealing.py``, migration
0016; issue 12 item 3, PIPL Art. 28, 51): values are stored as ``v1:<key id>:<base64>`` and read
back in clear; a lookup by ID number finds the person exactly through the blind index; another
key ring cannot read the column; keys rotate (rows written under key 1 still read once key 2 is
current, new rows use key 2); a sealed column compared in SQL is refused; a database of the
previous release comes out of the migration sealed and still findable (and its SQLite file holds
none of the old clear numbers); production without column keys refuses to start."""

import base64
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from pydantic import SecretStr
from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from jiuzhu.codec import KeyRing
from jiuzhu.db import sealing
from jiuzhu.db.engine import make_engine
from jiuzhu.db.migrate import alembic_config, upgrade
from jiuzhu.db.models import CaseRecord, PaymentInstruction
from jiuzhu.db.models_application import RelativeRegistration, VerificationRecordRow
from jiuzhu.db.models_membership import HouseholdMembership
from jiuzhu.db.models_monitoring import MonitoringObservation, MonitoringSubject
from jiuzhu.db.models_payments import (
    BankClosedAccount,
    BankLedger,
    DeathRecord,
    EntitlementAccount,
    EntitlementMember,
)
from jiuzhu.db.models_referrals import Referral
from jiuzhu.db.sealing import (
    DataKeyError,
    DataKeys,
    SealedComparison,
    blind_index,
    data_keys,
    using,
)
from jiuzhu.membership import duplicates
from jiuzhu.settings import Settings
from jiuzhu.startup import check_startup
from tests.conftest import ROOT, TEST_CODEC_KEYS
from tests.factories import id_number

PREVIOUS_RELEASE = "outbox_void_0001"


def raw(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(text(sql), params).all())


def death(id_no: str) -> DeathRecord:
    return DeathRecord(
        id_number=id_no,
        name="测试",
        date_of_death=date(2026, 1, 2),
        source="test",
        loaded_by="officer-admin",
    )


# --- the cipher and the index ----------------------------------------------------------------
def test_values_are_sealed_with_a_fresh_nonce_and_indexed_normalised() -> None:
    sealer = sealing.Sealer(DataKeys.generate("k1"))
    person = "41990119700517101x"
    first, second = sealer.seal(person), sealer.seal(person)
    assert first.startswith("v1:k1:") and first != second  # a random nonce per value
    assert person not in first and sealer.open(first) == sealer.open(second) == person
    index = sealer.index(person)
    assert len(index) == 32 and int(index, 16) >= 0  # 128 bits of the HMAC, hex
    assert sealer.index(" " + person.upper() + " ") == index  # stripped, upper-cased
    assert sealer.index("419901197005171012") != index
    other = sealing.Sealer(DataKeys.generate("k1"))
    assert other.index(person) != index  # keyed: another key, another index
    assert sealer.open("419901197005171012") == "419901197005171012"  # written before 0016


def test_keys_are_checked() -> None:
    ring = KeyRing.generate("k1")
    with pytest.raises(DataKeyError, match="blind-index key"):
        DataKeys(ring, ring.keys["k1"])
    with pytest.raises(DataKeyError, match="32 bytes"):
        DataKeys(ring, b"short")
    with pytest.raises(DataKeyError, match="':'"):
        DataKeys(KeyRing({"a:b": os.urandom(32)}, "a:b"), os.urandom(32))


# --- the columns --------------------------------------------------------------------------------
@pytest.fixture
def forget(engine: Engine) -> Iterator[list[str]]:
    """ID numbers whose death records the test wrote into the session's database: removed
    afterwards (some are sealed under keys the process does not hold)."""
    people: list[str] = []
    yield people
    with engine.begin() as conn:
        for person in people:
            conn.execute(
                text("DELETE FROM death_record WHERE id_number_index IN (:a, :b, :c)"),
                {"a": blind_index(person), "b": _rot_index(person), "c": person},
            )


def dead(engine: Engine, forget: list[str], birth: date) -> str:
    """A new person on the death register (written by the ORM under the process's keys)."""
    person = id_number(birth)
    forget.append(person)
    with Session(engine) as s:
        s.add(death(person))
        s.commit()
    return person


def test_rows_are_stored_sealed_and_found_by_their_index(engine: Engine, forget: list[str]) -> None:
    person = dead(engine, forget, date(1944, 8, 8))
    stored = raw(
        engine,
        "SELECT id_number, id_number_index FROM death_record WHERE id_number_index = :i",
        i=blind_index(person),
    )
    assert len(stored) == 1
    assert stored[0][0].startswith("v1:") and person not in stored[0][0]
    assert stored[0][1] == blind_index(person)
    with Session(engine) as s:
        found = s.exec(
            select(DeathRecord).where(DeathRecord.id_number_index == blind_index(person))
        ).one()
        assert found.id_number == person
        # One row per person: the unique constraint sits on the index.
        s.add(death(person))
        with pytest.raises(sa.exc.IntegrityError):
            s.commit()


def test_comparing_a_sealed_column_in_sql_is_refused() -> None:
    for compare in (
        lambda: CaseRecord.applicant_id_number == "419901197005171012",
        lambda: col(EntitlementMember.id_number).in_(["419901197005171012"]),
        lambda: col(PaymentInstruction.card_account).startswith("6217"),
    ):
        with pytest.raises(SealedComparison, match="blind index"):
            compare()
    assert str(col(DeathRecord.id_number).is_(None)).endswith("IS NULL")


def test_another_key_ring_cannot_read_the_column(engine: Engine, forget: list[str]) -> None:
    person = dead(engine, forget, date(1944, 8, 9))
    index = blind_index(person)
    query = select(DeathRecord.id_number).where(DeathRecord.id_number_index == index)
    # The same key id, another key: the value does not open.
    stranger = DataKeys(KeyRing.generate(sealing.active().keys.ring.current), os.urandom(32))
    with using(stranger), Session(engine) as s:
        with pytest.raises(DataKeyError, match="does not open"):
            s.exec(query).all()
        # … and its own blind index finds nobody.
        assert (
            s.exec(
                select(DeathRecord.id).where(DeathRecord.id_number_index == blind_index(person))
            ).all()
            == []
        )
    # A ring without the key the value names.
    unknown = DataKeys(KeyRing.generate("elsewhere-1"), os.urandom(32))
    with using(unknown), Session(engine) as s, pytest.raises(DataKeyError, match="not in the ring"):
        s.exec(query).all()
    with Session(engine) as s:
        assert s.exec(query).all() == [person]  # the process's own keys still read it


ROTATION = DataKeys.generate("rot-1")


def _rot_index(value: str) -> str:
    return sealing.Sealer(ROTATION).index(value)


def test_keys_rotate(engine: Engine, forget: list[str]) -> None:
    """Rows written under key 1 still read once key 2 is current; new rows use key 2; the blind
    index (its own key) is unchanged, so lookups find both."""
    one = ROTATION
    two = one.with_new_key("rot-2")
    old, new = id_number(date(1944, 9, 1)), id_number(date(1944, 9, 2))
    forget.extend([old, new])
    with using(one), Session(engine) as s:
        s.add(death(old))
        s.commit()
    with using(two), Session(engine) as s:
        s.add(death(new))
        s.commit()
        rows = {
            r.id_number: r
            for r in s.exec(
                select(DeathRecord).where(
                    col(DeathRecord.id_number_index).in_([two_index(two, old), two_index(two, new)])
                )
            ).all()
        }
        assert set(rows) == {old, new}
    stored = dict(
        raw(
            engine,
            "SELECT id_number_index, id_number FROM death_record WHERE id_number_index IN (:a, :b)",
            a=two_index(two, old),
            b=two_index(two, new),
        )
    )
    assert stored[two_index(two, old)].startswith("v1:rot-1:")
    assert stored[two_index(two, new)].startswith("v1:rot-2:")
    with using(one), Session(engine) as s, pytest.raises(DataKeyError, match="rot-2"):
        s.exec(
            select(DeathRecord.id_number).where(DeathRecord.id_number_index == two_index(one, new))
        ).all()


def two_index(keys: DataKeys, value: str) -> str:
    return sealing.Sealer(keys).index(value)


def test_orm_and_core_writes_fill_the_index_and_updates_follow_the_value(engine: Engine) -> None:
    first, second = id_number(date(1944, 10, 1)), id_number(date(1944, 10, 2))
    case_id = f"SEAL{uuid.uuid4().hex[:8]}-dibao"
    try:
        _write_and_update(engine, case_id, first, second)
        assert raw(
            engine, "SELECT id_number_index FROM entitlement_member WHERE case_id = :c", c=case_id
        ) == [(blind_index(second),)]
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM entitlement_member WHERE case_id = :c"), {"c": case_id})


def _write_and_update(engine: Engine, case_id: str, first: str, second: str) -> None:
    with Session(engine) as s:
        s.execute(  # Core insert: the index column's default computes it from the row
            EntitlementMember.__table__.insert(),  # type: ignore[attr-defined]
            {
                "case_id": case_id,
                "id_number": first,
                "name": "甲",
                "relation": "applicant",
                "share_status": "active",
            },
        )
        s.commit()
        member = s.exec(select(EntitlementMember).where(EntitlementMember.case_id == case_id)).one()
        assert member.id_number_index == blind_index(first)
        member.share_status = "suspended"  # another column: the index stays
        s.add(member)
        s.commit()
        member.id_number = second  # the number itself: the index follows
        s.add(member)
        s.commit()


# --- the migration ------------------------------------------------------------------------------
PEOPLE = {
    "head": "419958195001011234",
    "member": "41995819800202123X",
    "dead": "419958193001011232",
    "relative": "419958196001011238",
}
ACCOUNTS = ("6217000011112222", "6217000011113333")


def _seed_previous_release(engine: Engine) -> None:
    """Clear rows in every table that holds an ID number or an account, as the previous
    release wrote them (its own tables, reflected)."""
    meta = sa.MetaData()
    meta.reflect(engine)
    t = meta.tables
    head, member = PEOPLE["head"], PEOPLE["member"]
    at = datetime(2026, 10, 1, 8, 30)
    base = {"area_code": "419958001001", "county_code": "419958", "township_code": "419958001"}
    with engine.begin() as conn:
        conn.execute(
            t["case_record"].insert(),
            {
                **base,
                "case_id": "HS1-dibao",
                "workflow_id": "entitlement-HS1-dibao",
                "case_kind": "entitlement",
                "programme": "dibao",
                "status": "active",
                "household_id": "HS1",
                "applicant_name": "王大山",
                "applicant_id_number": head,
                "household_size": 2,
                "overdue": False,
                "revision": 1,
                "detail": {},
            },
        )
        conn.execute(
            t["entitlement_account"].insert(),
            [
                {
                    **base,
                    "case_id": f"{household}-dibao",
                    "workflow_id": f"entitlement-{household}-dibao",
                    "household_id": household,
                    "programme": "dibao",
                    "status": "active",
                    "centralised": False,
                    "monthly_amount": 640,
                    "payable_amount": 640,
                    "members_total": 2,
                    "members_paid": 2,
                    "start_month": 2026 * 12,
                    "payee_name": "王大山",
                    "payee_id_number": head,
                    "card_account": ACCOUNTS[0],
                    "bank_code": "",
                    "revision": 1,
                }
                for household in ("HS1", "HS2")
            ],
        )
        conn.execute(
            t["entitlement_member"].insert(),
            [
                {
                    "case_id": c,
                    "id_number": who,
                    "name": "某",
                    "relation": "x",
                    "share_status": "active",
                }
                for c, who in (("HS1-dibao", head), ("HS1-dibao", member), ("HS2-dibao", member))
            ],
        )
        conn.execute(
            t["payment_instruction"].insert(),
            {
                **{k: base[k] for k in ("area_code", "county_code")},
                "idempotency_key": "payroll:HS1:dibao:2026-09",
                "kind": "payroll",
                "case_id": "HS1-dibao",
                "household_id": "HS1",
                "programme": "dibao",
                "period": "2026-09",
                "amount": 640,
                "payee_name": "王大山",
                "payee_id_number": head,
                "card_account": ACCOUNTS[0],
                "funding_source": "county",
                "status": "paid",
                "attempts": 1,
            },
        )
        conn.execute(
            t["household_membership"].insert(),
            [
                {
                    "programme": "dibao",
                    "id_number": who,
                    "case_id": "HS1-dibao",
                    "household_id": "HS1",
                    "case_kind": "entitlement",
                    "member_name": "某",
                    "claimed_at": at,
                }
                for who in (head, member)
            ],
        )
        conn.execute(
            t["verification_record"].insert(),
            {
                "source": "tax",
                "id_number": head,
                "area_code": "419958",
                "category": "income",
                "kind": "wage",
                "amount": 100,
                "note": "",
            },
        )
        conn.execute(
            t["relative_registration"].insert(),
            {
                "id_number": PEOPLE["relative"],
                "name": "亲属",
                "staff_name": "干部",
                "staff_role": "village_cadre",
                "relation_zh": "配偶",
                "area_code": "419958",
                "loaded_by": "a",
                "loaded_at": at,
            },
        )
        conn.execute(
            t["monitoring_subject"].insert(),
            {
                **base,
                "source_case_id": "HS1-dibao",
                "source_kind": "entitlement",
                "household_id": "HS1",
                "programme": "dibao",
                "category": "dibao",
                "name": "王大山",
                "id_number": head,
                "household_size": 2,
                "since": date(2026, 1, 1),
                "source_status": "active",
                "source_revision": 1,
            },
        )
        conn.execute(
            t["monitoring_observation"].insert(),
            {
                "import_id": "M1",
                "kind": "income",
                "id_number": member,
                "observed_on": date(2026, 9, 1),
                "note": "",
            },
        )
        conn.execute(
            t["referral"].insert(),
            {
                "referral_id": "R1",
                "workflow_id": "referral-R1",
                "household_id": "HS1",
                "source_case_id": "HS1-dibao",
                "source_kind": "entitlement",
                "source_programme": "dibao",
                "department": "health",
                "need": "medical_aid",
                "person_name": "李小花",
                "person_id_number": member,
                "request_zh": "请求医疗救助",
                "area_code": "419958001001",
                "county_code": "419958",
                "status": "awaiting_answer",
                "asked_on": date(2026, 9, 1),
                "referred_by": "o",
                "referred_at": at,
                "reminded": False,
                "escalated": False,
                "revision": 1,
            },
        )
        conn.execute(
            t["death_record"].insert(),
            {
                "id_number": PEOPLE["dead"],
                "name": "故人",
                "date_of_death": date(2026, 8, 1),
                "source": "police",
                "loaded_by": "a",
                "loaded_at": at,
            },
        )
        conn.execute(
            t["bank_ledger"].insert(),
            {
                "reference": "payroll:HS1:dibao:2026-09",
                "batch_id": "payroll-419958-2026-09",
                "account": ACCOUNTS[0],
                "amount": 640,
                "value_date": date(2026, 9, 10),
                "credited_at": at,
            },
        )
        conn.execute(
            t["bank_closed_account"].insert(),
            {"account": ACCOUNTS[1], "code": "51", "reason_zh": "账户已销户"},
        )


SEALED = {
    "case_record": ["applicant_id_number"],
    "entitlement_account": ["payee_id_number", "card_account"],
    "entitlement_member": ["id_number"],
    "payment_instruction": ["payee_id_number", "card_account"],
    "household_membership": ["id_number"],
    "verification_record": ["id_number"],
    "relative_registration": ["id_number"],
    "monitoring_subject": ["id_number"],
    "monitoring_observation": ["id_number"],
    "referral": ["person_id_number"],
    "death_record": ["id_number"],
    "bank_ledger": ["account"],
    "bank_closed_account": ["account"],
}


@pytest.fixture
def migrated_url(tmp_path: Path) -> Iterator[str]:
    """A SQLite database of the previous release with clear rows, upgraded to head."""
    url = f"sqlite:///{tmp_path / 'previous.db'}"
    command.upgrade(alembic_config(url), PREVIOUS_RELEASE)
    engine = make_engine(url)
    _seed_previous_release(engine)
    engine.dispose()
    upgrade(url)
    yield url


def test_migration_seals_a_previous_release_and_keeps_it_findable(migrated_url: str) -> None:
    engine = make_engine(migrated_url)
    try:
        for table, columns in SEALED.items():
            for column in columns:
                values = [r[0] for r in raw(engine, f"SELECT {column} FROM {table}")]
                assert values and all(v.startswith("v1:") for v in values), (table, column)
        head, member = PEOPLE["head"], PEOPLE["member"]
        with Session(engine) as s:
            case = s.exec(
                select(CaseRecord).where(CaseRecord.applicant_id_number_index == blind_index(head))
            ).one()
            assert case.applicant_id_number == head
            account = s.exec(
                select(EntitlementAccount).where(EntitlementAccount.case_id == "HS1-dibao")
            ).one()
            assert (account.payee_id_number, account.card_account) == (head, ACCOUNTS[0])
            assert account.payee_id_number_index == blind_index(head)
            line = s.exec(
                select(PaymentInstruction).where(
                    PaymentInstruction.payee_id_number_index == blind_index(head)
                )
            ).one()
            assert line.card_account == ACCOUNTS[0]
            for model, person in (
                (HouseholdMembership, member),
                (VerificationRecordRow, head),
                (RelativeRegistration, PEOPLE["relative"]),
                (MonitoringSubject, head),
                (MonitoringObservation, member),
                (DeathRecord, PEOPLE["dead"]),
            ):
                found = s.exec(
                    select(model).where(model.id_number_index == blind_index(person))
                ).all()
                assert [r.id_number for r in found] == [person], model  # type: ignore[attr-defined]
            referral = s.exec(
                select(Referral).where(Referral.person_id_number_index == blind_index(member))
            ).one()
            assert referral.person_id_number == member
            assert s.exec(select(BankLedger)).one().account == ACCOUNTS[0]
            closed = s.get(BankClosedAccount, blind_index(ACCOUNTS[1]))
            assert closed is not None and closed.account == ACCOUNTS[1]
            # The person held by two households (data from before the rule) is still listed.
            assert [d.id_number for d in duplicates(s)] == [member]
            # Unique constraints moved to the index: one claim per programme and person …
            s.add(
                HouseholdMembership(
                    programme="dibao",
                    id_number=member,
                    case_id="HS9-dibao",
                    household_id="HS9",
                    case_kind="application",
                )
            )
            with pytest.raises(sa.exc.IntegrityError):
                s.commit()
            s.rollback()
            # … one death per person.
            s.add(death(PEOPLE["dead"]))
            with pytest.raises(sa.exc.IntegrityError):
                s.commit()
    finally:
        engine.dispose()


def test_migrated_sqlite_file_holds_no_clear_number(migrated_url: str) -> None:
    """The old clear values are overwritten, not left in freed pages (``secure_delete``)."""
    engine = make_engine(migrated_url)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    path = Path(migrated_url.removeprefix("sqlite:///"))
    data = b"".join(
        p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists()
    )
    hits = {v: data.count(v.encode()) for v in (*PEOPLE.values(), *ACCOUNTS)}
    assert hits == dict.fromkeys(hits, 0)


def test_upgrading_twice_changes_nothing(migrated_url: str) -> None:
    engine = make_engine(migrated_url)
    try:
        before = raw(engine, "SELECT id_number, id_number_index FROM entitlement_member")
        upgrade(migrated_url)
        assert raw(engine, "SELECT id_number, id_number_index FROM entitlement_member") == before
    finally:
        engine.dispose()


def test_downgrade_opens_the_values_again(migrated_url: str) -> None:
    command.downgrade(alembic_config(migrated_url), PREVIOUS_RELEASE)
    engine = make_engine(migrated_url)
    try:
        assert raw(engine, "SELECT applicant_id_number FROM case_record") == [(PEOPLE["head"],)]
        assert raw(engine, "SELECT account FROM bank_closed_account") == [(ACCOUNTS[1],)]
        assert "id_number_index" not in {
            c["name"] for c in sa.inspect(engine).get_columns("entitlement_member")
        }
    finally:
        engine.dispose()
    upgrade(migrated_url)  # and up again


# --- keys from settings -------------------------------------------------------------------------
def _production(tmp_path: Path, **kw: Any) -> Settings:
    """Production settings with payload keys; column keys only as given (never the env's)."""
    keys: dict[str, Any] = {"data_keys": None, "data_index_key": None, **kw}
    return Settings(
        environment="production",
        seed_demo_officers=False,
        codec_keys=SecretStr(TEST_CODEC_KEYS),
        data_keys_file=tmp_path / "none.json",
        policies_dir=ROOT / "policies",
        **keys,
    )


def test_production_refuses_to_start_without_column_keys(tmp_path: Path) -> None:
    with pytest.raises(DataKeyError, match="JIUZHU_DATA_KEYS and JIUZHU_DATA_INDEX_KEY"):
        check_startup(_production(tmp_path))
    key = base64.b64encode(os.urandom(32)).decode()
    with pytest.raises(DataKeyError, match="together"):
        check_startup(_production(tmp_path, data_keys=SecretStr(f"p-1:{key}")))
    index = base64.b64encode(os.urandom(32)).decode()
    keys = data_keys(
        _production(tmp_path, data_keys=SecretStr(f"p-1:{key}"), data_index_key=SecretStr(index))
    )
    assert keys.ring.current == "p-1" and keys.index_key == base64.b64decode(index)


def test_the_worker_refuses_to_start_in_production_without_column_keys(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JIUZHU_DATA_", "JIUZHU_DB"))}
    env.update(
        JIUZHU_ENVIRONMENT="production",
        JIUZHU_SEED_DEMO_OFFICERS="false",
        JIUZHU_CODEC_KEYS=TEST_CODEC_KEYS,
        JIUZHU_DATA_KEYS_FILE=str(tmp_path / "none.json"),
        JIUZHU_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
        JIUZHU_TEMPORAL_ADDRESS="127.0.0.1:1",
        JIUZHU_POLICIES_DIR=str(ROOT / "policies"),
    )
    done = subprocess.run(
        [sys.executable, "worker.py"], cwd=ROOT, env=env, capture_output=True, timeout=60
    )
    out = (done.stdout + done.stderr).decode("utf-8", "replace")
    assert done.returncode != 0
    assert "column encryption keys unusable" in out and "JIUZHU_DATA_KEYS" in out


def test_development_creates_one_data_key_file_readable_by_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "var" / "data-keys.json"
    none: dict[str, Any] = {"data_keys": None, "data_index_key": None}
    settings = Settings(environment="development", data_keys_file=path, **none)
    first, second = data_keys(settings), data_keys(settings)
    assert first == second and path.stat().st_mode & 0o777 == 0o600
    test_env = Settings(environment="test", data_keys_file=tmp_path / "absent.json", **none)
    assert data_keys(test_env) == data_keys(test_env)  # fixed keys, the same in every process
