"""Resident identity numbers (公民身份号码, GB 11643-1999) and privacy masking.

An identity number has 18 characters: a 6-digit area code, an 8-digit birth date (YYYYMMDD),
a 3-digit sequence number, and a check character computed with ISO 7064 MOD 11-2 over the
first 17 digits (``X`` stands for 10).

Masking follows the privacy rule for publicity lists (低保办法 Art. 23–24; 焦民〔2022〕154号
第十一条 "注意公示内容、方式和范围，保护个人隐私").
"""

from datetime import date
from typing import Any

ID_NUMBER_LENGTH = 18

# ISO 7064 MOD 11-2 weights for positions 1..17 (2^(18-i) mod 11).
_WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Check character for (sum mod 11) = 0..10.
_CHECK_CHARS = "10X98765432"
_EARLIEST_BIRTH_YEAR = 1850


def check_character(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 17 digits (GB 11643-1999 §5.4)."""
    if len(first17) != ID_NUMBER_LENGTH - 1 or not first17.isascii() or not first17.isdigit():
        raise ValueError(
            f"校验码只能由17位数字计算 / the check character needs exactly 17 digits: {first17!r}"
        )
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def _parse_birth_date(digits8: str) -> date:
    year, month, day = int(digits8[0:4]), int(digits8[4:6]), int(digits8[6:8])
    if year < _EARLIEST_BIRTH_YEAR:
        raise ValueError(
            f"身份证号码中的出生日期无效：{digits8} / the birth date in the identity number is "
            f"invalid: year {year} is before {_EARLIEST_BIRTH_YEAR}"
        )
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(
            f"身份证号码中的出生日期无效：{digits8} / the birth date in the identity number is "
            f"not a real date: {digits8}"
        ) from None


def validate_id_number(s: str) -> str:
    """Validate an 18-character resident identity number and return it normalised.

    GB 11643-1999: 17 digits then a digit or ``X``; characters 7–14 are a real birth date;
    the last character is the MOD 11-2 check character. Surrounding whitespace is ignored and a
    lower-case ``x`` is accepted. Raises ``ValueError`` with a Chinese and English message
    naming what is wrong (length, characters, birth date or check digit).
    """
    value = s.strip().upper()
    if len(value) != ID_NUMBER_LENGTH:
        raise ValueError(
            f"身份证号码应为18位，实际为{len(value)}位 / an identity number has 18 characters, "
            f"got {len(value)}"
        )
    body, last = value[:17], value[17]
    if not (body.isascii() and body.isdigit()) or not (
        last == "X" or (last.isascii() and last.isdigit())
    ):
        raise ValueError(
            "身份证号码前17位须为数字，最后一位为数字或X / an identity number is 17 digits "
            "followed by a digit or X"
        )
    _parse_birth_date(body[6:14])
    expected = check_character(body)
    if last != expected:
        raise ValueError(
            f"身份证号码校验码错误：应为{expected}，实际为{last} / wrong check digit: expected "
            f"{expected}, got {last}"
        )
    return value


def birth_date_from_id(s: str) -> date:
    """Birth date embedded in a valid identity number (characters 7–14, GB 11643-1999)."""
    return _parse_birth_date(validate_id_number(s)[6:14])


def make_id_number(area6: str, birth: date, seq3: str) -> str:
    """Build a valid identity number from its parts, computing the check character.

    For tests and demo data: ``make_id_number("419901", date(1960, 5, 1), "123")``.
    """
    if len(area6) != 6 or not area6.isdigit():
        raise ValueError(f"area code must be 6 digits: {area6!r}")
    if len(seq3) != 3 or not seq3.isdigit():
        raise ValueError(f"sequence must be 3 digits: {seq3!r}")
    first17 = f"{area6}{birth:%Y%m%d}{seq3}"
    return first17 + check_character(first17)


def mask_id_number(s: str) -> str:
    """Mask an identity number for publication: keep the first 4 and last 4 characters.

    ``"410882196005011234"`` → ``"4108**********1234"``. Anything of 8 characters or fewer is
    masked entirely. 低保办法 Art. 23–24: public lists protect personal data.
    """
    value = s.strip().upper()
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_id_fields(data: Any) -> Any:
    """``data`` (JSON-like) with the value of every key ending in ``id_number`` masked by
    :func:`mask_id_number`; masking twice changes nothing. For what is kept as a record (stored
    notices, audit lines, the read model's detail): PIPL Art. 51, no ID number in clear."""
    if isinstance(data, dict):
        return {
            k: mask_id_number(v)
            if isinstance(k, str) and k.endswith("id_number") and isinstance(v, str)
            else mask_id_fields(v)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [mask_id_fields(v) for v in data]
    return data


def mask_name(name: str) -> str:
    """Mask a personal name for publication.

    Two characters keep the first (``"张明"`` → ``"张*"``); longer names keep the first and last
    (``"张小明"`` → ``"张*明"``, ``"欧阳小明"`` → ``"欧**明"``); a single character becomes ``"*"``.
    """
    value = name.strip()
    if len(value) <= 1:
        return "*" * len(value)
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]
