"""Calendar arithmetic in a workspace's or person's time zone: zones, day, week and period starts,
working days, working hours and working minutes between two instants.

Pure and stdlib-only: the kernel's leaf, imported by features and importing nothing of theirs.
Every instant in and out is timezone-aware. "Days" are counted on the local wall clock and
"minutes" in real elapsed time (UTC), because the two differ across DST changes and date-line
jumps.

One rule settles local wall times that are missing or repeated: a wall time stands for the
earliest instant at which the local clock reads it or later. So a repeated time (clocks going
back) is its first occurrence, a time inside a DST gap is the instant just after the gap, and a
local date that never happened (Samoa skipped 2011-12-30) has no working time and no occurrences.

Results are in the local zone. Python compares and subtracts aware datetimes that share a tzinfo
by wall clock, and `==` across zones is False for a repeated wall time, so callers measuring
elapsed time or equality should go through `.astimezone(UTC)`; this module does internally.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PERIODS = ("week", "month", "quarter", "all")
EPOCH = date(1970, 1, 1)  # the start of the "all" period
WEEKDAYS: frozenset[int] = frozenset(range(5))  # Monday=0 .. Friday=4, as date.weekday()
EVERY_DAY: frozenset[int] = frozenset(range(7))
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_ONE_DAY = timedelta(days=1)
_ONE_SECOND = timedelta(seconds=1)
_UNIX = datetime(1970, 1, 1)  # naive, for whole-second arithmetic on UTC wall times
_DAY_INDEX = {name: i for i, name in enumerate(DAY_NAMES)}
_FULL_NAMES = {
    name[:3]: name
    for name in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
}
_DAYS_HINT = (
    "three-letter English day names (mon, tue, wed, thu, fri, sat, sun) as a range or a list, "
    "e.g. mon-fri or mon,wed,fri"
)
_HOURS_HINT = "start-end in 24-hour time, e.g. 09:00-17:30 or 9-17"
_CLOCK = re.compile(r"([0-9]{1,2})(?::([0-9]{2}))?")  # [0-9], not \d: ASCII digits only


# ----- zones and wall-clock resolution ----------------------------------------------------------


def zone(name: str | None, default: str) -> ZoneInfo:
    """The IANA zone `name`, or `default` when it is missing or not a zone.

    Names come from settings and platform profiles; a stale or mistyped one must degrade to the
    default rather than break scheduling. `default` is trusted (settings validate it).
    """
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass  # not found, not a normalized key ("../x", "/etc/x"), or not a TZif file
    return ZoneInfo(default)


def _utc(instant: datetime, what: str = "instant") -> datetime:
    # A naive datetime would silently be read as the server's local time: refuse it.
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {instant!r}")
    return instant.astimezone(UTC)


def _wall_at(seconds: int, tz: tzinfo) -> datetime:
    return (_UNIX + timedelta(seconds=seconds)).replace(tzinfo=UTC).astimezone(tz)


def _resolve(wall: datetime, tz: tzinfo) -> datetime:
    """The earliest instant at which the clock in `tz` reads naive `wall` or later, in `tz`."""
    first, second = wall.replace(tzinfo=tz, fold=0), wall.replace(tzinfo=tz, fold=1)
    before, after = first.utcoffset(), second.utcoffset()
    if before is None or after is None:
        raise ValueError(f"{tz!r} gives no UTC offset for {wall}")
    if before >= after:
        return first  # exists, once or (clocks going back) twice: fold=0 is the first time
    # In a gap, fold=0 reads `wall` with the offset from before the jump, which lands after the
    # jump by as much as `wall` is into the gap. The jump itself is what we want: bisect for it
    # (transitions fall on whole seconds; a gap can be a whole day, as in Samoa 2011).
    lo = (wall - after - _UNIX) // _ONE_SECOND
    hi = -((_UNIX - (wall - before)) // _ONE_SECOND)
    while lo < hi:
        mid = (lo + hi) // 2
        if _wall_at(mid, tz).replace(tzinfo=None) >= wall:
            hi = mid
        else:
            lo = mid + 1
    found = _wall_at(hi, tz)
    return found if found.replace(tzinfo=None) >= wall else first


def _exists(day: date, tz: tzinfo) -> bool:
    return _resolve(datetime.combine(day, time()), tz).date() == day


def _check_days(days: frozenset[int], what: str) -> frozenset[int]:
    found = frozenset(days)
    if not found:
        raise ValueError(f"{what} is empty; expected at least one day, 0 (Monday) to 6 (Sunday)")
    bad = [d for d in found if isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6]
    if bad:
        raise ValueError(
            f"{what} has {sorted(map(repr, bad))}, not days; expected 0 (Monday) to 6 (Sunday)"
        )
    return found


def _check_time(value: time, what: str) -> None:
    if value.tzinfo is not None:
        raise ValueError(f"{what} must be a local wall time without tzinfo, got {value!r}")


# ----- days, weeks and periods ------------------------------------------------------------------


def shift_days(local: datetime, days: int) -> datetime:
    """`local` moved by `days` calendar days on its own wall clock (not 24-hour steps), so the
    time of day survives DST changes; a time that does not exist on the target day becomes the
    instant just after the gap, a repeated one its first occurrence."""
    _utc(local, "local")
    if days == 0:
        return local
    assert local.tzinfo is not None  # checked by _utc; tells mypy
    return _resolve(local.replace(tzinfo=None) + timedelta(days=days), local.tzinfo)


def day_start(now: datetime, tz: ZoneInfo) -> datetime:
    """The local midnight that began `now`'s day in `tz` (the first one if midnight repeats, the
    end of the gap if it was skipped), as a datetime in `tz`."""
    return _resolve(datetime.combine(_utc(now, "now").astimezone(tz).date(), time()), tz)


def next_day_start(now: datetime, tz: ZoneInfo) -> datetime:
    """The start of the local day after `now`'s: a calendar day later, not 24 hours, so daily
    allowances reset at midnight across DST (and a day the zone skipped is skipped)."""
    day = _utc(now, "now").astimezone(tz).date()
    return _resolve(datetime.combine(day + _ONE_DAY, time()), tz)


def week_start(day: date) -> date:
    """The Monday of `day`'s ISO week."""
    return day - timedelta(days=day.weekday())


