"""Idempotent creation: a client's ``Idempotency-Key`` (per officer and resource kind) always
addresses the same resource; the same key with a different body is refused (422)."""

import hashlib
from collections.abc import Callable

from pydantic import BaseModel
from sqlmodel import Session, select

from api.errors import ProblemError
from jiuzhu.contract import Actor
from jiuzhu.db.models import IdempotencyKey


def request_hash(body: BaseModel) -> str:
    return hashlib.sha256(body.model_dump_json().encode()).hexdigest()


def check_key(
    session: Session,
    actor: Actor,
    scope: str,
    key: str | None,
    body: BaseModel,
    id_for_key: Callable[[str, str], str],
    new_id: Callable[[], str],
) -> str:
    """The resource id for this request: derived from the key when one is given (refusing a key
    already used for a different body), otherwise fresh."""
    if not key:
        return new_id()
    seen = session.exec(
        select(IdempotencyKey).where(
            IdempotencyKey.officer_id == actor.officer_id,
            IdempotencyKey.key == f"{scope}:{key}",
        )
    ).first()
    if seen is not None and seen.request_hash != request_hash(body):
        raise ProblemError(
            422,
            "Unprocessable Content",
            "Idempotency-Key: already used for a different request",
            field="Idempotency-Key",
        )
    return id_for_key(actor.officer_id, key)


def remember_key(
    session: Session, actor: Actor, scope: str, key: str | None, body: BaseModel, resource_id: str
) -> None:
    """Record the key with the request (committed by the caller with its other writes)."""
    if key:
        session.add(
            IdempotencyKey(
                officer_id=actor.officer_id,
                key=f"{scope}:{key}",
                request_hash=request_hash(body),
                resource_id=resource_id,
            )
        )
