"""Every activity the worker runs, bound to its dependencies (one block per capability)."""

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from temporalio.client import Client

from activities.applications.checks import ApplicationActivities
from activities.applications.membership import MembershipActivities
from activities.applications.notices import NoticeActivities
from activities.applications.verification import VerificationActivities
from activities.deadlines import DeadlineActivities
from activities.entitlements.activities import EntitlementActivities
from activities.entitlements.death_check import DeathCheckActivities
from activities.monitoring.warnings import WarningActivities
from activities.payments.bank import BankActivities, bank_dir_for
from activities.payments.calendar import PayrollCalendarActivities
from activities.payments.daily_batch import DailyBatchActivities
from activities.payments.payroll import PayrollActivities
from activities.policy import PolicyActivities
from activities.records import RecordActivities
from activities.recoveries.activities import RecoveryActivities
from activities.referrals.activities import ReferralActivities
from activities.supervision.activities import SupervisionActivities
from activities.temporary.cases import TemporaryActivities
from activities.temporary.reserve_fund import ReserveFundActivities
from jiuzhu.codec import key_ring
from jiuzhu.settings import Settings


def build_activities(
    engine: Engine, settings: Settings, client: Client | None = None
) -> list[Callable[..., Any]]:
    """``client``: for activities that talk to workflows (the death check's Updates)."""
    records = RecordActivities(engine)
    deadlines = DeadlineActivities(engine)
    policy = PolicyActivities(engine, settings.policies_dir)
    reserve_fund = ReserveFundActivities(engine)
    temporary = TemporaryActivities(engine)
    entitlements = EntitlementActivities(engine, client)
    payroll = PayrollActivities(engine)
    payroll_calendar = PayrollCalendarActivities(
        client if settings.plans_payroll_ahead else None, settings.task_queue
    )
    bank = BankActivities(
        engine, bank_dir_for(settings.database_url, settings.bank_dir), ring=key_ring(settings)
    )
    daily_batch = DailyBatchActivities(engine)
    death_check = DeathCheckActivities(engine, client)
    recoveries = RecoveryActivities(engine, client)
    supervision = SupervisionActivities(engine, client)
    warnings = WarningActivities(client)
    referrals = ReferralActivities(engine)
    application = ApplicationActivities(engine)
    verification = VerificationActivities(engine)
    application_notices = NoticeActivities(engine)
    membership = MembershipActivities(engine)
    return [
        records.record_step,
        deadlines.compute_deadline,
        deadlines.post_outbox,
        deadlines.void_outbox,
        policy.policy_in_force,
        entitlements.publish_account,
        entitlements.issue_notice,
        entitlements.payment_summary,
        entitlements.payments_in_flight,
        payroll.payroll_cutoffs,
        payroll.compile_payroll,
        payroll.recheck_batch,
        payroll.compile_campaign,
        payroll.recheck_campaign,
        payroll.find_payroll_run,
        payroll_calendar.plan_next_month,
        payroll.save_payroll_run,
        payroll.save_campaign,
        bank.send_to_bank,
        bank.reconcile_batch,
        daily_batch.daily_value_date,
        daily_batch.assign_daily_batch,
        daily_batch.find_bank_batch,
        daily_batch.save_bank_batch,
        death_check.death_check,
        recoveries.open_overpayment_recovery,
        recoveries.open_ending_recovery,
        supervision.spot_check_population,
        supervision.record_draw,
        supervision.reopen_case,
        warnings.open_change_investigation,
        referrals.record_referral,
        reserve_fund.debit_prepayment,
        reserve_fund.credit_recovery,
        reserve_fund.credit_back_failed,
        temporary.find_pending_application,
        temporary.claim_event,
        temporary.release_event,
        temporary.issue_payment,
        temporary.open_recovery,
        temporary.record_prepayment,
        application.check_relatives,
        application.assess_household,
        verification.verification_sources,
        verification.check_sources,
        verification.check_source,
        application_notices.issue_notice,
        application_notices.record_delivery,
        membership.household_id,
        membership.settle_members,
        membership.release_members,
        membership.transfer_members,
    ]