def iso_week_key(when: datetime, tz: ZoneInfo) -> str:
    """`when`'s ISO week in `tz`, like "2026-W47" (ISO year, so 2027-01-01 is "2026-W53")."""
    year, week, _ = _utc(when, "when").astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


def period_starts(when: datetime, tz: ZoneInfo) -> list[tuple[str, date]]:
    """The week (from Monday), month, quarter and all-time buckets `when` falls in, in `tz`."""
    day = _utc(when, "when").astimezone(tz).date()
    return [
        ("week", week_start(day)),
        ("month", day.replace(day=1)),
        ("quarter", day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)),
        ("all", EPOCH),
    ]


def period_start(period: str, now: datetime, tz: ZoneInfo) -> date:
    """The first day of `period` (one of PERIODS) containing `now` in `tz`."""
    for name, start in period_starts(now, tz):
        if name == period:
            return start
    raise ValueError(f"“{period}” is not a period; expected one of {', '.join(PERIODS)}")


# ----- working days -----------------------------------------------------------------------------


def add_working_days(
    start: datetime, days: int, working_days: frozenset[int] = WEEKDAYS
) -> datetime:
    """`start` plus `days` working days at the same local time of day; `start` itself when
    `days` <= 0. Counted on `start`'s own wall clock: pass it in the workspace's zone."""
    return _step_working_days(start, days, working_days, 1)


def sub_working_days(end: datetime, days: int, working_days: frozenset[int] = WEEKDAYS) -> datetime:
    """`end` minus `days` working days at the same local time of day; `end` itself when
    `days` <= 0. Counted on `end`'s own wall clock: pass it in the workspace's zone."""
    return _step_working_days(end, days, working_days, -1)


def _step_working_days(
    local: datetime, days: int, working_days: frozenset[int], step: int
) -> datetime:
    _utc(local, "start" if step > 0 else "end")
    working_days = _check_days(working_days, "working_days")
    if days <= 0:
        return local
    tz = local.tzinfo
    assert tz is not None  # checked by _utc; tells mypy
    wall = local.replace(tzinfo=None)
    day, counted = wall.date(), 0
    while counted < days:
        day += step * _ONE_DAY
        if day.weekday() in working_days and _exists(day, tz):
            counted += 1
    # Resolved once at the end, so a gap on a day in between cannot drift the time of day.
    return _resolve(datetime.combine(day, wall.time()), tz)


