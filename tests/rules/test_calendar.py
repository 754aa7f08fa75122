"""Working days against the State Council holiday schedules (DOMAIN §8)."""

from datetime import date

import pytest
from pydantic import ValidationError

from rules.calendar import (
    CalendarResult,
    WorkingCalendar,
    YearSchedule,
    add_months,
    builtin_schedules,
    due_date,
    reminder_date,
)
from rules.periods import Period, PeriodUnit, calendar_days, months, working_days


def firm(d: date) -> CalendarResult:
    return CalendarResult(date=d, provisional=False)


# The 2027 schedule is not in chinesecalendar 1.11.0; this stand-in has New Year on Friday
# 2027-01-01 and a make-up Saturday, to show that loading a year changes results.
SCHEDULE_2027 = YearSchedule(
    year=2027,
    holidays=[date(2027, 1, 1), date(2027, 1, 2), date(2027, 1, 3)],
    workdays=[date(2027, 1, 9)],
)


def test_builtin_schedules_cover_2004_to_2026() -> None:
    schedules = builtin_schedules()
    assert sorted(schedules) == list(range(2004, 2027))
    assert date(2026, 10, 10) in schedules[2026].workdays
    assert date(2026, 10, 1) in schedules[2026].holidays


def test_national_day_2026_ends_on_a_make_up_saturday(calendar: WorkingCalendar) -> None:
    # 2026: 10-01..10-07 off; Saturday 10-10 is a working day.
    assert calendar.add_working_days(date(2026, 9, 30), 3) == firm(date(2026, 10, 10))
    assert calendar.is_working_day(date(2026, 10, 10))
    assert not calendar.is_working_day(date(2026, 10, 7))


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # 2024 Spring Festival: 02-10..02-17 off; Sunday 02-04 and Sunday 02-18 worked.
        (date(2024, 2, 8), 1, date(2024, 2, 9)),
        (date(2024, 2, 9), 1, date(2024, 2, 18)),
        (date(2024, 2, 3), 1, date(2024, 2, 4)),
        # 2025 Spring Festival: 01-28..02-04 off; Sunday 01-26 and Saturday 02-08 worked.
        (date(2025, 1, 24), 1, date(2025, 1, 26)),
        (date(2025, 1, 27), 1, date(2025, 2, 5)),
        (date(2025, 2, 7), 1, date(2025, 2, 8)),
        # 2026 Spring Festival: 02-15..02-23 off; Saturdays 02-14 and 02-28 worked.
        (date(2026, 2, 13), 1, date(2026, 2, 14)),
        (date(2026, 2, 14), 1, date(2026, 2, 24)),
        (date(2026, 2, 12), 10, date(2026, 3, 4)),
        # National Day 2025: 10-01..10-08 off; Saturday 10-11 worked.
        (date(2025, 9, 30), 1, date(2025, 10, 9)),
        (date(2025, 10, 10), 1, date(2025, 10, 11)),
        # National Day 2023 (with Mid-Autumn): 09-29..10-06 off; 10-07 and 10-08 worked.
        (date(2023, 9, 28), 1, date(2023, 10, 7)),
        (date(2023, 9, 28), 2, date(2023, 10, 8)),
    ],
)
def test_holiday_schedules(
    calendar: WorkingCalendar, start: date, days: int, expected: date
) -> None:
    assert calendar.add_working_days(start, days) == firm(expected)


def test_counting_starts_the_day_after(calendar: WorkingCalendar) -> None:
    # Monday 2026-03-02 + 1 working day = Tuesday.
    assert calendar.add_working_days(date(2026, 3, 2), 1) == firm(date(2026, 3, 3))
    # Friday + 1 = Monday.
    assert calendar.add_working_days(date(2026, 3, 6), 1) == firm(date(2026, 3, 9))


