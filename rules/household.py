"""The household under assessment (共同生活的家庭成员), DOMAIN §1, §3 step 5, §4.

Amounts are monthly yuan unless named otherwise (``rigid_expenditures_12m`` covers the last 12
months). Models validate what they can without a clock; checks against "today" (a birth date in
the future) are in ``validate_household_on(household, on)``, which the API calls with the current
date. ``check_household(data, on)`` turns raw input into a household or a list of
``FieldProblem``s with a ``loc`` path such as ``("members", 0, "birth_date")``.
"""

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from rules.disability import DisabilityCategory
from rules.id_number import birth_date_from_id, validate_id_number
from rules.money import ZERO, Money

__all__ = [
    "Asset",
    "AssetKind",
    "CareTier",
    "DisabilityCategory",
    "FieldProblem",
    "Household",
    "Hukou",
    "Income",
    "IncomeKind",
    "Member",
    "Relation",
    "RigidExpenditure",
    "RigidExpenditureKind",
    "SelfCareAssessment",
    "Supporter",
    "WorkCapacity",
    "age_on",
    "check_household",
    "household_hukou",
    "self_care_tier",
    "validate_household_on",
]


class Relation(StrEnum):
    """Relation to the applicant (申请人)."""

    APPLICANT = "applicant"
    SPOUSE = "spouse"
    CHILD = "child"
    PARENT = "parent"
    SIBLING = "sibling"
    GRANDPARENT = "grandparent"
    GRANDCHILD = "grandchild"
    OTHER = "other"


RELATION_NAMES_ZH: Mapping[Relation, str] = MappingProxyType(
    {
        Relation.APPLICANT: "申请人",
        Relation.SPOUSE: "配偶",
        Relation.CHILD: "子女",
        Relation.PARENT: "父母",
        Relation.SIBLING: "兄弟姐妹",
        Relation.GRANDPARENT: "祖父母、外祖父母",
        Relation.GRANDCHILD: "孙子女、外孙子女",
        Relation.OTHER: "其他",
    }
)

# Relations that carry a legal duty of support (赡养、抚养、扶养) under 《民法典》
# 第一千零五十九条、第一千零六十七条、第一千零七十四条、第一千零七十五条.
SUPPORT_DUTY_RELATIONS: frozenset[Relation] = frozenset(
    {
        Relation.SPOUSE,
        Relation.CHILD,
        Relation.PARENT,
        Relation.SIBLING,
        Relation.GRANDPARENT,
        Relation.GRANDCHILD,
    }
)


class Hukou(StrEnum):
    """Household registration: urban (城镇) or rural (农村); selects the standard."""

    URBAN = "urban"
    RURAL = "rural"


class WorkCapacity(StrEnum):
    """Work capacity as assessed: full, partial (部分丧失), none (完全丧失)."""

    FULL = "full"
    PARTIAL = "partial"
    NONE = "none"


class IncomeKind(StrEnum):
    """Kind of income (低保办法 Art. 13). ``EXCLUDED`` is income the rules leave out
    (e.g. 优抚对象抚恤金、奖励性补助、政府发放的各类社会救助款物); it is recorded for the
    file but never counted."""

    WAGE = "wage"
    BUSINESS = "business"
    PROPERTY = "property"
    TRANSFER = "transfer"
    PENSION = "pension"
    SUPPORT = "support"
    OTHER = "other"
    EXCLUDED = "excluded"


# Incomes from which necessary employment costs (就业成本) may be deducted.
EARNED_INCOME_KINDS: frozenset[IncomeKind] = frozenset({IncomeKind.WAGE, IncomeKind.BUSINESS})


class AssetKind(StrEnum):
    """Kind of household property (低保办法 Art. 14)."""

    DEPOSIT = "deposit"
    SECURITIES = "securities"
    VEHICLE = "vehicle"
    REAL_ESTATE_SECOND = "real_estate_second"
    BUSINESS_EQUITY = "business_equity"
    OTHER = "other"


# Financial assets counted against the per-capita limit.
FINANCIAL_ASSET_KINDS: frozenset[AssetKind] = frozenset(
    {AssetKind.DEPOSIT, AssetKind.SECURITIES, AssetKind.OTHER}
)


class RigidExpenditureKind(StrEnum):
    """Kind of rigid spending (刚性支出), 《刚性支出困难家庭认定办法》."""

    MEDICAL = "medical"
    EDUCATION = "education"
    DISABILITY_REHABILITATION = "disability_rehabilitation"
    LIVING = "living"
    OTHER = "other"


