"""Fixtures for the pure rules tests: the built-in calendar, the repository's policy layers,
and factories for household members."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from jiuzhu.policy_files import default_policies_dir, load_policy_files
from rules.calendar import WorkingCalendar, builtin_calendar
from rules.household import Hukou, Income, IncomeKind, Member, Relation
from rules.id_number import make_id_number
from rules.policy import Policy, PolicyLayer, resolve_policy

ASSESSMENT_DAY = date(2026, 3, 2)


@pytest.fixture(scope="session")
def calendar() -> WorkingCalendar:
    return builtin_calendar()


@pytest.fixture(scope="session")
def layers() -> list[PolicyLayer]:
    return load_policy_files(default_policies_dir())


@pytest.fixture(scope="session")
def demo_policy(layers: list[PolicyLayer]) -> Policy:
    """演示县 policy in force on 2026-03-02: urban 700 / rural 550, 特困 910 / 715."""
    return resolve_policy(layers, "419901", ASSESSMENT_DAY)


MemberFactory = Callable[..., Member]


@pytest.fixture(scope="session")
def member() -> MemberFactory:
    """``member(relation, birth, seq, hukou=..., wage=..., **fields)`` with a valid ID number."""

    def build(
        relation: Relation = Relation.APPLICANT,
        birth: date = date(1980, 5, 17),
        seq: str = "101",
        *,
        name: str = "张明",
        hukou: Hukou = Hukou.RURAL,
        wage: Decimal | str | None = None,
        **fields: Any,
    ) -> Member:
        incomes = list(fields.pop("incomes", []))
        if wage is not None:
            incomes.append(Income(kind=IncomeKind.WAGE, monthly_amount=Decimal(wage)))
        return Member(
            name=name,
            id_number=make_id_number("419901", birth, seq),
            relation=relation,
            birth_date=birth,
            hukou=hukou,
            incomes=incomes,
            **fields,
        )

    return build
