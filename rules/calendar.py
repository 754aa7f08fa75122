"""Working days under the State Council's yearly holiday schedule (DOMAIN §8).

A working day is a weekday that is not a public holiday, or a weekend day declared a working
day (调休, make-up working day). The State Council (国务院办公厅关于部分节假日安排的通知)
publishes each year's schedule, usually in November–December. The PyPI package
``chinesecalendar`` carries the official schedules 2004–2026 (``builtin_schedules``); a later
year is loaded as data (``YearSchedule``). A deadline that touches a year without a schedule is
still computed on weekdays only and flagged ``provisional`` so it can be recomputed once the
schedule is loaded.

Periods are counted as Chinese law counts them: the start day is not counted
(《民法典》第二百零一条), so "within 3 working days of X" ends on the 3rd working day after X.
"""

from calendar import monthrange
from collections.abc import Iterable, Mapping
from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from rules.periods import Period, PeriodUnit

_ONE_DAY = timedelta(days=1)
# A search for a working day never needs more than a year; beyond that the schedule is absurd.
_MAX_SEARCH_DAYS = 400


class YearSchedule(BaseModel):
    """The official holiday schedule of one year: public holidays and make-up working days.

    ``holidays`` may include weekend days inside a holiday span; ``workdays`` are weekend days
    declared working days (调休). Every date must lie in ``year``; no date may be listed twice
    or be both a holiday and a working day (``ValueError`` naming the date).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    year: int
    holidays: list[date]
    workdays: list[date]

    @field_validator("holidays", "workdays")
    @classmethod
    def _no_duplicates(cls, value: list[date]) -> list[date]:
        seen: set[date] = set()
        for day in value:
            if day in seen:
                raise ValueError(
                    f"日期重复：{day.isoformat()} / date listed twice: {day.isoformat()}"
                )
            seen.add(day)
        return sorted(value)

    @model_validator(mode="after")
    def _consistent(self) -> "YearSchedule":
        for day in [*self.holidays, *self.workdays]:
            if day.year != self.year:
                raise ValueError(
                    f"日期{day.isoformat()}不在{self.year}年内 / date {day.isoformat()} is "
                    f"outside year {self.year}"
                )
        both = sorted(set(self.holidays) & set(self.workdays))
        if both:
            listed = ", ".join(d.isoformat() for d in both)
            raise ValueError(
                f"日期既是节假日又是工作日：{listed} / date is both a holiday and a working "
                f"day: {listed}"
            )
        return self


class CalendarResult(BaseModel):
    """A computed date; ``provisional`` if it depends on a year whose schedule is not loaded."""

    model_config = ConfigDict(frozen=True)

    date: date
    provisional: bool


class WorkingCalendar:
    """Working-day arithmetic over a set of yearly schedules (immutable once built)."""

    def __init__(self, schedules: Mapping[int, YearSchedule]) -> None:
        holidays: dict[int, frozenset[date]] = {}
        workdays: dict[int, frozenset[date]] = {}
        for year, schedule in schedules.items():
            if schedule.year != year:
                raise ValueError(f"schedule for {schedule.year} filed under year {year}")
            holidays[year] = frozenset(schedule.holidays)
            workdays[year] = frozenset(schedule.workdays)
        self._holidays: Mapping[int, frozenset[date]] = holidays
        self._workdays: Mapping[int, frozenset[date]] = workdays

    @property
    def years(self) -> list[int]:
        """Years with a loaded schedule, ascending."""
        return sorted(self._holidays)

    def has_schedule(self, year: int) -> bool:
        """True if the official schedule of ``year`` is loaded."""
        return year in self._holidays

    def with_schedule(self, schedule: YearSchedule) -> "WorkingCalendar":
        """A new calendar with ``schedule`` added (replacing any schedule of the same year)."""
        schedules = {
            year: YearSchedule(
                year=year,
                holidays=sorted(self._holidays[year]),
                workdays=sorted(self._workdays[year]),
            )
            for year in self._holidays
        }
        schedules[schedule.year] = schedule
        return WorkingCalendar(schedules)

    def is_working_day(self, d: date) -> bool:
        """DOMAIN §8: a weekday that is not a public holiday, or a weekend day declared a
        working day. In a year without a schedule: weekdays only."""
        year = d.year
        if year in self._holidays:
            if d in self._workdays[year]:
                return True
            if d in self._holidays[year]:
                return False
        return d.weekday() < 5

    def is_holiday(self, d: date) -> bool:
        """True if ``d`` is listed as a public holiday in a loaded schedule."""
        return d in self._holidays.get(d.year, frozenset())

    def add_working_days(self, start: date, days: int) -> CalendarResult:
        """ "Within N working days of ``start``": the Nth working day after ``start``.

        Counting starts the day after ``start`` (《民法典》第二百零一条). ``days=0`` returns
        ``start``. ``provisional`` if any day examined (``start+1`` up to the result; ``start``
        itself when ``days=0``) lies in a year without a loaded schedule.
        """
        if days < 0:
            raise ValueError(f"days must be >= 0, got {days}")
        if days == 0:
            return CalendarResult(date=start, provisional=not self.has_schedule(start.year))
        provisional = False
        current = start
        remaining = days
        while remaining > 0:
            current += _ONE_DAY
            if not self.has_schedule(current.year):
                provisional = True
            if self.is_working_day(current):
                remaining -= 1
        return CalendarResult(date=current, provisional=provisional)

    def subtract_working_days(self, start: date, days: int) -> CalendarResult:
        """The Nth working day before ``start`` (used for reminders ahead of a due date).

        ``days=0`` returns ``start``. ``provisional`` as in ``add_working_days``, looking back.
        """
        if days < 0:
            raise ValueError(f"days must be >= 0, got {days}")
        if days == 0:
            return CalendarResult(date=start, provisional=not self.has_schedule(start.year))
        provisional = False
        current = start
        remaining = days
        while remaining > 0:
            current -= _ONE_DAY
            if not self.has_schedule(current.year):
                provisional = True
            if self.is_working_day(current):
                remaining -= 1
        return CalendarResult(date=current, provisional=provisional)

    def count_working_days(self, start: date, end: date) -> int:
        """Number of working days in ``(start, end]`` (0 if ``end <= start``)."""
        count = 0
        current = start
        while current < end:
            current += _ONE_DAY
            if self.is_working_day(current):
                count += 1
        return count

    def add_calendar_days(self, start: date, days: int) -> date:
        """ "N days from ``start``" in calendar days: ``start + N`` (start day not counted)."""
        return start + timedelta(days=days)

    def add_months(self, start: date, months: int) -> date:
        """``start`` plus ``months`` months, clamped to the month end: 2024-01-31 + 1 month =
        2024-02-29; 2025-01-31 + 1 month = 2025-02-28 (《民法典》第二百零二条: a period in
        months ends on the corresponding day, or the last day of the month if it has none)."""
        return add_months(start, months)

    def last_working_day_on_or_before(self, d: date) -> CalendarResult:
        """``d`` if it is a working day, else the last working day before it.

        ``provisional`` if any day examined lies in a year without a schedule.
        """
        provisional = False
        current = d
        for _ in range(_MAX_SEARCH_DAYS):
            if not self.has_schedule(current.year):
                provisional = True
            if self.is_working_day(current):
                return CalendarResult(date=current, provisional=provisional)
            current -= _ONE_DAY
        raise ValueError(f"no working day within {_MAX_SEARCH_DAYS} days before {d.isoformat()}")

    def first_working_day_on_or_after(self, d: date) -> CalendarResult:
        """``d`` if it is a working day, else the next working day after it."""
        provisional = False
        current = d
        for _ in range(_MAX_SEARCH_DAYS):
            if not self.has_schedule(current.year):
                provisional = True
            if self.is_working_day(current):
                return CalendarResult(date=current, provisional=provisional)
            current += _ONE_DAY
        raise ValueError(f"no working day within {_MAX_SEARCH_DAYS} days after {d.isoformat()}")

    def nth_of_month_or_earlier(self, year: int, month: int, day: int) -> CalendarResult:
        """ "By the Nth of the month": the Nth, or the last working day before it if the Nth is
        not a working day (payment cut-offs: data by the 5th, funds by the 8th, credited by the
        10th, earlier before public holidays — 焦民〔2022〕154号 第六条). A day past the month's
        end is clamped to the last day of the month."""
        if day < 1:
            raise ValueError(f"day of month must be >= 1, got {day}")
        last = monthrange(year, month)[1]
        return self.last_working_day_on_or_before(date(year, month, min(day, last)))


def add_months(start: date, months: int) -> date:
    """``start`` plus ``months`` months (may be negative), clamped to the month end."""
    index = start.year * 12 + (start.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(start.day, monthrange(year, month)[1]))


def due_date(start: date, period: Period, calendar: WorkingCalendar) -> CalendarResult:
    """The end of ``period`` counted from ``start`` (start day not counted).

    Working days → ``add_working_days``; calendar days → ``start + N``; months → clamped month
    arithmetic. Only working-day results can be provisional.
    """
    if period.unit is PeriodUnit.WORKING_DAYS:
        return calendar.add_working_days(start, period.value)
    if period.unit is PeriodUnit.CALENDAR_DAYS:
        return CalendarResult(
            date=calendar.add_calendar_days(start, period.value), provisional=False
        )
    return CalendarResult(date=add_months(start, period.value), provisional=False)


def reminder_date(due: date, lead: Period, calendar: WorkingCalendar) -> CalendarResult:
    """When to remind ahead of ``due``: ``lead`` counted backwards from the due date
    (policy ``reminder_lead``, default 1 working day)."""
    if lead.unit is PeriodUnit.WORKING_DAYS:
        return calendar.subtract_working_days(due, lead.value)
    if lead.unit is PeriodUnit.CALENDAR_DAYS:
        return CalendarResult(date=due - timedelta(days=lead.value), provisional=False)
    return CalendarResult(date=add_months(due, -lead.value), provisional=False)


def _schedule_from(year: int, holidays: Iterable[date], workdays: Iterable[date]) -> YearSchedule:
    return YearSchedule(year=year, holidays=sorted(holidays), workdays=sorted(workdays))


def builtin_schedules() -> dict[int, YearSchedule]:
    """Official schedules for every year the pinned ``chinesecalendar`` package covers
    (2004–2026), built from its constant ``holidays``/``workdays`` tables.

    Deterministic for a pinned package version; it reads no files. Callers may cache the result.
    """
    import chinese_calendar

    holiday_table: Mapping[date, object] = chinese_calendar.holidays
    workday_table: Mapping[date, object] = chinese_calendar.workdays
    years = sorted({d.year for d in holiday_table} | {d.year for d in workday_table})
    return {
        year: _schedule_from(
            year,
            (d for d in holiday_table if d.year == year),
            (d for d in workday_table if d.year == year),
        )
        for year in years
    }


def builtin_calendar(extra: Iterable[YearSchedule] = ()) -> WorkingCalendar:
    """A calendar from ``builtin_schedules()`` plus ``extra`` loaded years (which win)."""
    schedules = builtin_schedules()
    for schedule in extra:
        schedules[schedule.year] = schedule
    return WorkingCalendar(schedules)
