"""Every router of the API (one line per capability)."""

from fastapi import APIRouter

from api.routes import (
    applications,
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
    relatives,
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
    deaths.router,
    temporary.router,
    reserve_fund.router,
    policies.router,
    calendar.router,
    eligibility.router,
    notices.router,
    outbox.router,
    verification_admin.router,
    relatives.router,
    codec.router,
    officers.router,
]
