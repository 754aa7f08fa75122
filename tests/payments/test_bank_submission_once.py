"""A bank submission happens once: ten attempts of the bank step for the same batch at the same
time (as a retry racing a zombie attempt would) — one writes and submits at a time, the others
are told to retry; every one that completes returns the same file and answer, and the bank
credits each line once."""

import asyncio
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine
from temporalio.exceptions import ApplicationError

from activities.payments import instructions
from activities.payments.bank import BankActivities, file_digest
from activities.payments.models import BankSubmit, BankSubmitResult
from jiuzhu.db.engine import unit_of_work
from tests.entitlements.helpers import seed_accounts
from tests.payments.support import scalar
from workflows.payments.contract import PaymentKind

RACERS = 10


def _submit_until_done(bank: BankActivities, req: BankSubmit) -> tuple[BankSubmitResult, int]:
    busy = 0
    while True:
        try:
            return bank.send_to_bank(req), busy
        except ApplicationError as exc:
            assert exc.type == "BankBusy", exc
            busy += 1


async def test_ten_concurrent_submissions_credit_each_line_once(engine: Engine) -> None:
    county, n, batch = "419938", 3000, "payroll-419938-2036-07"
    seed_accounts(engine, county, n, amount="321.00", start_index=2036 * 12)
    with unit_of_work(engine) as session:
        instructions.insert_payroll_chunk(
            session,
            payroll_id=batch,
            county=county,
            after=0,
            upto=10**12,
            period_index=2036 * 12 + 6,
            quarterly=False,
            monthly_key="2036-07",
            quarterly_key="2036-Q3",
            now=datetime.now(UTC),
        )
    bank = BankActivities(engine, Path(tempfile.mkdtemp(prefix="bank-once-")))
    req = BankSubmit(
        batch_id=batch,
        kind=PaymentKind.PAYROLL,
        county_code=county,
        value_date=date(2036, 7, 10),
        heartbeat_every=100,
    )
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(RACERS) as pool:
        outcomes = await asyncio.gather(
            *(loop.run_in_executor(pool, _submit_until_done, bank, req) for _ in range(RACERS))
        )
    results = {o[0].model_dump_json() for o in outcomes}
    assert len(results) == 1, results  # every attempt saw the same file and the same answer
    result = outcomes[0][0]
    assert result.line_count == n and str(result.total) == f"{321 * n}.00"
    assert scalar(engine, "SELECT COUNT(*) FROM bank_ledger WHERE batch_id = :b", b=batch) == n
    assert (
        scalar(
            engine,
            "SELECT COUNT(*) FROM payment_instruction WHERE payroll_id = :b AND status = 'sent' "
            "AND attempts = 1",
            b=batch,
        )
        == n
    )
    assert len(file_digest(Path(result.file_path))) == 64
