"""Every router of the API (one line per capability)."""

from fastapi import APIRouter

from api.routes import (
    applications,
    bank_batches,
    calendar,
    campaigns,
    codec,
    deaths,
    eligibility,
    entitlements,
    health,
    notices,
    officers,
    outbox,
    payroll,
    policies,
    recoveries,
    relatives,
    reports,
    reserve_fund,
    temporary,
    verification_admin,
)

ROUTERS: list[APIRouter] = [
    health.router,
    applications.router,
    entitlements.router,
    payroll.router,
    campaigns.router,
    bank_batches.router,
    deaths.router,
    recoveries.router,
    temporary.router,
    reserve_fund.router,
    policies.router,
    calendar.router,
    eligibility.router,
    notices.router,
    outbox.router,
    verification_admin.router,
    relatives.router,
    reports.router,
    codec.router,
    officers.router,
]
