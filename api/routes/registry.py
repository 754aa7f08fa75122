"""Every router of the API (one line per capability)."""

from fastapi import APIRouter

from api.routes import applications, health

ROUTERS: list[APIRouter] = [
    health.router,
    applications.router,
]