def next_local_time(
    now: datetime, tz: ZoneInfo, at: time, days: frozenset[int] = EVERY_DAY
) -> datetime:
    """The first instant strictly after `now` when the clock in `tz` reads `at` on one of
    `days` (0=Monday), as a datetime in `tz`.

    At most once per local day: when `at` repeats (clocks going back) only its first occurrence
    counts, so a daily job cannot fire twice. When `at` falls in a DST gap, the instant just
    after the gap stands in for it; a date the zone skipped entirely has no occurrence.
    """
    after = _utc(now, "now")
    _check_time(at, "at")
    days = _check_days(days, "days")
    day = after.astimezone(tz).date()
    for _ in range(4 * 7):  # a matching weekday within 7 days, past `now` within 14, +1 skip
        if day.weekday() in days:
            candidate = _resolve(datetime.combine(day, at), tz)
            if candidate.date() == day and candidate.astimezone(UTC) > after:
                return candidate
        day += _ONE_DAY
    raise AssertionError(f"no {at} on {sorted(days)} within four weeks of {now}")  # unreachable


# ----- working hours ----------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkingHours:
    """Working time: `start` to `end` local time on `days` (0=Monday), in `tz`.

    Each working day's window runs, in real time, from the instant its clock first reads `start`
    to the instant it first reads `end`. So a window on a day whose clocks change lasts as long
    as it really does (an hour less or more), and a window wholly inside a gap is empty.
    Windows never cross midnight: overnight hours are not supported.
    """

    tz: ZoneInfo
    start: time = time(9, 0)
    end: time = time(17, 30)
    days: frozenset[int] = WEEKDAYS

    def __post_init__(self) -> None:
        _check_time(self.start, "start")
        _check_time(self.end, "end")
        if not self.start < self.end:
            raise ValueError(
                f"working hours {format_hours(self.start, self.end)} end before they start; "
                "expected the start before the end on the same day (overnight hours are not "
                "supported)"
            )
        object.__setattr__(self, "days", _check_days(self.days, "working days"))

    def is_working(self, instant: datetime) -> bool:
        """Whether `instant` is working time (local time in [start, end) on a working day)."""
        return self._containing(_utc(instant)) is not None

    def next_start(self, instant: datetime) -> datetime:
        """`instant` itself if it is working time, else the next moment working time begins, in
        `tz` (how quiet hours defer a nudge due at night to the next working morning)."""
        at = _utc(instant)
        for opens, closes in self._windows(at):
            if at < closes:
                return instant if opens <= at else opens.astimezone(self.tz)
        raise AssertionError("unreachable: _windows never ends")

    def window_end(self, instant: datetime) -> datetime | None:
        """The end of the working window containing `instant`, in `tz`; None outside one."""
        window = self._containing(_utc(instant))
        return None if window is None else window[1].astimezone(self.tz)

    def working_minutes(self, start: datetime, end: datetime) -> float:
        """Minutes of working time in [start, end) in real elapsed time; 0 if end <= start."""
        lo, hi = _utc(start, "start"), _utc(end, "end")
        total = timedelta()
        if hi <= lo:
            return 0.0
        for opens, closes in self._windows(lo):
            if opens >= hi:
                break
            overlap = min(closes, hi) - max(opens, lo)
            if overlap > timedelta():
                total += overlap
        return total / timedelta(minutes=1)

    def add_working_minutes(self, start: datetime, minutes: float) -> datetime:
        """The earliest instant by which `minutes` of working time have elapsed since `start`, in
        `tz` (`start` itself for 0): escalate after 30 working minutes, say. The inverse of
        working_minutes: working_minutes(s, add_working_minutes(s, m)) == m."""
        if not math.isfinite(minutes) or minutes < 0:
            raise ValueError(f"minutes must be a finite number >= 0, got {minutes!r}")
        at = _utc(start, "start")
        left = timedelta(minutes=minutes)
        if not left:
            return start
        for opens, closes in self._windows(at):
            if closes <= at:
                continue
            begin = max(opens, at)
            if closes - begin >= left:
                return (begin + left).astimezone(self.tz)
            left -= closes - begin
        raise AssertionError("unreachable: _windows never ends")

    def _window(self, day: date) -> tuple[datetime, datetime] | None:
        # UTC bounds: aware datetimes sharing a tzinfo compare and subtract by wall clock.
        if day.weekday() not in self.days:
            return None
        opens = _resolve(datetime.combine(day, self.start), self.tz).astimezone(UTC)
        closes = _resolve(datetime.combine(day, self.end), self.tz).astimezone(UTC)
        return (opens, closes) if opens < closes else None

    def _windows(self, at: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working windows in order, from the one of the local day before UTC `at` on (earlier
        days' windows all end by `at`; the extra day is cheap insurance)."""
        day = at.astimezone(self.tz).date() - _ONE_DAY
        while True:
            window = self._window(day)
            if window is not None:
                yield window
            day += _ONE_DAY

    def _containing(self, at: datetime) -> tuple[datetime, datetime] | None:
        # A clock going back across midnight can put `at` in the next local day's window.
        day = at.astimezone(self.tz).date()
        for candidate in (day - _ONE_DAY, day, day + _ONE_DAY):
            window = self._window(candidate)
            if window is not None and window[0] <= at < window[1]:
                return window
        return None


# ----- parsing and formatting -------------------------------------------------------------------


def _quote(text: str) -> str:
    # Echo the user's input in errors, but not a pasted novel.
    return f"“{text if len(text) <= 40 else text[:39] + '…'}”"


def parse_days(text: str) -> frozenset[int]:
    """Days from "mon-fri", "mon,wed,fri", "Mon Wed Fri", "mon-wed,fri" or "fri-mon" (a range
    wraps past Sunday); case-insensitive. Raises ValueError naming the bad part."""
    normalized = re.sub(r"\s*-\s*", "-", text.strip().lower())
    parts = [p for p in re.split(r"[\s,]+", normalized) if p]
    if not parts:
        raise ValueError(f"no days given; expected {_DAYS_HINT}")
    found: set[int] = set()
    for part in parts:
        ends = part.split("-")
        if len(ends) > 2 or not all(ends):
            raise ValueError(
                f"{_quote(part)} is not a range of days; expected two days joined by a dash, "
                "e.g. mon-fri"
            )
        first, last = (_day(name) for name in (ends[0], ends[-1]))
        # "fri-mon" wraps: Friday, Saturday, Sunday, Monday.
        found.update((first + i) % 7 for i in range((last - first) % 7 + 1))
    return frozenset(found)


def _day(name: str) -> int:
    if name in _DAY_INDEX:
        return _DAY_INDEX[name]
    if name.isalpha() and _FULL_NAMES.get(name[:3], "").startswith(name):  # "monday", "tues"
        raise ValueError(
            f"{_quote(name)} is not a day; use its first three letters, {_quote(name[:3])} "
            f"(days are {_DAYS_HINT})"
        )
    raise ValueError(f"{_quote(name)} is not a day; expected {_DAYS_HINT}")


def parse_hours(text: str) -> tuple[time, time]:
    """(start, end) from "08:00-16:00", "8:00-16:30" or "09-17" (24-hour, ASCII digits, start
    before end on the same day). Raises ValueError naming the bad part."""
    sides = [side.strip() for side in text.split("-")]
    if len(sides) != 2 or not all(sides):
        raise ValueError(f"{_quote(text.strip())} is not a range of hours; expected {_HOURS_HINT}")
    start, end = _clock(sides[0]), _clock(sides[1])
    if not start < end:
        raise ValueError(
            f"{_quote(text.strip())} ends before it starts; expected the start before the end on "
            f"the same day (overnight hours are not supported), e.g. 09:00-17:30"
        )
    return start, end


def _clock(text: str) -> time:
    match = _CLOCK.fullmatch(text)
    if match is None:
        raise ValueError(
            f"{_quote(text)} is not a time; expected HH:MM or HH in 24-hour time with digits 0-9, "
            "e.g. 09:00 or 9"
        )
    hour, minute = int(match[1]), int(match[2] or 0)
    if hour > 23 or minute > 59:
        raise ValueError(
            f"{_quote(text)} is not a time of day; expected hours 0-23 and minutes 00-59 "
            "(for the end of the day, use 23:59)"
        )
    return time(hour, minute)


def format_days(days: frozenset[int]) -> str:
    """Days as text, e.g. "Mon-Fri", "Mon, Wed, Fri" or "Mon, Fri-Sun": runs of three or more
    days as a range, in week order from Monday; parse_days reads it back."""
    runs: list[list[int]] = []
    for day in sorted(_check_days(days, "days")):
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    names = [name.capitalize() for name in DAY_NAMES]
    shown: list[str] = []
    for run in runs:
        if len(run) >= 3:
            shown.append(f"{names[run[0]]}-{names[run[-1]]}")
        else:
            shown.extend(names[day] for day in run)
    return ", ".join(shown)


def format_hours(start: time, end: time) -> str:
    """Hours as text, e.g. "09:00-17:30"; parse_hours reads it back."""
    return f"{start:%H:%M}-{end:%H:%M}"
