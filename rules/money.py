"""Money (yuan, ``Decimal`` with 2 places), rates and rounding.

Amounts are always ``Decimal`` with exactly two decimal places; floats never enter a
computation. The rounding of a computed allowance is stated in policy (``amount_rounding``,
``amount_quantum``), never chosen in code.
"""

from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

RoundingMode = Literal["ROUND_HALF_UP", "ROUND_UP", "ROUND_DOWN"]

_ROUNDING: dict[str, str] = {
    "ROUND_HALF_UP": ROUND_HALF_UP,
    "ROUND_UP": ROUND_UP,
    "ROUND_DOWN": ROUND_DOWN,
}


def to_cents(value: Decimal) -> Decimal:
    """Quantize to 2 decimal places, half up (used for stored inputs and per-capita figures)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


Money = Annotated[
    Decimal,
    Field(ge=0, max_digits=14, decimal_places=2),
    AfterValidator(to_cents),
]
"""Non-negative yuan with at most 2 decimal places, stored with exactly 2."""

Rate = Annotated[Decimal, Field(ge=0, le=1)]
"""A share between 0 and 1 (e.g. spot-check rate 0.30)."""


def round_amount(value: Decimal, mode: RoundingMode, quantum: Decimal) -> Decimal:
    """Round ``value`` to a multiple of ``quantum`` with ``mode``, returned with 2 places.

    ``round_amount(Decimal("123.456"), "ROUND_HALF_UP", Decimal("0.01"))`` → ``123.46``;
    with quantum ``1`` and ``ROUND_UP`` → ``124.00``.
    """
    if quantum <= 0:
        raise ValueError(f"rounding quantum must be positive: {quantum}")
    steps = (value / quantum).quantize(Decimal(1), rounding=_ROUNDING[mode])
    return (steps * quantum).quantize(CENT, rounding=ROUND_HALF_UP)


def format_yuan(value: Decimal) -> str:
    """Chinese display of an amount: ``Decimal("1234.5")`` → ``"1,234.50元"``."""
    return f"{to_cents(value):,.2f}元"
