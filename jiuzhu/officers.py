"""Officers and their bearer tokens. Tokens are random (no role or name in their text), stored
hashed, and expire (``Settings.token_lifetime_days``, 90 by default); admins create, deactivate
and rotate them through ``/officers``. Demo officers for the demo county are seeded in
development only and their tokens kept in var/ so `make run` can print them."""

import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from jiuzhu.contract import Actor, Role
from jiuzhu.db.models import Officer

DEMO_COUNTY = "419901"
DEMO_OFFICERS: list[tuple[str, str, Role, str]] = [
    ("demo-village", "李协理", Role.VILLAGE_ASSISTANT, "419901001001"),
    ("demo-township", "王经办", Role.TOWNSHIP_OFFICER, "419901001"),
    ("demo-township-2", "赵经办", Role.TOWNSHIP_OFFICER, "419901002"),
    ("demo-county", "陈科长", Role.COUNTY_OFFICER, DEMO_COUNTY),
    ("demo-finance", "刘会计", Role.FINANCE, DEMO_COUNTY),
    ("demo-auditor", "周督查", Role.AUDITOR, DEMO_COUNTY),
    ("demo-admin", "系统管理员", Role.ADMIN, DEMO_COUNTY),
]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    """A bearer token: 256 random bits, URL-safe, saying nothing about its holder."""
    return secrets.token_urlsafe(32)


def create_officer(
    engine: Engine,
    officer_id: str,
    name: str,
    role: Role,
    area_code: str,
    token: str,
    expires_at: datetime | None = None,
) -> Actor:
    """Create or update an officer with ``token`` (stored hashed), valid until ``expires_at``
    (None: no expiry — test fixtures only)."""
    with Session(engine) as session:
        row = session.get(Officer, officer_id)
        if row is None:
            row = Officer(
                id=officer_id, name=name, role=role.value, area_code=area_code, token_hash=""
            )
        row.name, row.role, row.area_code = name, role.value, area_code
        row.token_hash = hash_token(token)
        row.token_expires_at = expires_at
        session.add(row)
        session.commit()
    return Actor(officer_id=officer_id, name=name, role=role, area_code=area_code)


def officer_for_token(engine: Engine, token: str) -> Actor | None:
    """The active officer holding this unexpired token, or None."""
    with Session(engine) as session:
        row = session.exec(
            select(Officer).where(Officer.token_hash == hash_token(token), Officer.active)
        ).first()
    if row is None:
        return None
    if row.token_expires_at is not None and row.token_expires_at <= datetime.now(UTC):
        return None
    return Actor(officer_id=row.id, name=row.name, role=Role(row.role), area_code=row.area_code)


def seed_demo_officers(
    engine: Engine, tokens_file: Path, lifetime: timedelta = timedelta(days=90)
) -> dict[str, str]:
    """Create the demo officers once (development only); return officer id → token (kept in
    ``tokens_file``). Each start renews their expiry; tokens of the old form, which named the
    role, are replaced."""
    tokens: dict[str, str] = {}
    if tokens_file.exists():
        tokens = json.loads(tokens_file.read_text())
    expires_at = datetime.now(UTC) + lifetime
    for officer_id, name, role, area in DEMO_OFFICERS:
        token = tokens.get(officer_id) or ""
        if not token or token.startswith("demo-"):
            token = new_token()
        tokens[officer_id] = token
        create_officer(engine, officer_id, name, role, area, token, expires_at)
    tokens_file.parent.mkdir(parents=True, exist_ok=True)
    tokens_file.write_text(json.dumps(tokens, ensure_ascii=False, indent=2))
    return tokens