def test_zero_days_returns_start(calendar: WorkingCalendar) -> None:
    assert calendar.add_working_days(date(2026, 10, 3), 0) == firm(date(2026, 10, 3))
    assert calendar.add_working_days(date(2027, 3, 1), 0).provisional


def test_negative_days_rejected(calendar: WorkingCalendar) -> None:
    with pytest.raises(ValueError):
        calendar.add_working_days(date(2026, 3, 2), -1)


def test_year_without_schedule_is_provisional(calendar: WorkingCalendar) -> None:
    assert not calendar.has_schedule(2027)
    # Weekdays only: 12-31 (Thu), 2027-01-01 (Fri), 2027-01-04 (Mon).
    result = calendar.add_working_days(date(2026, 12, 30), 3)
    assert result == CalendarResult(date=date(2027, 1, 4), provisional=True)
    # Entirely inside 2026: not provisional.
    assert not calendar.add_working_days(date(2026, 12, 1), 3).provisional
    # Weekdays count as working days in an unknown year, weekends do not.
    assert calendar.is_working_day(date(2027, 1, 1))
    assert not calendar.is_working_day(date(2027, 1, 2))


def test_loading_a_year_makes_it_firm_and_can_move_the_date(calendar: WorkingCalendar) -> None:
    loaded = calendar.with_schedule(SCHEDULE_2027)
    assert loaded.has_schedule(2027)
    assert loaded.add_working_days(date(2026, 12, 30), 3) == firm(date(2027, 1, 5))
    assert loaded.is_working_day(date(2027, 1, 9))
    # The original calendar is unchanged.
    assert not calendar.has_schedule(2027)


def test_calendar_built_from_mapping_only() -> None:
    empty = WorkingCalendar({})
    assert empty.add_working_days(date(2026, 9, 30), 3) == CalendarResult(
        date=date(2026, 10, 5), provisional=True
    )
    own = WorkingCalendar({2027: SCHEDULE_2027})
    assert own.years == [2027]
    with pytest.raises(ValueError):
        WorkingCalendar({2026: SCHEDULE_2027})


def test_subtract_and_count_working_days(calendar: WorkingCalendar) -> None:
    assert calendar.subtract_working_days(date(2026, 10, 10), 1) == firm(date(2026, 10, 9))
    assert calendar.subtract_working_days(date(2026, 10, 8), 1) == firm(date(2026, 9, 30))
    assert calendar.count_working_days(date(2026, 9, 30), date(2026, 10, 10)) == 3
    assert calendar.count_working_days(date(2026, 10, 10), date(2026, 9, 30)) == 0


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2023, 12, 31), 2, date(2024, 2, 29)),
        (date(2026, 8, 31), 1, date(2026, 9, 30)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 11, 15), 6, date(2027, 5, 15)),
        (date(2026, 1, 15), 0, date(2026, 1, 15)),
    ],
)
def test_month_arithmetic_clamps_to_month_end(
    calendar: WorkingCalendar, start: date, n: int, expected: date
) -> None:
    assert add_months(start, n) == expected
    assert calendar.add_months(start, n) == expected


@pytest.mark.parametrize(
    ("year", "month", "day", "expected"),
    [
        # 2026-10-10 is a Saturday declared a working day: credit stays on the 10th.
        (2026, 10, 10, date(2026, 10, 10)),
        # 2026-02-10 is a Tuesday before the Spring Festival break: stays.
        (2026, 2, 10, date(2026, 2, 10)),
        # 2026-05-10 is a Sunday: moves to Saturday 05-09, a make-up working day.
        (2026, 5, 10, date(2026, 5, 9)),
        # 2024-02-10 is the first day of the Spring Festival: moves to Friday 02-09.
        (2024, 2, 10, date(2024, 2, 9)),
        # 2026-10-05 (data cut-off) falls in National Day: back into September.
        (2026, 10, 5, date(2026, 9, 30)),
        # 2025-10-08 (funds cut-off) is the last day of the 2025 National Day break.
        (2025, 10, 8, date(2025, 9, 30)),
        # 2026-01-10 is a Saturday: Friday 01-09.
        (2026, 1, 10, date(2026, 1, 9)),
        # 2026-04-05 is Qingming (Sunday): Friday 04-03.
        (2026, 4, 5, date(2026, 4, 3)),
        # A day past the month end is clamped: 2026-02-31 → 02-28 (a make-up Saturday).
        (2026, 2, 31, date(2026, 2, 28)),
    ],
)
def test_payment_cut_offs_move_earlier(
    calendar: WorkingCalendar, year: int, month: int, day: int, expected: date
) -> None:
    assert calendar.nth_of_month_or_earlier(year, month, day) == firm(expected)


def test_payment_cut_off_in_unknown_year_is_provisional(calendar: WorkingCalendar) -> None:
    # 2027-01-10 is a Sunday; weekdays-only gives Friday 01-08, provisionally.
    assert calendar.nth_of_month_or_earlier(2027, 1, 10) == CalendarResult(
        date=date(2027, 1, 8), provisional=True
    )
    loaded = calendar.with_schedule(SCHEDULE_2027)
    # With the 2027 schedule, Saturday 01-09 is a working day.
    assert loaded.nth_of_month_or_earlier(2027, 1, 10) == firm(date(2027, 1, 9))


def test_last_and_first_working_day(calendar: WorkingCalendar) -> None:
    assert calendar.last_working_day_on_or_before(date(2026, 10, 4)) == firm(date(2026, 9, 30))
    assert calendar.first_working_day_on_or_after(date(2026, 10, 4)) == firm(date(2026, 10, 8))


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        (working_days(3), firm(date(2026, 10, 10))),
        (calendar_days(7), firm(date(2026, 10, 7))),
        (months(6), firm(date(2027, 3, 30))),
        (Period(value=0, unit=PeriodUnit.WORKING_DAYS), firm(date(2026, 9, 30))),
    ],
)
def test_due_date_dispatches_on_unit(
    calendar: WorkingCalendar, period: Period, expected: CalendarResult
) -> None:
    assert due_date(date(2026, 9, 30), period, calendar) == expected


def test_reminder_date(calendar: WorkingCalendar) -> None:
    assert reminder_date(date(2026, 10, 8), working_days(1), calendar) == firm(date(2026, 9, 30))
    assert reminder_date(date(2026, 10, 8), calendar_days(2), calendar) == firm(date(2026, 10, 6))
    assert reminder_date(date(2026, 10, 31), months(1), calendar) == firm(date(2026, 9, 30))


def test_schedule_rejects_a_day_that_is_both_holiday_and_workday() -> None:
    with pytest.raises(ValidationError, match="2027-01-09"):
        YearSchedule(year=2027, holidays=[date(2027, 1, 9)], workdays=[date(2027, 1, 9)])


def test_schedule_rejects_dates_outside_its_year() -> None:
    with pytest.raises(ValidationError, match="2026-12-31"):
        YearSchedule(year=2027, holidays=[date(2026, 12, 31)], workdays=[])


def test_schedule_rejects_duplicates() -> None:
    with pytest.raises(ValidationError, match="twice"):
        YearSchedule(year=2027, holidays=[date(2027, 1, 1), date(2027, 1, 1)], workdays=[])


def test_schedule_and_result_round_trip_through_json() -> None:
    assert YearSchedule.model_validate_json(SCHEDULE_2027.model_dump_json()) == SCHEDULE_2027
    result = CalendarResult(date=date(2027, 1, 4), provisional=True)
    assert CalendarResult.model_validate_json(result.model_dump_json()) == result


def test_period_descriptions() -> None:
    assert working_days(3).describe_zh() == "3个工作日"
    assert calendar_days(7).describe_zh() == "7日"
    assert months(6).describe_zh() == "6个月"
    with pytest.raises(ValidationError):
        Period(value=-1, unit=PeriodUnit.MONTHS)
