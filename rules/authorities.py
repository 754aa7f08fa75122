"""The names of the authorities printed on notices, from the area registry (``rules.areas``):
the township's people's government or sub-district office, the county's civil-affairs bureau,
people's government and court (DOMAIN §2: the township accepts, investigates and delivers; the
county decides; administrative review lies to the county government, suit to the county court —
《行政复议法》第二十条, 《行政诉讼法》第四十六条).

A township is a 乡/镇 (乡镇人民政府) or a 街道 (街道办事处, the district's agency); its formal
name carries its county's: ``演示县城关镇人民政府``, ``富民县永定街道办事处``. Pure."""

from rules.areas import AREAS, county_of, is_valid_area_code, township_of

__all__ = [
    "county_bureau_name",
    "county_court_name",
    "county_government_name",
    "township_authority_name",
    "village_name",
]


def _registered(code: str | None) -> str | None:
    if code is None:
        return None
    area = AREAS.get(code)
    return area.name if area is not None else None


def _county(code: str) -> str:
    """The county's registered name (an unregistered county: its code, never a placeholder)."""
    county = county_of(code) if is_valid_area_code(code) else None
    return _registered(county) or (county or code)


def county_bureau_name(code: str) -> str:
    """``演示县民政局``: the county's civil-affairs bureau (decides, 低保办法 Art. 20)."""
    return f"{_county(code)}民政局"


def county_government_name(code: str) -> str:
    """``演示县人民政府``: where administrative review lies."""
    return f"{_county(code)}人民政府"


def county_court_name(code: str) -> str:
    """``演示县人民法院``: where suit lies."""
    return f"{_county(code)}人民法院"


def township_authority_name(code: str) -> str:
    """``演示县城关镇人民政府`` / ``富民县永定街道办事处``: the township authority of an area at
    or below township level; above it (a case registered at county level), the county bureau."""
    township = township_of(code) if is_valid_area_code(code) else None
    name = _registered(township)
    if township is None or name is None:
        return county_bureau_name(code)
    suffix = "办事处" if name.endswith("街道") else "人民政府"
    return f"{_county(code)}{name}{suffix}"


def village_name(code: str) -> str:
    """The village or community (村/社区) where a publicity list is posted; above village
    level, the township's name."""
    if is_valid_area_code(code) and len(code) >= 12 and code in AREAS:
        return AREAS[code].name
    township = township_of(code) if is_valid_area_code(code) else None
    return _registered(township) or _county(code)
