"""Disability categories and grades (《残疾人残疾分类和分级》GB/T 26341-2010) and the
criteria lists that policies use to name qualifying disabilities.

Grades run 1 (most severe) to 4. Two national lists rest on them:

- 特困办法 Art. 6 (无劳动能力): intellectual or mental disability grades 1–3, physical
  grades 1–2, visual grade 1 (also in 晋民发〔2022〕38号 一.1, seed 003).
- 单人保 (低保办法 Art. 8): grade 1–2 of any category, plus intellectual or mental grade 3.
  Yunnan (云民社救〔2020〕8号 二(三), seed 004) adds intellectual/mental grade 4.
"""

from collections.abc import Mapping, Sequence
from enum import StrEnum
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict, Field, field_validator


class DisabilityCategory(StrEnum):
    """Category of disability on the 残疾人证."""

    VISUAL = "visual"
    HEARING = "hearing"
    SPEECH = "speech"
    PHYSICAL = "physical"
    INTELLECTUAL = "intellectual"
    MENTAL = "mental"
    MULTIPLE = "multiple"


DISABILITY_CATEGORY_NAMES_ZH: Mapping[DisabilityCategory, str] = MappingProxyType(
    {
        DisabilityCategory.VISUAL: "视力残疾",
        DisabilityCategory.HEARING: "听力残疾",
        DisabilityCategory.SPEECH: "言语残疾",
        DisabilityCategory.PHYSICAL: "肢体残疾",
        DisabilityCategory.INTELLECTUAL: "智力残疾",
        DisabilityCategory.MENTAL: "精神残疾",
        DisabilityCategory.MULTIPLE: "多重残疾",
    }
)

ALL_CATEGORIES: tuple[DisabilityCategory, ...] = tuple(DisabilityCategory)


class DisabilityCriterion(BaseModel):
    """A category and the grades of it that qualify, e.g. intellectual grades [1, 2, 3]."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    category: DisabilityCategory
    grades: list[int] = Field(min_length=1)

    @field_validator("grades")
    @classmethod
    def _grades_in_range(cls, value: list[int]) -> list[int]:
        for grade in value:
            if not 1 <= grade <= 4:
                raise ValueError(f"残疾等级应为1至4级 / a disability grade is 1 to 4, got {grade}")
        return sorted(set(value))


def criteria(grades_by_category: dict[DisabilityCategory, list[int]]) -> list[DisabilityCriterion]:
    """Build a criteria list from ``{category: grades}``."""
    return [DisabilityCriterion(category=c, grades=g) for c, g in grades_by_category.items()]


def meets_criteria(
    category: DisabilityCategory | None,
    grade: int | None,
    qualifying: Sequence[DisabilityCriterion],
) -> bool:
    """True if a disability of ``category`` and ``grade`` is in the ``qualifying`` list."""
    if category is None or grade is None:
        return False
    return any(c.category is category and grade in c.grades for c in qualifying)


def describe_disability_zh(category: DisabilityCategory, grade: int) -> str:
    """ "智力残疾三级"-style description."""
    numerals = {1: "一", 2: "二", 3: "三", 4: "四"}
    return f"{DISABILITY_CATEGORY_NAMES_ZH[category]}{numerals.get(grade, str(grade))}级"
