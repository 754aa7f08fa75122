"""Administrative division codes (行政区划代码, GB/T 2260 + statistical township/village codes).

Codes are kept in *significant-prefix* form so that containment is a prefix test:

=========  ======  ====================
level      digits  example
=========  ======  ====================
province   2       ``41`` 河南省
city       4       ``4108`` 焦作市
county     6       ``410882`` 沁阳市
township   9       ``410882100``
village    12      ``410882100201``
=========  ======  ====================

(The full 6-digit GB/T 2260 form ``410000`` is written ``41``, ``410800`` is ``4108``.)
``NATIONAL`` (``"CN"``) stands for the whole country; it is used for national policy layers
and contains every area.

The registry ``AREAS`` holds the demo county 演示县 (``419901``, a code not used by any real
county) and one real-shaped chain per seed province (Henan, Liaoning, Shanxi, Yunnan). Province,
city and county codes are the real GB/T 2260 codes; township and village codes and names below
county level are illustrative.
"""

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict

NATIONAL = "CN"


class AreaLevel(StrEnum):
    """Level of an administrative area (DOMAIN §2)."""

    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"


_LEVEL_BY_LENGTH: Mapping[int, AreaLevel] = MappingProxyType(
    {
        2: AreaLevel.PROVINCE,
        4: AreaLevel.CITY,
        6: AreaLevel.COUNTY,
        9: AreaLevel.TOWNSHIP,
        12: AreaLevel.VILLAGE,
    }
)
_PREFIX_LENGTHS: tuple[int, ...] = (2, 4, 6, 9, 12)

AREA_LEVEL_NAMES_ZH: Mapping[AreaLevel, str] = MappingProxyType(
    {
        AreaLevel.PROVINCE: "省级",
        AreaLevel.CITY: "市级",
        AreaLevel.COUNTY: "县级",
        AreaLevel.TOWNSHIP: "乡镇（街道）",
        AreaLevel.VILLAGE: "村（社区）",
    }
)


class Area(BaseModel):
    """One administrative area: code (significant prefix), Chinese name, level, parent code."""

    model_config = ConfigDict(frozen=True)

    code: str
    name: str
    level: AreaLevel
    parent: str | None


def is_valid_area_code(code: str) -> bool:
    """True if ``code`` has the shape of an area code (2, 4, 6, 9 or 12 ASCII digits)."""
    return code.isascii() and code.isdigit() and len(code) in _LEVEL_BY_LENGTH


def _require_valid(code: str) -> None:
    if not is_valid_area_code(code):
        raise ValueError(
            f"行政区划代码格式错误：{code!r} / an area code has 2, 4, 6, 9 or 12 digits: {code!r}"
        )


def level_of(code: str) -> AreaLevel:
    """Level of a well-formed area code, from its length. ``ValueError`` if malformed."""
    _require_valid(code)
    return _LEVEL_BY_LENGTH[len(code)]


def parent_of(code: str) -> str | None:
    """The code one level up (``None`` for a province). ``ValueError`` if malformed."""
    _require_valid(code)
    index = _PREFIX_LENGTHS.index(len(code))
    return None if index == 0 else code[: _PREFIX_LENGTHS[index - 1]]


def ancestors(code: str) -> list[str]:
    """Codes from the province down to ``code`` itself: ``ancestors("410882")`` →
    ``["41", "4108", "410882"]``. Works for any well-formed code, registered or not."""
    _require_valid(code)
    return [code[:n] for n in _PREFIX_LENGTHS if n <= len(code)]


def area_contains(outer: str, inner: str) -> bool:
    """True if area ``outer`` contains area ``inner`` (an area contains itself).

    Containment is prefix containment of well-formed codes; ``NATIONAL`` contains everything.
    Malformed codes are contained in nothing.
    """
    if not is_valid_area_code(inner):
        return outer == NATIONAL and inner == NATIONAL
    if outer == NATIONAL:
        return True
    return is_valid_area_code(outer) and inner.startswith(outer)


def county_of(code: str) -> str | None:
    """The county (6 digits) an area lies in, or ``None`` for a province or city."""
    _require_valid(code)
    return code[:6] if len(code) >= 6 else None


def township_of(code: str) -> str | None:
    """The township (9 digits) an area lies in, or ``None`` above township level."""
    _require_valid(code)
    return code[:9] if len(code) >= 9 else None


def _build(entries: list[tuple[str, str]]) -> Mapping[str, Area]:
    registry: dict[str, Area] = {}
    for code, name in entries:
        parent = parent_of(code)
        if parent is not None and parent not in registry:
            raise ValueError(f"area {code} registered before its parent {parent}")
        registry[code] = Area(code=code, name=name, level=level_of(code), parent=parent)
    return MappingProxyType(registry)


AREAS: Mapping[str, Area] = _build(
    [
        # Henan (seeds 000, 002) and the demo county.
        ("41", "河南省"),
        ("4199", "演示市"),
        ("419901", "演示县"),
        ("419901001", "城关镇"),
        ("419901001001", "东街社区"),
        ("419901001002", "西街社区"),
        ("419901002", "东湖乡"),
        ("419901002001", "东湖村"),
        ("419901002002", "湖滨村"),
        ("419901003", "西山乡"),
        ("419901003001", "西山村"),
        ("419901003002", "石门村"),
        ("4108", "焦作市"),
        ("410882", "沁阳市"),
        ("410882100", "柏香镇"),
        ("410882100201", "柏香村"),
        # Liaoning (seed 001).
        ("21", "辽宁省"),
        ("2101", "沈阳市"),
        ("210181", "新民市"),
        ("210181100", "大民屯镇"),
        ("210181100201", "大民屯村"),
        # Shanxi (seed 003).
        ("14", "山西省"),
        ("1401", "太原市"),
        ("140121", "清徐县"),
        ("140121100", "清源镇"),
        ("140121100201", "东于村"),
        # Yunnan (seed 004).
        ("53", "云南省"),
        ("5301", "昆明市"),
        ("530124", "富民县"),
        ("530124100", "永定街道"),
        ("530124100201", "大营村"),
    ]
)

DEMO_COUNTY = "419901"


def is_known_area(code: str) -> bool:
    """True if ``code`` is in the registry ``AREAS``."""
    return code in AREAS


def get_area(code: str) -> Area:
    """The registered area with this code; ``KeyError`` if unknown."""
    try:
        return AREAS[code]
    except KeyError:
        raise KeyError(f"未知的行政区划代码 / unknown area code: {code}") from None


def full_name(code: str) -> str:
    """Names from province down, joined: ``"河南省演示市演示县城关镇"``. Unknown levels are
    skipped; ``KeyError`` if the code itself is unknown."""
    get_area(code)
    return "".join(AREAS[c].name for c in ancestors(code) if c in AREAS)


def children_of(code: str) -> list[Area]:
    """Registered areas directly below ``code`` (``NATIONAL`` → provinces), sorted by code."""
    if code == NATIONAL:
        return sorted((a for a in AREAS.values() if a.parent is None), key=lambda a: a.code)
    return sorted((a for a in AREAS.values() if a.parent == code), key=lambda a: a.code)
