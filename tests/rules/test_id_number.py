"""GB 11643 identity numbers and privacy masking."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.id_number import (
    birth_date_from_id,
    check_character,
    make_id_number,
    mask_id_number,
    mask_name,
    validate_id_number,
)

STANDARD_EXAMPLE = "11010519491231002X"  # the example in GB 11643-1999


def test_standard_example_is_valid() -> None:
    assert validate_id_number(STANDARD_EXAMPLE) == STANDARD_EXAMPLE
    assert birth_date_from_id(STANDARD_EXAMPLE) == date(1949, 12, 31)


def test_normalises_case_and_whitespace() -> None:
    assert validate_id_number("  11010519491231002x ") == STANDARD_EXAMPLE


def test_check_character_ten_is_x() -> None:
    assert check_character(STANDARD_EXAMPLE[:17]) == "X"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("1101051949123100", "18位"),
        ("11010519491231002X1", "18"),
        ("1101051949123100AX", "17"),
        ("11010519491231002Y", "digit or X"),
        ("110105194902300025", "出生日期"),
        ("110105184912310021", "birth date"),
        ("110105194912310021", "校验码"),
        ("110105194912310021", "expected X, got 1"),
    ],
)
def test_invalid_numbers_explain_what_is_wrong(value: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        validate_id_number(value)


def test_make_id_number_builds_valid_numbers() -> None:
    number = make_id_number("419901", date(1960, 5, 1), "123")
    assert number.startswith("41990119600501123")
    assert validate_id_number(number) == number


@pytest.mark.parametrize(("area", "seq"), [("41990", "123"), ("419901", "12"), ("41990a", "123")])
def test_make_id_number_rejects_bad_parts(area: str, seq: str) -> None:
    with pytest.raises(ValueError):
        make_id_number(area, date(1960, 5, 1), seq)


@settings(max_examples=60, deadline=None)
@given(
    birth=st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31)),
    seq=st.integers(min_value=0, max_value=999),
)
def test_made_numbers_round_trip(birth: date, seq: int) -> None:
    number = make_id_number("410882", birth, f"{seq:03d}")
    assert validate_id_number(number) == number
    assert birth_date_from_id(number) == birth


@settings(max_examples=60, deadline=None)
@given(
    birth=st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31)),
    seq=st.integers(min_value=0, max_value=999),
    wrong=st.sampled_from("0123456789X"),
)
def test_any_other_check_character_is_rejected(birth: date, seq: int, wrong: str) -> None:
    number = make_id_number("410882", birth, f"{seq:03d}")
    if wrong != number[-1]:
        with pytest.raises(ValueError, match="check digit"):
            validate_id_number(number[:-1] + wrong)


def test_mask_id_number_keeps_first_and_last_four() -> None:
    assert mask_id_number("410882196005011234") == "4108**********1234"
    assert mask_id_number(STANDARD_EXAMPLE.lower()) == "1101**********002X"
    assert mask_id_number("1234") == "****"


@pytest.mark.parametrize(
    ("name", "masked"),
    [("张小明", "张*明"), ("张明", "张*"), ("欧阳小明", "欧**明"), ("张", "*"), (" 李四 ", "李*")],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked
