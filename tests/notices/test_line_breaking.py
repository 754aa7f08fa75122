"""The PDF line breaker (``jiuzhu.line_breaking``): 禁则 — no line starts with closing
punctuation, none ends with opening punctuation — and numbers, dates, amounts, document numbers
and ids kept whole. Hard cases at the exact line boundary, and a property test."""

from hypothesis import given, settings
from hypothesis import strategies as st

from jiuzhu.line_breaking import CLOSING, OPENING, break_lines, units


def measure(text: str) -> float:
    """Full-width characters 1.0, ASCII 0.5 (like a CJK font)."""
    return sum(0.5 if ord(c) < 0x2E80 and c not in CLOSING | OPENING else 1.0 for c in text)


def test_closing_punctuation_at_the_boundary_takes_the_previous_character_along() -> None:
    # Ten characters fit; the eleventh is "，": it may not start line 2.
    lines = break_lines("一二三四五六七八九十，甲乙", 10, measure)
    assert lines == ["一二三四五六七八九", "十，甲乙"]


def test_a_chain_of_closing_punctuation_stays_with_its_word() -> None:
    lines = break_lines("一二三四五六七八九「十」）。后", 10, measure)
    assert all(line[0] not in CLOSING for line in lines)
    assert "".join(lines) == "一二三四五六七八九「十」）。后"


def test_opening_punctuation_never_ends_a_line() -> None:
    lines = break_lines("一二三四五六七八九《办法》", 10, measure)
    assert all(line[-1] not in OPENING for line in lines)
    assert lines == ["一二三四五六七八九", "《办法》"]


def test_a_document_number_stays_whole() -> None:
    text = "依据民政部文件民发〔2018〕23号执行"
    for width in range(6, 20):
        lines = break_lines(text, width, measure)
        assert sum("〔2018〕" in line for line in lines) == 1, (width, lines)
        if width >= 8:
            assert sum("〔2018〕23号" in line for line in lines) == 1, (width, lines)


def test_dates_amounts_and_ids_stay_whole() -> None:
    text = "于2026年3月5日决定每月1,234.56元，政策CN@2021-07-01+41@2025-01-01，电话0391-1234567。"
    for width in range(14, 40):  # the id (13.5 wide) fits a line
        joined = break_lines(text, width, measure)
        for whole in ("2026年3月5日", "1,234.56元", "CN@2021-07-01+41@2025-01-01", "0391-1234567"):
            assert sum(whole in line for line in joined) == 1, (width, whole, joined)


def test_units_glue_brackets_and_numbers() -> None:
    assert "（民发〔2021〕57号）" in "".join(units("办法（民发〔2021〕57号）第十条"))
    assert units("〔2018〕") == ["〔2018〕"]
    assert "850.00元。" in units("每月850.00元。")


def test_an_id_wider_than_a_line_is_split_but_never_before_closing_punctuation() -> None:
    lines = break_lines("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789。", 6, measure)
    assert len(lines) > 1
    assert all(line[0] not in CLOSING for line in lines)
    assert "".join(lines) == "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789。"


def test_spaces_break_and_are_dropped_but_ideographic_spaces_stay() -> None:
    assert break_lines("aaaa bbbb cccc", 3, measure) == ["aaaa", "bbbb", "cccc"]
    assert break_lines("　　　　年　　月　　日", 20, measure) == ["　　　　年　　月　　日"]


def test_forced_breaks_and_first_line_width() -> None:
    assert break_lines("演示县民政局\n2026年3月5日", 30, measure) == [
        "演示县民政局",
        "2026年3月5日",
    ]
    lines = break_lines("一二三四五六七八九十一二三四五", 10, measure, first_width=5)
    assert lines[0] == "一二三四五" and lines[1] == "六七八九十一二三四五"


ALPHABET = (
    list("救助申请人王明家庭收入年月日元号条")
    + list("，。、；：？！）」』〕》”")
    + list("（「『〔《“")
    + list("0123456789")
    + ["〔2018〕", " ", "2026年3月5日", "1,234.56元"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(ALPHABET), min_size=1, max_size=60), st.integers(4, 30))
def test_property_no_line_starts_with_closing_or_ends_with_opening(
    pieces: list[str], width: int
) -> None:
    text = "".join(pieces)
    lines = break_lines(text, width, measure)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    for index, line in enumerate(lines):
        if index > 0 and line:
            assert line[0] not in CLOSING, lines
        if index < len(lines) - 1 and line:
            assert line[-1] not in OPENING, lines
        # Over-wide lines only where an unbreakable unit is wider than the line (it is then
        # split by character, closing punctuation kept with what precedes it).
        if measure(line) > width:
            assert any(measure(u) > width for u in units(text)), lines