class CareTier(StrEnum):
    """Care tier from the self-care assessment (特困办法 Art. 20–23)."""

    SELF_CARE = "self_care"
    PARTIAL_LOSS = "partial_loss"
    FULL_LOSS = "full_loss"


CARE_TIER_NAMES_ZH: Mapping[CareTier, str] = MappingProxyType(
    {
        CareTier.SELF_CARE: "具备生活自理能力",
        CareTier.PARTIAL_LOSS: "部分丧失生活自理能力",
        CareTier.FULL_LOSS: "完全丧失生活自理能力",
    }
)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Income(_Model):
    """One monthly income of a member."""

    kind: IncomeKind
    monthly_amount: Money
    description: str = ""


class SelfCareAssessment(_Model):
    """生活自理能力评估 on six activities; ``True`` means the person is able to do it."""

    eating: bool
    dressing: bool
    getting_out_of_bed: bool
    toileting: bool
    walking_indoors: bool
    bathing: bool

    def unable_count(self) -> int:
        """How many of the six activities the person cannot do."""
        return [
            self.eating,
            self.dressing,
            self.getting_out_of_bed,
            self.toileting,
            self.walking_indoors,
            self.bathing,
        ].count(False)


def self_care_tier(assessment: SelfCareAssessment) -> CareTier:
    """特困办法 Art. 20–23: all six able → self-care; 1–3 unable → partly lost;
    4 or more unable → fully lost."""
    unable = assessment.unable_count()
    if unable == 0:
        return CareTier.SELF_CARE
    if unable <= 3:
        return CareTier.PARTIAL_LOSS
    return CareTier.FULL_LOSS


NonEmptyName = Annotated[str, Field(min_length=1, max_length=50)]


class Member(_Model):
    """A member of the household (共同生活的家庭成员, 低保办法 Art. 7).

    ``id_number`` is validated (GB 11643) and normalised; ``birth_date`` must equal the date in
    the identity number; disability category and grade are given together or not at all.
    """

    name: NonEmptyName
    id_number: str
    relation: Relation
    birth_date: date
    hukou: Hukou
    disability_category: DisabilityCategory | None = None
    disability_grade: int | None = Field(default=None, ge=1, le=4)
    serious_illness: bool = False
    work_capacity: WorkCapacity = WorkCapacity.FULL
    student: bool = False
    incomes: list[Income] = Field(default_factory=list)
    employment_costs: Money = ZERO
    self_care: SelfCareAssessment | None = None

    @field_validator("name")
    @classmethod
    def _strip_name(cls, value: str) -> str:
        stripped = value.strip()
        if not stripped:
            raise ValueError("姓名不能为空 / name must not be blank")
        return stripped

    @field_validator("id_number")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        return validate_id_number(value)

    @field_validator("birth_date")
    @classmethod
    def _birth_matches_id(cls, value: date, info: ValidationInfo) -> date:
        id_number = info.data.get("id_number")
        if isinstance(id_number, str):
            embedded = birth_date_from_id(id_number)
            if embedded != value:
                raise ValueError(
                    f"出生日期{value.isoformat()}与身份证号码中的出生日期{embedded.isoformat()}"
                    f"不一致 / birth date {value.isoformat()} disagrees with the identity number "
                    f"({embedded.isoformat()})"
                )
        return value

    @model_validator(mode="after")
    def _disability_complete(self) -> "Member":
        if (self.disability_category is None) != (self.disability_grade is None):
            raise ValueError(
                "残疾类别和残疾等级须同时填写 / disability_category and disability_grade go "
                "together"
            )
        return self

    def monthly_income(self) -> Decimal:
        """Counted monthly income: every income except ``EXCLUDED``."""
        return sum(
            (i.monthly_amount for i in self.incomes if i.kind is not IncomeKind.EXCLUDED), ZERO
        )

    def earned_income(self) -> Decimal:
        """Monthly wage and business income (from which employment costs are deducted)."""
        return sum((i.monthly_amount for i in self.incomes if i.kind in EARNED_INCOME_KINDS), ZERO)


class Asset(_Model):
    """An item of household property and its value in yuan."""

    kind: AssetKind
    value: Money
    description: str = ""


class RigidExpenditure(_Model):
    """Rigid spending in the last 12 months (total yuan over the 12 months)."""

    kind: RigidExpenditureKind
    amount: Money
    description: str = ""


