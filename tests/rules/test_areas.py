"""Administrative division codes and the area registry."""

import pytest

from rules.areas import (
    AREAS,
    DEMO_COUNTY,
    NATIONAL,
    Area,
    AreaLevel,
    ancestors,
    area_contains,
    children_of,
    county_of,
    full_name,
    get_area,
    is_known_area,
    is_valid_area_code,
    level_of,
    township_of,
)


def test_demo_county_tree() -> None:
    county = get_area(DEMO_COUNTY)
    assert county == Area(code="419901", name="演示县", level=AreaLevel.COUNTY, parent="4199")
    assert get_area("4199").name == "演示市"
    assert get_area("41").name == "河南省"
    townships = children_of("419901")
    assert [(t.code, t.name) for t in townships] == [
        ("419901001", "城关镇"),
        ("419901002", "东湖乡"),
        ("419901003", "西山乡"),
    ]
    for township in townships:
        villages = children_of(township.code)
        assert [v.code for v in villages] == [township.code + "001", township.code + "002"]
        assert all(v.level is AreaLevel.VILLAGE for v in villages)


@pytest.mark.parametrize("province", ["41", "21", "14", "53"])
def test_each_seed_province_has_a_chain_down_to_a_village(province: str) -> None:
    levels = {a.level for a in AREAS.values() if a.code.startswith(province)}
    assert levels == set(AreaLevel)


def test_registry_is_consistent() -> None:
    for code, area in AREAS.items():
        assert area.code == code
        assert area.level is level_of(code)
        assert area.parent is None or area.parent in AREAS
        assert area.name


def test_jiaozuo_and_qinyang_are_real_codes() -> None:
    assert get_area("4108").name == "焦作市"
    assert get_area("410882").name == "沁阳市"
    assert full_name("410882") == "河南省焦作市沁阳市"


def test_unknown_area() -> None:
    assert not is_known_area("419999")
    with pytest.raises(KeyError):
        get_area("419999")


def test_ancestors_from_province_down_to_itself() -> None:
    assert ancestors("419901001002") == ["41", "4199", "419901", "419901001", "419901001002"]
    assert ancestors("41") == ["41"]
    assert ancestors("530124") == ["53", "5301", "530124"]


def test_containment_is_prefix_and_reflexive() -> None:
    assert area_contains("419901", "419901001001")
    assert area_contains("419901", "419901")
    assert area_contains("41", "419901002")
    assert not area_contains("419901001", "419901002001")
    assert not area_contains("419901001001", "419901001")
    assert not area_contains("4108", "419901")
    assert area_contains(NATIONAL, "53")
    assert not area_contains("41", "41x")


def test_county_and_township_of() -> None:
    assert county_of("419901003002") == "419901"
    assert township_of("419901003002") == "419901003"
    assert county_of("4199") is None
    assert township_of("419901") is None
    assert township_of("419901003") == "419901003"


@pytest.mark.parametrize("code", ["", "4", "419", "41990", "4199010011", "41a9", "CN"])
def test_malformed_codes(code: str) -> None:
    assert not is_valid_area_code(code)
    with pytest.raises(ValueError):
        ancestors(code)
