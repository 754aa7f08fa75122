"""Bank files at rest on the real server (issue 12 item 3; PIPL Art. 28, 51): after a payroll run
every file of the bank directory is 0600; once reconciled the bank file and the bank's result
file are sealed (encrypted under the payload key ring) and their clear copies removed, the
reconciliation report (accounts masked to 4 digits) stays; a retried reconciliation reads the
sealed answer again; the bank file is downloaded decrypted — in clear for finance, masked for
every other reader."""

import stat
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy import Engine
from sqlmodel import Session
from temporalio.client import Client
from temporalio.worker import Worker

from activities.payments.bank import BankActivities, bank_dir_for, result_path_for
from activities.payments.models import ReconcileRequest
from api.masking import mask_account, mask_id_number
from jiuzhu.at_rest import read_clear, sealed_path
from jiuzhu.codec import KeyRing
from jiuzhu.db.models_payments import PayrollRun
from jiuzhu.settings import Settings
from tests.conftest import TEST_CODEC_KEYS, auth
from tests.entitlements.helpers import run_payroll, seed_accounts
from workflows.payments.contract import PayrollStatus, payroll_workflow_id

COUNTY = "419987"  # a county of its own: nobody else pays here
PERIOD = "2049-01"  # the demo county's month that points at this file (download test)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def check_files(
    engine: Engine, settings: Settings, bank_file: Path, result: Path, report: Path
) -> tuple[str, str, str]:
    """The files on disk after reconciliation (and after a retried reconciliation); returns the
    bank file's clear text, one account and one ID number of it."""
    # Reconciled: clear bank file and answer gone, sealed copies and the report remain, 0600.
    assert not bank_file.exists() and not result.exists()
    for path in (sealed_path(bank_file), sealed_path(result), report):
        assert path.exists(), path
        assert mode(path) == 0o600, (path, oct(mode(path)))
    leftovers = [p for p in bank_file.parent.iterdir() if p.suffix in (".tmp", ".body")]
    assert leftovers == []
    # Every file in the county's bank directory is the owner's only.
    assert all(mode(p) & 0o077 == 0 for p in bank_file.parent.iterdir() if p.suffix != ".lock")
    sealed = sealed_path(bank_file).read_bytes()
    clear = read_clear(bank_file, KeyRing.parse_env(TEST_CODEC_KEYS)).decode("utf-8")
    details = [line.split("|") for line in clear.splitlines() if line.startswith("D|")]
    assert len(details) == 3
    account, id_number = details[0][3], details[0][5]
    assert account.encode() not in sealed and id_number.encode() not in sealed
    # The report stays readable and carries no full account and no ID number.
    text = report.read_text(encoding="utf-8")
    assert account not in text and id_number not in text and account[-4:] in text

    # A retried reconciliation reads the sealed answer again and seals it again.
    ring = KeyRing.parse_env(TEST_CODEC_KEYS)
    again = BankActivities(
        engine, bank_dir_for(settings.database_url, settings.bank_dir), ring=ring
    ).reconcile_batch(
        ReconcileRequest(batch_id=payroll_workflow_id(COUNTY, 2030, 1), result_path=str(result))
    )
    assert again.paid_count == 3 and again.paid_total == Decimal("1500.00")
    assert not result.exists() and sealed_path(result).exists()
    assert result_path_for(bank_file) == result

    return clear, account, id_number


async def test_bank_files_private_sealed_once_reconciled_and_downloaded_by_role(
    api: httpx.AsyncClient,
    client: Client,
    worker: Worker,
    settings: Settings,
    engine: Engine,
) -> None:
    seed_accounts(engine, COUNTY, 3, amount="500.00", start_index=2030 * 12, prefix="BF")
    final = await run_payroll(client, settings.task_queue, COUNTY, 2030, 1)
    assert final.status is PayrollStatus.RECONCILED, final.status
    assert final.bank is not None and final.reconciled is not None
    bank_file = Path(final.bank.file_path)
    result = Path(final.bank.result_path)
    report = Path(final.reconciled.report_path)

    clear, account, id_number = check_files(engine, settings, bank_file, result, report)

    # Downloads: the demo county's month pointing at this file (its route needs a known county).
    pid = payroll_workflow_id("419901", 2049, 1)
    with Session(engine) as s:
        s.merge(
            PayrollRun(
                payroll_id=pid,
                county_code="419901",
                period=PERIOD,
                status="reconciled",
                bank_file=str(bank_file),
                result_file=str(result),
                report_file=str(report),
            )
        )
        s.commit()
    url = f"/payroll/419901/{PERIOD}/bank-file"
    answers = {}
    for who in ("finance", "county", "auditor", "admin"):
        r = await api.get(url, headers=auth(who))
        assert r.status_code == 200, (who, r.text)
        assert r.headers["content-type"].startswith("text/plain")
        answers[who] = r.text
    assert answers["finance"] == clear
    assert account not in answers["county"] and id_number in answers["county"]
    for who in ("auditor", "admin"):
        assert account not in answers[who] and id_number not in answers[who]
        assert mask_account(account) in answers[who] and mask_id_number(id_number) in answers[who]
    for who in ("village", "township"):
        assert (await api.get(url, headers=auth(who))).status_code == 403
    r = await api.get(f"/payroll/419901/{PERIOD}/reconciliation", headers=auth("auditor"))
    assert r.status_code == 200 and account not in r.text
    # Bad input names the field.
    r = await api.get("/payroll/419901/2049-13/bank-file", headers=auth("finance"))
    assert r.status_code == 422 and "period" in r.text
    r = await api.get(f"/payroll/4199/{PERIOD}/bank-file", headers=auth("finance"))
    assert r.status_code == 422 and "county_code" in r.text
