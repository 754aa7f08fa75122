"""The one refusal vocabulary: every business refusal in every domain is a ``Refusal`` (kind,
Chinese message, field), raised in workflow code as a non-retryable ``ApplicationError`` and
mapped to HTTP in one place (``api/errors.py``).

========================  ======  =============================================
kind                      HTTP    when
========================  ======  =============================================
``WrongState``            409     the case is not in a state for this step
``Conflict``              409     a duplicate, a race lost, money not available
``Forbidden``             403     wrong role, or a case outside the officer's area
``NotFound``              404     the step names something the case does not hold
``InvalidInput``          422     bad data; ``field`` names it
``NoPolicyInForce``       422     no policy in force for the area on that date
========================  ======  =============================================
"""

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field
from temporalio.exceptions import ApplicationError


class RefusalKind(StrEnum):
    WRONG_STATE = "WrongState"
    CONFLICT = "Conflict"
    FORBIDDEN = "Forbidden"
    NOT_FOUND = "NotFound"
    INVALID_INPUT = "InvalidInput"
    NO_POLICY = "NoPolicyInForce"


HTTP_STATUS: dict[RefusalKind, int] = {
    RefusalKind.WRONG_STATE: 409,
    RefusalKind.CONFLICT: 409,
    RefusalKind.FORBIDDEN: 403,
    RefusalKind.NOT_FOUND: 404,
    RefusalKind.INVALID_INPUT: 422,
    RefusalKind.NO_POLICY: 422,
}


class Refusal(BaseModel):
    """A business refusal: ``kind`` decides the HTTP status, ``message_zh`` is shown to the
    officer, ``field`` names the offending input (always set for 422), ``extra`` carries named
    facts for the client (e.g. the other case of a duplicate)."""

    kind: RefusalKind
    message_zh: str
    field: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.kind]

    def error(self) -> ApplicationError:
        """The non-retryable ``ApplicationError`` carrying this refusal (details[0])."""
        return ApplicationError(
            self.message_zh,
            {"field": self.field, **self.extra},
            type=self.kind.value,
            non_retryable=True,
        )


class RefusalError(Exception):
    """A refusal raised outside workflow code (activities' pure checks, the API's own checks);
    ``api/errors.py`` maps it like a workflow's refusal."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message_zh)
        self.refusal = refusal


def refuse(
    kind: RefusalKind, message_zh: str, field: str | None = None, **extra: Any
) -> ApplicationError:
    """``raise refuse(RefusalKind.WRONG_STATE, "案件已办结")`` in workflow code and validators."""
    return Refusal(kind=kind, message_zh=message_zh, field=field, extra=extra).error()


def wrong_state(message_zh: str) -> ApplicationError:
    return refuse(RefusalKind.WRONG_STATE, message_zh)


def forbidden(message_zh: str) -> ApplicationError:
    return refuse(RefusalKind.FORBIDDEN, message_zh)


def invalid(field: str, message_zh: str) -> ApplicationError:
    return refuse(RefusalKind.INVALID_INPUT, message_zh, field)


def not_found(message_zh: str, field: str | None = None) -> ApplicationError:
    return refuse(RefusalKind.NOT_FOUND, message_zh, field)


def conflict(message_zh: str, field: str | None = None, **extra: Any) -> ApplicationError:
    return refuse(RefusalKind.CONFLICT, message_zh, field, **extra)


def refusal_of(exc: BaseException | None) -> Refusal | None:
    """The refusal inside a failure chain (``WorkflowUpdateFailedError`` → ``ApplicationError``,
    ``ActivityError`` → ``ApplicationError``, …), or None when the failure is not a refusal."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, RefusalError):
            return exc.refusal
        if isinstance(exc, ApplicationError):
            try:
                kind = RefusalKind(exc.type or "")
            except ValueError:
                kind = None
            if kind is not None:
                details = exc.details[0] if exc.details else None
                extra = dict(details) if isinstance(details, dict) else {}
                field = extra.pop("field", None)
                if kind is RefusalKind.INVALID_INPUT and not field:
                    field = "body"
                return Refusal(
                    kind=kind,
                    message_zh=exc.message,
                    field=str(field) if field else None,
                    extra=extra,
                )
        exc = getattr(exc, "cause", None) or exc.__cause__
        seen += 1
    return None
