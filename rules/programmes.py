"""The assistance programmes (救助类别), DOMAIN §1."""

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


class Programme(StrEnum):
    """A social-assistance programme.

    - ``DIBAO``: 最低生活保障 (低保), 低保办法 (民发〔2021〕57号).
    - ``TEKUN``: 特困人员救助供养, 特困办法 (民发〔2021〕43号).
    - ``DIBAO_EDGE``: 低保边缘家庭, 豫政办〔2022〕103号 二(一)3 (seed 000).
    - ``RIGID_EXPENSE``: 刚性支出困难家庭, 《刚性支出困难家庭认定办法》.
    - ``TEMPORARY``: 临时救助, 民发〔2018〕23号 and 国发〔2014〕47号.
    """

    DIBAO = "dibao"
    TEKUN = "tekun"
    DIBAO_EDGE = "dibao_edge"
    RIGID_EXPENSE = "rigid_expense"
    TEMPORARY = "temporary"


PROGRAMME_NAMES_ZH: Mapping[Programme, str] = MappingProxyType(
    {
        Programme.DIBAO: "最低生活保障",
        Programme.TEKUN: "特困人员救助供养",
        Programme.DIBAO_EDGE: "最低生活保障边缘家庭",
        Programme.RIGID_EXPENSE: "刚性支出困难家庭",
        Programme.TEMPORARY: "临时救助",
    }
)

PROGRAMME_SHORT_NAMES_ZH: Mapping[Programme, str] = MappingProxyType(
    {
        Programme.DIBAO: "低保",
        Programme.TEKUN: "特困供养",
        Programme.DIBAO_EDGE: "低保边缘",
        Programme.RIGID_EXPENSE: "刚性支出困难",
        Programme.TEMPORARY: "临时救助",
    }
)

SINGLE_PERSON_DIBAO_NAME_ZH = "最低生活保障（单人保）"


def programme_name_zh(programme: Programme, *, single_person: bool = False) -> str:
    """Full Chinese name of a programme; ``single_person`` names 单人保 (低保 for one person)."""
    if single_person and programme is Programme.DIBAO:
        return SINGLE_PERSON_DIBAO_NAME_ZH
    return PROGRAMME_NAMES_ZH[programme]