class Supporter(_Model):
    """A legal supporter outside the household (法定赡养、抚养、扶养义务人)."""

    name: NonEmptyName
    relation: Relation
    able_to_support: bool
    monthly_support: Money = ZERO
    id_number: str | None = None

    @field_validator("id_number")
    @classmethod
    def _valid_id(cls, value: str | None) -> str | None:
        return None if value is None else validate_id_number(value)


class Household(_Model):
    """The applying household: members (exactly one ``applicant``), assets, rigid spending in
    the last 12 months, legal supporters outside the household, and optionally an explicit
    household registration type (otherwise the applicant's)."""

    members: list[Member] = Field(min_length=1)
    assets: list[Asset] = Field(default_factory=list)
    rigid_expenditures_12m: list[RigidExpenditure] = Field(default_factory=list)
    legal_supporters: list[Supporter] = Field(default_factory=list)
    hukou: Hukou | None = None

    @field_validator("members")
    @classmethod
    def _one_applicant_unique_ids(cls, members: list[Member]) -> list[Member]:
        applicants = [m for m in members if m.relation is Relation.APPLICANT]
        if not applicants:
            raise ValueError("家庭成员中须有一名申请人 / exactly one member must be the applicant")
        if len(applicants) > 1:
            raise ValueError(
                f"只能有一名申请人，实际有{len(applicants)}名 / exactly one member must be the "
                f"applicant, found {len(applicants)}"
            )
        seen: set[str] = set()
        for member in members:
            if member.id_number in seen:
                raise ValueError(
                    "家庭成员身份证号码重复 / the same identity number appears twice among members"
                )
            seen.add(member.id_number)
        return members

    @property
    def applicant(self) -> Member:
        """The applicant (validated to be exactly one)."""
        return next(m for m in self.members if m.relation is Relation.APPLICANT)

    @property
    def size(self) -> int:
        """Number of members (共同生活的家庭成员人数)."""
        return len(self.members)


def household_hukou(household: Household) -> Hukou:
    """The household's registration type: explicit, or the applicant's."""
    return household.hukou if household.hukou is not None else household.applicant.hukou


def age_on(birth: date, on: date) -> int:
    """Age in full years on ``on`` (周岁); a 29 February birthday counts from 1 March."""
    years = on.year - birth.year
    if (on.month, on.day) < (birth.month, birth.day):
        years -= 1
    return years


Loc = tuple[str | int, ...]


class FieldProblem(BaseModel):
    """A problem with one input field: ``loc`` is the path, ``message`` says what is wrong."""

    model_config = ConfigDict(frozen=True)

    loc: Loc
    message: str


def validate_household_on(household: Household, on: date) -> list[FieldProblem]:
    """Checks that need today's date: no member born after ``on``; no supporter's identity
    number carrying a future birth date. Returns problems (empty if none)."""
    problems: list[FieldProblem] = []
    for index, member in enumerate(household.members):
        if member.birth_date > on:
            problems.append(
                FieldProblem(
                    loc=("members", index, "birth_date"),
                    message=(
                        f"出生日期{member.birth_date.isoformat()}晚于{on.isoformat()} / birth "
                        f"date {member.birth_date.isoformat()} is after {on.isoformat()}"
                    ),
                )
            )
    for index, supporter in enumerate(household.legal_supporters):
        if supporter.id_number is not None and birth_date_from_id(supporter.id_number) > on:
            problems.append(
                FieldProblem(
                    loc=("legal_supporters", index, "id_number"),
                    message=(
                        f"身份证号码中的出生日期晚于{on.isoformat()} / the birth date in the "
                        f"identity number is after {on.isoformat()}"
                    ),
                )
            )
    return problems


def problems_from_validation_error(error: ValidationError) -> list[FieldProblem]:
    """Turn a pydantic ``ValidationError`` into ``FieldProblem``s (``loc`` kept, message
    without pydantic's "Value error, " prefix)."""
    problems: list[FieldProblem] = []
    for item in error.errors(include_url=False):
        message = str(item.get("msg", ""))
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        problems.append(FieldProblem(loc=tuple(item.get("loc", ())), message=message))
    return problems


def check_household(
    data: Mapping[str, object], on: date
) -> tuple[Household | None, list[FieldProblem]]:
    """Validate raw input: the household, or ``None`` and every problem found (structure,
    identity numbers, amounts, and the date checks of ``validate_household_on``)."""
    try:
        household = Household.model_validate(data)
    except ValidationError as error:
        return None, problems_from_validation_error(error)
    problems = validate_household_on(household, on)
    return (household if not problems else None), problems
