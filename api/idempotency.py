"""Idempotency-Key: a client's key (per officer and scope) always addresses the same resource or
the same step; the same key with a different body is refused (422 naming ``Idempotency-Key``).

The key is **reserved in the database before the work it names is done** (before a workflow is
started, before an Update is sent): the row (officer, scope, key, hash of the body, resource id)
is inserted in a transaction of its own and the unique constraint on (officer, ``scope:key``)
decides every race. The request that inserted it does the work; a concurrent or later duplicate
with the same body gets the reserved resource (and, for a step, the recorded answer); one with a
different body is refused — under any interleaving, on SQLite as on PostgreSQL.

Creates derive the resource id from the key (``id_for_key``), so a retry after a crash between
the reservation and the workflow start starts the same workflow (its id conflict policy makes
that idempotent). Steps record their answer after the Update succeeded
(``scope = step:{case}:{step}``); their Update carries an id derived from the key, so even two
identical retries racing each other run the step once in the workflow."""

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from api.db import Database
from api.errors import ProblemError
from jiuzhu.contract import Actor
from jiuzhu.db.models import IdempotencyKey

M = TypeVar("M", bound=BaseModel)
HEADER = "Idempotency-Key"


def request_hash(body: BaseModel) -> str:
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()


def key_reused() -> ProblemError:
    return ProblemError(
        422,
        "Unprocessable Content",
        f"{HEADER}: already used for a different request",
        field=HEADER,
    )


@dataclass(frozen=True)
class Reservation:
    resource_id: str
    fresh: bool
    """True for the request that reserved the key (it does the work)."""
    response: dict[str, Any] | None = None
    """A step's recorded answer, once it has one."""


def _stored_key(scope: str, key: str) -> str:
    return f"{scope}:{key}"


def find_key(session: Session, actor: Actor, scope: str, key: str) -> IdempotencyKey | None:
    return session.exec(
        select(IdempotencyKey).where(
            IdempotencyKey.officer_id == actor.officer_id,
            IdempotencyKey.key == _stored_key(scope, key),
        )
    ).first()


def reserve(
    session: Session, actor: Actor, scope: str, key: str, digest: str, resource_id: str
) -> Reservation:
    """Insert the key (committed at once), or find who holds it: the same body → that
    reservation; a different body → 422. Run it through ``Database.write``."""
    for _ in range(3):
        session.add(
            IdempotencyKey(
                officer_id=actor.officer_id,
                scope=scope,
                key=_stored_key(scope, key),
                request_hash=digest,
                resource_id=resource_id,
            )
        )
        try:
            session.commit()
            return Reservation(resource_id=resource_id, fresh=True)
        except IntegrityError:
            session.rollback()
        seen = find_key(session, actor, scope, key)
        if seen is None:  # released meanwhile (a refused step): try to reserve again
            continue
        if seen.request_hash != digest:
            raise key_reused()
        return Reservation(resource_id=seen.resource_id, fresh=False, response=seen.response)
    raise ProblemError(409, "Conflict", f"{HEADER}: in use by a concurrent request", field=HEADER)


def release(session: Session, actor: Actor, scope: str, key: str, digest: str) -> None:
    """Free a step's key whose work failed before any answer was recorded (a refusal, Temporal
    unavailable), so the client may send it again — corrected, or later — under the same key."""
    session.execute(
        delete(IdempotencyKey).where(
            col(IdempotencyKey.officer_id) == actor.officer_id,
            col(IdempotencyKey.key) == _stored_key(scope, key),
            col(IdempotencyKey.request_hash) == digest,
            col(IdempotencyKey.response).is_(None),
        )
    )


def record_answer(
    session: Session,
    actor: Actor,
    scope: str,
    key: str,
    digest: str,
    resource_id: str,
    answer: dict[str, Any],
) -> None:
    """Keep a step's answer with its key (the first answer stays)."""
    row = find_key(session, actor, scope, key)
    if row is None:
        session.add(
            IdempotencyKey(
                officer_id=actor.officer_id,
                scope=scope,
                key=_stored_key(scope, key),
                request_hash=digest,
                resource_id=resource_id,
                response=answer,
            )
        )
    elif row.response is None and row.request_hash == digest:
        row.response = answer
        session.add(row)
    try:
        session.commit()
    except IntegrityError:  # a concurrent retry recorded it first
        session.rollback()


def update_id(actor: Actor, scope: str, key: str) -> str:
    """The Update id of a keyed step: the same key sends the same Update, which the workflow
    runs once (a second send attaches to the first and gets its result)."""
    digest = hashlib.sha256(f"{actor.officer_id}\x1f{scope}\x1f{key}".encode()).hexdigest()
    return f"idem-{digest[:40]}"


async def keyed_step(
    db: Database,
    actor: Actor,
    scope: str,
    key: str | None,
    body: BaseModel,
    resource_id: str,
    run: Callable[[], Awaitable[M]],
    answer_type: type[M],
) -> M:
    """Run a step once per ``Idempotency-Key``: a retry with the same key and body gets the
    recorded answer; a different body with the same key is refused (422). Without a key the
    step simply runs."""
    if not key:
        return await run()
    digest = request_hash(body)
    held = await db.write(reserve, actor, scope, key, digest, resource_id)
    if held.response is not None:
        return answer_type.model_validate(held.response)
    try:
        answer = await run()
    except Exception:
        seen = await db.read(find_key, actor, scope, key)
        if seen is not None and seen.response is not None and seen.request_hash == digest:
            return answer_type.model_validate(seen.response)  # a racing retry answered it
        if held.fresh:
            await db.write(release, actor, scope, key, digest)
        raise
    await db.write(
        record_answer, actor, scope, key, digest, resource_id, answer.model_dump(mode="json")
    )
    return answer
