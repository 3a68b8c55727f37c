"""bot/calendar.py: zones, day and period starts, working days, hours and minutes, exact to the
instant, across DST changes (Paris, New York, Havana, Santiago) and the date line (Kiritimati
UTC+14, Pago Pago UTC-11, Samoa skipping 2011-12-30)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.calendar import (
    EPOCH,
    EVERY_DAY,
    PERIODS,
    WEEKDAYS,
    WorkingHours,
    add_working_days,
    day_start,
    format_days,
    format_hours,
    iso_week_key,
    next_day_start,
    next_local_time,
    parse_days,
    parse_hours,
    period_start,
    period_starts,
    shift_days,
    sub_working_days,
    week_start,
    zone,
)

PARIS = ZoneInfo("Europe/Paris")  # DST 2026-03-29 02:00->03:00, 2026-10-25 03:00->02:00
NEW_YORK = ZoneInfo("America/New_York")  # DST 2026-03-08 02:00->03:00, 2026-11-01 02:00->01:00
HAVANA = ZoneInfo("America/Havana")  # DST at midnight: 2026-03-08 skips 00:00, 11-01 repeats it
SANTIAGO = ZoneInfo("America/Santiago")  # 2026-09-06 skips 00:00-01:00
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")  # UTC+14
PAGO_PAGO = ZoneInfo("Pacific/Pago_Pago")  # UTC-11
APIA = ZoneInfo("Pacific/Apia")  # went from -10 to +14 at 2011-12-30 10:00 UTC: no Friday 30th
ZONES = [PARIS, NEW_YORK, HAVANA, SANTIAGO, KIRITIMATI, PAGO_PAGO, APIA, ZoneInfo("UTC")]
MIN = timedelta(minutes=1)
US = timedelta(microseconds=1)


def at(text: str) -> datetime:
    """An aware instant from ISO text with its offset, e.g. "2026-03-29T03:00+02:00"."""
    value = datetime.fromisoformat(text)
    assert value.tzinfo is not None
    return value


def local(text: str, tz: ZoneInfo) -> datetime:
    """A wall time in `tz` (fold=0), for inputs; expectations use `at` to pin the offset."""
    return datetime.fromisoformat(text).replace(tzinfo=tz)


def same(result: datetime | None, expected: str) -> None:
    """`result` is exactly the instant *and* local rendering `expected` (ISO with offset)."""
    assert result is not None
    assert result.isoformat() == at(expected).isoformat()


# ----- the functions this module replaces, verbatim, to pin their semantics ---------------------


def legacy_day_start(now: datetime, tz: ZoneInfo) -> datetime:
    return now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)


def legacy_next_day_start(now: datetime, tz: ZoneInfo) -> datetime:
    day = legacy_day_start(now, tz)
    return (day.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=tz)


def legacy_shift(value: datetime, days: int) -> datetime:
    return (value.replace(tzinfo=None) + timedelta(days=days)).replace(tzinfo=value.tzinfo)


def legacy_add_working_days(start: datetime, days: int) -> datetime:
    current, added = start, 0
    while added < days:
        current = legacy_shift(current, 1)
        if current.weekday() < 5:
            added += 1
    return current


def legacy_sub_working_days(end: datetime, days: int) -> datetime:
    current, removed = end, 0
    while removed < days:
        current = legacy_shift(current, -1)
        if current.weekday() < 5:
            removed += 1
    return current


def legacy_at(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(9, 0), tzinfo=tz)


def legacy_next_daily(now: datetime, tz: ZoneInfo) -> datetime:
    day = now.astimezone(tz).date()
    while legacy_at(day, tz) <= now or day.weekday() >= 5:
        day += timedelta(days=1)
    return legacy_at(day, tz)


def legacy_next_weekly(now: datetime, tz: ZoneInfo) -> datetime:
    day = now.astimezone(tz).date()
    day += timedelta(days=(7 - day.weekday()) % 7)
    while legacy_at(day, tz) <= now:
        day += timedelta(days=7)
    return legacy_at(day, tz)


def legacy_week_key(when: datetime, tz: ZoneInfo) -> str:
    year, week, _ = when.astimezone(tz).isocalendar()
    return f"{year}-W{week:02d}"


def legacy_period_starts(when: datetime, tz: ZoneInfo) -> list[tuple[str, date]]:
    day = when.astimezone(tz).date()
    return [
        ("week", day - timedelta(days=day.weekday())),
        ("month", day.replace(day=1)),
        ("quarter", day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)),
        ("all", date(1970, 1, 1)),
    ]


def elapsed(start: datetime, end: datetime) -> timedelta:
    """Real time between two instants: aware datetimes sharing a tzinfo subtract by wall clock."""
    return end.astimezone(UTC) - start.astimezone(UTC)


def just_before(instant: datetime) -> datetime:
    """A microsecond earlier in real time (local wall-clock arithmetic would ignore DST)."""
    return instant.astimezone(UTC) - US


def instants(start: str, stop: str, step: timedelta) -> list[datetime]:
    """UTC instants from `start` to `stop` (ISO, UTC) every `step`."""
    current, end, found = at(start), at(stop), []
    while current < end:
        found.append(current)
        current += step
    return found


# A year at an odd step, so every hour of the day and both DST changes are crossed.
YEAR = instants("2026-01-01T00:00Z", "2027-01-01T00:00Z", timedelta(minutes=97))
# Zones whose midnight and 09:00 always exist once, where the legacy code was already exact.
PLAIN_ZONES = [PARIS, NEW_YORK, KIRITIMATI, PAGO_PAGO, ZoneInfo("UTC"), ZoneInfo("Asia/Kolkata")]


# ----- zone -------------------------------------------------------------------------------------


def test_zone_returns_the_named_zone() -> None:
    assert zone("Europe/Paris", "UTC").key == "Europe/Paris"
    assert zone("Pacific/Kiritimati", "Europe/Paris").key == "Pacific/Kiritimati"


@pytest.mark.parametrize(
    "name",
    [
        None,
        "",
        "Not/AZone",
        "europe/paris",  # keys are case-sensitive
        " Europe/Paris",
        "Europe",  # a directory of zones, not a zone
        "Europe/",
        "../etc/passwd",
        "/etc/localtime",
        ".",
        "zone.tab",  # a file in the zone directory that is not a zone
        "Europe/Paris\x00",
        "x" * 5000,
    ],
)
def test_zone_falls_back_to_the_default_for_a_bad_name(name: str | None) -> None:
    assert zone(name, "America/New_York").key == "America/New_York"


# ----- shift_days -------------------------------------------------------------------------------


def test_shift_days_keeps_the_wall_clock_across_dst() -> None:
    spring = shift_days(local("2026-03-28T12:00", PARIS), 1)
    same(spring, "2026-03-29T12:00+02:00")
    assert elapsed(at("2026-03-28T12:00+01:00"), spring) == timedelta(hours=23)
    autumn = shift_days(local("2026-10-24T12:00", PARIS), 1)
    same(autumn, "2026-10-25T12:00+01:00")
    assert elapsed(at("2026-10-24T12:00+02:00"), autumn) == timedelta(hours=25)
    same(shift_days(local("2026-03-07T09:00", NEW_YORK), 1), "2026-03-08T09:00-04:00")
    same(shift_days(local("2026-03-30T09:00", PARIS), -2), "2026-03-28T09:00+01:00")
    same(shift_days(local("2026-10-20T09:00", PARIS), 14), "2026-11-03T09:00+01:00")


def test_shift_days_into_a_gap_or_a_repeat() -> None:
    # 02:30 does not exist on 2026-03-29 in Paris: the instant just after the gap.
    same(shift_days(local("2026-03-28T02:30", PARIS), 1), "2026-03-29T03:00+02:00")
    # 02:30 happens twice on 2026-10-25: the first time.
    same(shift_days(local("2026-10-24T02:30", PARIS), 1), "2026-10-25T02:30+02:00")
    same(shift_days(local("2026-03-07T02:15", NEW_YORK), 1), "2026-03-08T03:00-04:00")


def test_shift_days_across_a_skipped_date() -> None:
    thursday = at("2011-12-29T12:00-10:00").astimezone(APIA)
    same(shift_days(thursday, 1), "2011-12-31T00:00+14:00")  # Friday 30th never happened
    same(shift_days(thursday, 2), "2011-12-31T12:00+14:00")
    same(shift_days(at("2011-12-31T12:00+14:00").astimezone(APIA), -2), "2011-12-29T12:00-10:00")


def test_shift_days_zero_and_fixed_offsets() -> None:
    second = datetime(2026, 10, 25, 2, 30, tzinfo=PARIS, fold=1)
    assert shift_days(second, 0) is second
    same(shift_days(at("2026-03-28T12:00+00:00"), 1), "2026-03-29T12:00+00:00")
    plus_five = datetime(2026, 3, 28, 12, tzinfo=timezone(timedelta(hours=5)))
    same(shift_days(plus_five, -1), "2026-03-27T12:00+05:00")
    with pytest.raises(ValueError, match="timezone-aware"):
        shift_days(datetime(2026, 3, 28, 12), 1)


def test_shift_days_matches_the_legacy_shift_where_the_time_exists() -> None:
    for now in YEAR[::5]:
        for tz in PLAIN_ZONES:
            value = now.astimezone(tz)
            for days in (-7, -1, 1, 3, 30):
                legacy = legacy_shift(value, days)
                if legacy.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != legacy.replace(
                    tzinfo=None
                ):
                    continue  # lands in a gap: documented to differ (just after the gap)
                assert shift_days(value, days).astimezone(UTC) == legacy.astimezone(UTC)


# ----- day_start / next_day_start ---------------------------------------------------------------


def test_day_start_and_next_across_dst() -> None:
    now = at("2026-03-28T23:30Z")  # 00:30 on Sunday 29 March in Paris
    same(day_start(now, PARIS), "2026-03-29T00:00+01:00")
    same(next_day_start(now, PARIS), "2026-03-30T00:00+02:00")
    assert elapsed(day_start(now, PARIS), next_day_start(now, PARIS)) == timedelta(hours=23)
    now = at("2026-10-25T12:00Z")
    same(day_start(now, PARIS), "2026-10-25T00:00+02:00")
    same(next_day_start(now, PARIS), "2026-10-26T00:00+01:00")
    assert elapsed(day_start(now, PARIS), next_day_start(now, PARIS)) == timedelta(hours=25)
    now = at("2026-11-01T12:00Z")
    same(day_start(now, NEW_YORK), "2026-11-01T00:00-04:00")
    same(next_day_start(now, NEW_YORK), "2026-11-02T00:00-05:00")
    same(day_start(at("2026-03-08T04:59Z"), NEW_YORK), "2026-03-07T00:00-05:00")
    same(day_start(at("2026-03-08T05:00Z"), NEW_YORK), "2026-03-08T00:00-05:00")


def test_day_start_across_the_date_line() -> None:
    # One instant, three local dates: Kiritimati and Pago Pago are 25 hours apart.
    now = at("2026-06-01T10:30Z")
    same(day_start(now, KIRITIMATI), "2026-06-02T00:00+14:00")
    same(day_start(now, ZoneInfo("UTC")), "2026-06-01T00:00+00:00")
    same(day_start(now, PAGO_PAGO), "2026-05-31T00:00-11:00")
    same(next_day_start(now, PAGO_PAGO), "2026-06-01T00:00-11:00")
    same(day_start(at("2026-06-01T09:59:59Z"), KIRITIMATI), "2026-06-01T00:00+14:00")
    same(day_start(at("2026-06-01T10:00Z"), KIRITIMATI), "2026-06-02T00:00+14:00")


def test_day_start_when_midnight_is_skipped_or_repeated() -> None:
    # Havana and Santiago change clocks at midnight.
    same(day_start(at("2026-03-08T12:00Z"), HAVANA), "2026-03-08T01:00-04:00")
    same(next_day_start(at("2026-03-07T12:00Z"), HAVANA), "2026-03-08T01:00-04:00")
    same(day_start(at("2026-09-06T12:00Z"), SANTIAGO), "2026-09-06T01:00-03:00")
    # 00:00-01:00 happens twice on 2026-11-01 in Havana; the day began the first time.
    second_pass = at("2026-11-01T00:30-05:00")
    assert second_pass.astimezone(HAVANA).fold == 1
    same(day_start(second_pass, HAVANA), "2026-11-01T00:00-04:00")
    same(next_day_start(at("2026-10-31T12:00Z"), HAVANA), "2026-11-01T00:00-04:00")


def test_next_day_start_skips_a_date_that_never_happened() -> None:
    thursday = at("2011-12-29T12:00-10:00")
    same(day_start(thursday, APIA), "2011-12-29T00:00-10:00")
    same(next_day_start(thursday, APIA), "2011-12-31T00:00+14:00")
    assert elapsed(day_start(thursday, APIA), next_day_start(thursday, APIA)) == timedelta(hours=24)
    same(day_start(at("2011-12-30T10:00Z"), APIA), "2011-12-31T00:00+14:00")
    same(day_start(at("2011-12-30T09:59:59Z"), APIA), "2011-12-29T00:00-10:00")


def test_day_start_needs_an_aware_instant() -> None:
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        day_start(datetime(2026, 1, 1), PARIS)
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        next_day_start(datetime(2026, 1, 1), PARIS)


def test_day_starts_match_the_legacy_kudos_functions() -> None:
    for now in YEAR:
        for tz in PLAIN_ZONES:
            new, old = day_start(now, tz), legacy_day_start(now, tz)
            assert new.isoformat() == old.isoformat()
            new, old = next_day_start(now, tz), legacy_next_day_start(now, tz)
            assert new.isoformat() == old.isoformat()
            assert day_start(now, tz) <= now < next_day_start(now, tz)


# ----- weeks and periods ------------------------------------------------------------------------


def test_week_start_is_the_monday() -> None:
    assert week_start(date(2026, 11, 22)) == date(2026, 11, 16)  # Sunday
    assert week_start(date(2026, 11, 16)) == date(2026, 11, 16)  # Monday itself
    assert week_start(date(2026, 1, 1)) == date(2025, 12, 29)  # across a year
    for offset in range(400):
        day = date(2026, 1, 1) + timedelta(days=offset)
        start = week_start(day)
        assert start.weekday() == 0 and 0 <= (day - start).days < 7


def test_iso_week_key() -> None:
    assert iso_week_key(at("2026-11-16T12:00Z"), PARIS) == "2026-W47"
    assert iso_week_key(at("2027-01-01T12:00Z"), PARIS) == "2026-W53"  # ISO year
    assert iso_week_key(at("2024-12-30T12:00Z"), PARIS) == "2025-W01"
    assert iso_week_key(at("2026-01-05T00:00Z"), PARIS) == "2026-W02"
    # Sunday night in UTC is already Monday in Kiritimati, still Sunday in Pago Pago.
    sunday_night = at("2026-11-22T12:00Z")
    assert iso_week_key(sunday_night, ZoneInfo("UTC")) == "2026-W47"
    assert iso_week_key(sunday_night, KIRITIMATI) == "2026-W48"
    assert iso_week_key(sunday_night, PAGO_PAGO) == "2026-W47"
    for now in YEAR[::3]:
        for tz in ZONES:
            assert iso_week_key(now, tz) == legacy_week_key(now, tz)


def test_period_starts() -> None:
    assert PERIODS == ("week", "month", "quarter", "all")
    assert date(1970, 1, 1) == EPOCH
    assert period_starts(at("2026-08-15T12:00Z"), PARIS) == [
        ("week", date(2026, 8, 10)),
        ("month", date(2026, 8, 1)),
        ("quarter", date(2026, 7, 1)),
        ("all", EPOCH),
    ]
    assert [name for name, _ in period_starts(at("2026-08-15T12:00Z"), PARIS)] == list(PERIODS)
    # 23:30 UTC on 31 March is already April in Paris: a new month and a new quarter.
    end_of_march = at("2026-03-31T23:30Z")
    assert period_start("month", end_of_march, PARIS) == date(2026, 4, 1)
    assert period_start("quarter", end_of_march, PARIS) == date(2026, 4, 1)
    assert period_start("month", end_of_march, ZoneInfo("UTC")) == date(2026, 3, 1)
    assert period_start("quarter", end_of_march, ZoneInfo("UTC")) == date(2026, 1, 1)
    assert period_start("week", end_of_march, PAGO_PAGO) == date(2026, 3, 30)
    assert period_start("all", end_of_march, KIRITIMATI) == EPOCH
    assert period_start("quarter", at("2026-12-31T12:00Z"), PARIS) == date(2026, 10, 1)


def test_period_start_rejects_an_unknown_period() -> None:
    with pytest.raises(ValueError, match="“year” is not a period; expected one of week, month"):
        period_start("year", at("2026-08-15T12:00Z"), PARIS)


def test_period_starts_match_the_legacy_recognition_function() -> None:
    for now in YEAR[::3]:
        for tz in ZONES:
            assert period_starts(now, tz) == legacy_period_starts(now, tz)
            for period in PERIODS:
                assert period_start(period, now, tz) == dict(legacy_period_starts(now, tz))[period]


# ----- working days -----------------------------------------------------------------------------


def test_add_working_days_skips_the_weekend_and_keeps_the_time_across_dst() -> None:
    friday = local("2026-03-27T10:00", PARIS)
    same(add_working_days(friday, 1), "2026-03-30T10:00+02:00")
    same(add_working_days(friday, 5), "2026-04-03T10:00+02:00")
    same(add_working_days(local("2026-03-28T10:00", PARIS), 1), "2026-03-30T10:00+02:00")
    same(add_working_days(local("2026-03-06T09:00", NEW_YORK), 1), "2026-03-09T09:00-04:00")
    same(add_working_days(local("2026-10-23T16:45", PARIS), 2), "2026-10-27T16:45+01:00")
    same(sub_working_days(local("2026-03-30T10:00", PARIS), 1), "2026-03-27T10:00+01:00")
    same(sub_working_days(local("2026-11-02T08:00", NEW_YORK), 1), "2026-10-30T08:00-04:00")
    same(sub_working_days(local("2026-03-29T10:00", PARIS), 1), "2026-03-27T10:00+01:00")


def test_working_days_of_zero_or_less_return_the_input() -> None:
    second = datetime(2026, 10, 25, 2, 30, tzinfo=PARIS, fold=1)
    for days in (0, -3):
        assert add_working_days(second, days) is second
        assert sub_working_days(second, days) is second


def test_working_days_with_other_weeks() -> None:
    sun_to_thu = frozenset({6, 0, 1, 2, 3})
    jerusalem = ZoneInfo("Asia/Jerusalem")
    thursday = local("2026-06-04T09:00", jerusalem)
    same(add_working_days(thursday, 1, sun_to_thu), "2026-06-07T09:00+03:00")
    sunday = local("2026-06-07T09:00", jerusalem)
    same(sub_working_days(sunday, 1, sun_to_thu), "2026-06-04T09:00+03:00")
    every_day = add_working_days(local("2026-03-28T10:00", PARIS), 2, EVERY_DAY)
    same(every_day, "2026-03-30T10:00+02:00")
    same(
        add_working_days(local("2026-06-01T09:00", PARIS), 2, frozenset({0})),
        "2026-06-15T09:00+02:00",
    )


def test_working_days_skip_a_date_that_never_happened() -> None:
    thursday = local("2011-12-29T10:00", APIA)
    same(add_working_days(thursday, 1), "2012-01-02T10:00+14:00")  # no Friday 30th to count
    same(sub_working_days(local("2012-01-02T10:00", APIA), 1), "2011-12-29T10:00-10:00")
    same(add_working_days(thursday, 1, EVERY_DAY), "2011-12-31T10:00+14:00")


def test_working_days_landing_in_a_gap() -> None:
    sunday_work = frozenset({6})
    same(
        add_working_days(local("2026-03-22T02:30", PARIS), 1, sunday_work), "2026-03-29T03:00+02:00"
    )
    # A gap on a day in between does not drift the time of day.
    same(add_working_days(local("2026-03-28T02:30", PARIS), 2, EVERY_DAY), "2026-03-30T02:30+02:00")


@pytest.mark.parametrize("bad", [frozenset(), frozenset({7}), frozenset({-1, 2})])
def test_working_days_reject_bad_day_sets(bad: frozenset[int]) -> None:
    with pytest.raises(ValueError, match="working_days"):
        add_working_days(local("2026-03-27T10:00", PARIS), 1, bad)
    with pytest.raises(ValueError, match="working_days"):
        sub_working_days(local("2026-03-27T10:00", PARIS), 1, bad)


def test_working_days_need_aware_input() -> None:
    with pytest.raises(ValueError, match="start must be timezone-aware"):
        add_working_days(datetime(2026, 3, 27, 10), 1)
    with pytest.raises(ValueError, match="end must be timezone-aware"):
        sub_working_days(datetime(2026, 3, 27, 10), 1)


def test_working_days_match_the_legacy_feedback_functions() -> None:
    for now in YEAR[::4]:
        for tz in PLAIN_ZONES:
            value = now.astimezone(tz)
            for days in (1, 2, 5, 11):
                old = legacy_add_working_days(value, days)
                if old.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == old.replace(
                    tzinfo=None
                ):  # (where the legacy result exists; in a gap we take the instant after it)
                    assert add_working_days(value, days).isoformat() == old.isoformat()
                old = legacy_sub_working_days(value, days)
                if old.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == old.replace(
                    tzinfo=None
                ):
                    assert sub_working_days(value, days).isoformat() == old.isoformat()


def test_sub_working_days_undoes_add_on_a_working_day() -> None:
    for now in YEAR[::7]:
        for tz in (PARIS, NEW_YORK, KIRITIMATI, PAGO_PAGO):
            value = now.astimezone(tz)
            if value.weekday() >= 5 or value.hour in (1, 2):  # 01:00-03:00: DST can move it
                continue
            for days in (1, 4, 9):
                later = add_working_days(value, days)
                assert later > value and later.weekday() < 5
                assert sub_working_days(later, days) == value


# ----- next_local_time --------------------------------------------------------------------------


def test_next_local_time_daily_on_working_days() -> None:
    nine = time(9, 0)
    same(
        next_local_time(at("2026-03-27T08:59+01:00"), PARIS, nine, WEEKDAYS),
        "2026-03-27T09:00+01:00",
    )
    # Strictly after: exactly 09:00 on Friday gives Monday, after the DST change.
    same(
        next_local_time(at("2026-03-27T09:00+01:00"), PARIS, nine, WEEKDAYS),
        "2026-03-30T09:00+02:00",
    )
    same(next_local_time(at("2026-03-28T12:00Z"), PARIS, nine, WEEKDAYS), "2026-03-30T09:00+02:00")
    same(
        next_local_time(at("2026-11-01T12:00Z"), NEW_YORK, nine, WEEKDAYS), "2026-11-02T09:00-05:00"
    )


def test_next_local_time_weekly_on_mondays() -> None:
    nine, monday = time(9, 0), frozenset({0})
    same(next_local_time(at("2026-03-29T12:00Z"), PARIS, nine, monday), "2026-03-30T09:00+02:00")
    same(next_local_time(at("2026-03-30T07:00Z"), PARIS, nine, monday), "2026-04-06T09:00+02:00")
    same(next_local_time(at("2026-03-30T06:59Z"), PARIS, nine, monday), "2026-03-30T09:00+02:00")


def test_next_local_time_every_day_in_a_gap_and_a_repeat() -> None:
    half_two = time(2, 30)
    first = next_local_time(at("2026-03-28T12:00+01:00"), PARIS, half_two)
    same(first, "2026-03-29T03:00+02:00")  # 02:30 was skipped: just after the gap
    same(next_local_time(first, PARIS, half_two), "2026-03-30T02:30+02:00")
    repeat = next_local_time(at("2026-10-24T12:00+02:00"), PARIS, half_two)
    same(repeat, "2026-10-25T02:30+02:00")  # the first 02:30
    same(next_local_time(repeat, PARIS, half_two), "2026-10-26T02:30+01:00")  # not the second
    same(
        next_local_time(at("2026-03-08T01:00-05:00"), NEW_YORK, time(2, 15)),
        "2026-03-08T03:00-04:00",
    )


def test_next_local_time_across_the_date_line() -> None:
    nine = time(9, 0)
    # Sunday 2026-06-07 20:00 UTC is Monday 10:00 in Kiritimati and Sunday 09:00 in Pago Pago.
    now = at("2026-06-07T20:00Z")
    same(next_local_time(now, KIRITIMATI, nine, WEEKDAYS), "2026-06-09T09:00+14:00")
    same(next_local_time(now, PAGO_PAGO, nine, WEEKDAYS), "2026-06-08T09:00-11:00")
    same(next_local_time(now, PAGO_PAGO, nine), "2026-06-08T09:00-11:00")  # 09:00 Sunday is now
    same(next_local_time(now - US, PAGO_PAGO, nine), "2026-06-07T09:00-11:00")


def test_next_local_time_skips_a_date_that_never_happened() -> None:
    thursday = at("2011-12-29T10:00-10:00")
    same(next_local_time(thursday, APIA, time(9), WEEKDAYS), "2012-01-02T09:00+14:00")
    same(next_local_time(thursday, APIA, time(9)), "2011-12-31T09:00+14:00")


def test_next_local_time_rejects_bad_arguments() -> None:
    now = at("2026-03-27T08:00Z")
    with pytest.raises(ValueError, match="days is empty"):
        next_local_time(now, PARIS, time(9), frozenset())
    with pytest.raises(ValueError, match="not days"):
        next_local_time(now, PARIS, time(9), frozenset({7}))
    with pytest.raises(ValueError, match="at must be a local wall time"):
        next_local_time(now, PARIS, time(9, tzinfo=UTC))
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        next_local_time(datetime(2026, 3, 27, 8), PARIS, time(9))


def test_next_local_time_matches_the_legacy_daily_and_weekly() -> None:
    for now in YEAR:
        for tz in (PARIS, NEW_YORK, KIRITIMATI, PAGO_PAGO, APIA, ZoneInfo("UTC")):
            daily = next_local_time(now, tz, time(9, 0), WEEKDAYS)
            assert daily.isoformat() == legacy_next_daily(now, tz).isoformat()
            weekly = next_local_time(now, tz, time(9, 0), frozenset({0}))
            assert weekly.isoformat() == legacy_next_weekly(now, tz).isoformat()
            assert now < daily <= now + timedelta(days=3, hours=1)
            assert now < weekly <= now + timedelta(days=7, hours=1)


# ----- WorkingHours: validation and single instants --------------------------------------------


OFFICE = WorkingHours(PARIS)  # Mon-Fri 09:00-17:30


def test_working_hours_defaults() -> None:
    assert WorkingHours(PARIS, time(9, 0), time(17, 30), WEEKDAYS) == OFFICE
    assert hash(OFFICE) == hash(WorkingHours(PARIS))


@pytest.mark.parametrize(
    ("start", "end", "days", "message"),
    [
        (time(17, 30), time(9, 0), WEEKDAYS, "17:30-09:00 end before they start"),
        (time(9, 0), time(9, 0), WEEKDAYS, "09:00-09:00 end before they start"),
        (time(22, 0), time(6, 0), WEEKDAYS, "overnight hours are not supported"),
        (time(9, 0), time(17, 0), frozenset(), "working days is empty"),
        (time(9, 0), time(17, 0), frozenset({0, 7}), r"working days has \['7'\], not days"),
        (time(9, 0), time(17, 0), frozenset({-1}), r"working days has \['-1'\], not days"),
        (time(9, 0, tzinfo=UTC), time(17, 0), WEEKDAYS, "start must be a local wall time"),
        (time(9, 0), time(17, 0, tzinfo=UTC), WEEKDAYS, "end must be a local wall time"),
    ],
)
def test_working_hours_validation(
    start: time, end: time, days: frozenset[int], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        WorkingHours(PARIS, start, end, days)


def test_is_working() -> None:
    assert OFFICE.is_working(at("2026-03-30T09:00+02:00"))  # Monday, the first instant
    assert OFFICE.is_working(at("2026-03-30T07:00Z"))  # the same instant, in UTC
    assert not OFFICE.is_working(at("2026-03-30T08:59:59.999999+02:00"))
    assert OFFICE.is_working(at("2026-03-30T17:29:59.999999+02:00"))
    assert not OFFICE.is_working(at("2026-03-30T17:30+02:00"))  # the end is excluded
    assert not OFFICE.is_working(at("2026-03-28T12:00+01:00"))  # Saturday
    assert not OFFICE.is_working(at("2026-03-30T03:00Z"))  # 05:00 in Paris
    with pytest.raises(ValueError, match="timezone-aware"):
        OFFICE.is_working(datetime(2026, 3, 30, 10))


def test_is_working_across_the_date_line() -> None:
    kiritimati, pago_pago = WorkingHours(KIRITIMATI), WorkingHours(PAGO_PAGO)
    sunday_utc = at("2026-06-07T20:00Z")  # Monday 10:00 in Kiritimati, Sunday 09:00 in Pago Pago
    assert kiritimati.is_working(sunday_utc)
    assert not pago_pago.is_working(sunday_utc)
    friday_utc = at("2026-06-05T21:00Z")  # Saturday 11:00 in Kiritimati, Friday 10:00 Pago Pago
    assert not kiritimati.is_working(friday_utc)
    assert pago_pago.is_working(friday_utc)


def test_next_start() -> None:
    working = at("2026-03-30T10:00+02:00")
    assert OFFICE.next_start(working) is working
    same(OFFICE.next_start(at("2026-03-30T06:00+02:00")), "2026-03-30T09:00+02:00")
    same(OFFICE.next_start(at("2026-03-30T17:30+02:00")), "2026-03-31T09:00+02:00")
    # A nudge due on Friday night waits for Monday morning, after the DST change.
    same(OFFICE.next_start(at("2026-03-27T22:00+01:00")), "2026-03-30T09:00+02:00")
    same(OFFICE.next_start(at("2026-03-28T23:00Z")), "2026-03-30T09:00+02:00")
    ny = WorkingHours(NEW_YORK, time(8), time(16))
    same(ny.next_start(at("2026-10-30T21:00-04:00")), "2026-11-02T08:00-05:00")
    same(WorkingHours(KIRITIMATI).next_start(at("2026-06-05T21:00Z")), "2026-06-08T09:00+14:00")
    same(WorkingHours(APIA).next_start(at("2011-12-29T18:00-10:00")), "2012-01-02T09:00+14:00")


def test_window_end() -> None:
    same(OFFICE.window_end(at("2026-03-30T10:00+02:00")), "2026-03-30T17:30+02:00")
    same(OFFICE.window_end(at("2026-03-30T09:00+02:00")), "2026-03-30T17:30+02:00")
    assert OFFICE.window_end(at("2026-03-30T17:30+02:00")) is None
    assert OFFICE.window_end(at("2026-03-29T10:00+02:00")) is None  # Sunday
    same(WorkingHours(KIRITIMATI).window_end(at("2026-06-07T20:00Z")), "2026-06-08T17:30+14:00")


# ----- WorkingHours: DST-day windows ------------------------------------------------------------

NIGHT = WorkingHours(PARIS, time(1, 0), time(4, 0), EVERY_DAY)  # straddles both Paris changes
ALL_DAY = WorkingHours(PARIS, time(0, 0), time(23, 59), EVERY_DAY)


def day_minutes(hours: WorkingHours, day: str) -> float:
    noon = local(f"{day}T12:00", hours.tz)
    return hours.working_minutes(day_start(noon, hours.tz), next_day_start(noon, hours.tz))


def test_dst_days_are_measured_in_real_time() -> None:
    assert day_minutes(NIGHT, "2026-03-28") == 180
    assert day_minutes(NIGHT, "2026-03-29") == 120  # 01:00+01 to 04:00+02
    assert day_minutes(NIGHT, "2026-10-25") == 240  # 01:00+02 to 04:00+01
    assert day_minutes(ALL_DAY, "2026-03-28") == 1439
    assert day_minutes(ALL_DAY, "2026-03-29") == 1379
    assert day_minutes(ALL_DAY, "2026-10-25") == 1499
    ny_night = WorkingHours(NEW_YORK, time(1, 0), time(4, 0), EVERY_DAY)
    assert day_minutes(ny_night, "2026-03-08") == 120
    assert day_minutes(ny_night, "2026-11-01") == 240
    # The usual office day is untouched on a Monday after a change.
    assert day_minutes(OFFICE, "2026-03-30") == 510
    assert day_minutes(WorkingHours(PARIS, days=EVERY_DAY), "2026-03-29") == 510


def test_windows_inside_a_gap_or_a_repeat() -> None:
    gap = WorkingHours(PARIS, time(2, 0), time(2, 30), EVERY_DAY)
    assert day_minutes(gap, "2026-03-29") == 0  # wholly inside the gap
    assert day_minutes(gap, "2026-03-28") == 30
    assert not gap.is_working(at("2026-03-29T01:00Z"))
    same(gap.next_start(at("2026-03-28T12:00Z")), "2026-03-30T02:00+02:00")
    late = WorkingHours(PARIS, time(2, 30), time(4, 0), EVERY_DAY)
    assert day_minutes(late, "2026-03-29") == 60  # opens just after the gap, at 03:00+02
    same(late.next_start(at("2026-03-28T12:00Z")), "2026-03-29T03:00+02:00")
    # Ending at the first 02:30 on 2026-10-25: the second 02:00-02:30 is after the end.
    early = WorkingHours(PARIS, time(1, 0), time(2, 30), EVERY_DAY)
    assert day_minutes(early, "2026-10-25") == 90
    assert early.is_working(at("2026-10-25T02:15+02:00"))
    assert not early.is_working(at("2026-10-25T02:15+01:00"))
    same(early.window_end(at("2026-10-25T02:15+02:00")), "2026-10-25T02:30+02:00")
    # Opening at the first 02:30: the repeated half hour is inside the window, counted once.
    repeat = WorkingHours(PARIS, time(2, 30), time(3, 30), EVERY_DAY)
    assert day_minutes(repeat, "2026-10-25") == 120
    assert repeat.is_working(at("2026-10-25T02:15+01:00"))


def test_havana_midnight_windows() -> None:
    hours = WorkingHours(HAVANA, time(0, 0), time(2, 0), EVERY_DAY)
    assert day_minutes(hours, "2026-03-08") == 60  # 00:00-01:00 skipped
    assert day_minutes(hours, "2026-11-01") == 180  # 00:00-01:00 twice
    assert hours.is_working(at("2026-11-01T00:30-05:00"))  # the second pass


# ----- working_minutes --------------------------------------------------------------------------


def test_working_minutes_simple_spans() -> None:
    assert OFFICE.working_minutes(at("2026-03-30T10:00+02:00"), at("2026-03-30T12:00+02:00")) == 120
    assert OFFICE.working_minutes(at("2026-03-30T08:00Z"), at("2026-03-30T10:00Z")) == 120
    assert OFFICE.working_minutes(at("2026-03-30T06:00+02:00"), at("2026-03-30T20:00+02:00")) == 510
    assert (
        OFFICE.working_minutes(at("2026-03-30T10:00:30+02:00"), at("2026-03-30T10:01+02:00")) == 0.5
    )
    # Friday 16:00 to Monday 10:00: 90 minutes on Friday, 60 on Monday.
    assert OFFICE.working_minutes(at("2026-03-27T16:00+01:00"), at("2026-03-30T10:00+02:00")) == 150
    assert OFFICE.working_minutes(at("2026-03-28T10:00+01:00"), at("2026-03-29T10:00+02:00")) == 0


def test_working_minutes_is_zero_for_empty_or_reversed_spans() -> None:
    a, b = at("2026-03-30T10:00+02:00"), at("2026-03-30T12:00+02:00")
    assert OFFICE.working_minutes(a, a) == 0
    assert OFFICE.working_minutes(b, a) == 0
    with pytest.raises(ValueError, match="end must be timezone-aware"):
        OFFICE.working_minutes(a, datetime(2026, 3, 30, 12))


def test_working_minutes_over_weeks_and_a_year() -> None:
    # The DST week in Paris still has five full office days.
    assert (
        OFFICE.working_minutes(at("2026-03-23T00:00+01:00"), at("2026-03-30T00:00+02:00")) == 2550
    )
    assert (
        OFFICE.working_minutes(at("2026-10-19T00:00+02:00"), at("2026-10-26T00:00+01:00")) == 2550
    )
    year_start, year_end = at("2026-01-01T00:00+01:00"), at("2027-01-01T00:00+01:00")
    weekdays = sum((date(2026, 1, 1) + timedelta(days=i)).weekday() < 5 for i in range(365))
    assert weekdays == 261
    assert OFFICE.working_minutes(year_start, year_end) == 261 * 510
    ten_years = OFFICE.working_minutes(year_start, at("2036-01-01T00:00+01:00"))
    assert ten_years == sum(
        510
        for i in range((date(2036, 1, 1) - date(2026, 1, 1)).days)
        if (date(2026, 1, 1) + timedelta(days=i)).weekday() < 5
    )


def test_working_minutes_across_the_date_line() -> None:
    # Friday noon to Saturday noon UTC: all of Pago Pago's Friday, none of Kiritimati's week.
    start, end = at("2026-06-05T12:00Z"), at("2026-06-06T12:00Z")
    assert WorkingHours(PAGO_PAGO).working_minutes(start, end) == 510
    assert WorkingHours(KIRITIMATI).working_minutes(start, end) == 0
    # Sunday UTC holds the first five hours of Kiritimati's Monday (09:00+14 = 19:00Z Sunday).
    sunday, monday = at("2026-06-07T00:00Z"), at("2026-06-08T00:00Z")
    assert WorkingHours(KIRITIMATI).working_minutes(sunday, monday) == 300
    assert WorkingHours(PAGO_PAGO).working_minutes(sunday, monday) == 0
    # Samoa's week of 2011-12-26 had no Friday: four office days.
    apia = WorkingHours(APIA)
    assert apia.working_minutes(at("2011-12-26T00:00-10:00"), at("2012-01-02T00:00+14:00")) == 2040
    assert apia.working_minutes(at("2011-12-29T17:00-10:00"), at("2012-01-02T09:30+14:00")) == 60


def test_working_minutes_against_a_minute_by_minute_count() -> None:
    # The real-minute count of is_working, on spans with DST changes and date-line jumps.
    cases = [
        (NIGHT, "2026-03-27T12:00Z"),
        (NIGHT, "2026-10-23T12:00Z"),
        (ALL_DAY, "2026-03-28T00:00Z"),
        (WorkingHours(NEW_YORK, time(0, 30), time(3, 15), EVERY_DAY), "2026-10-30T00:00Z"),
        (WorkingHours(NEW_YORK, time(0, 30), time(3, 15), EVERY_DAY), "2026-03-07T00:00Z"),
        (WorkingHours(HAVANA, time(0, 0), time(2, 0), EVERY_DAY), "2026-10-31T00:00Z"),
        (WorkingHours(APIA, time(8), time(20), EVERY_DAY), "2011-12-28T12:00Z"),
        (WorkingHours(KIRITIMATI), "2026-06-05T00:00Z"),
    ]
    for hours, first in cases:
        start = at(first)
        end = start + timedelta(days=3)
        counted = sum(hours.is_working(start + i * MIN) for i in range(3 * 24 * 60))
        assert hours.working_minutes(start, end) == counted, (hours, first)


# ----- add_working_minutes ----------------------------------------------------------------------


def test_add_working_minutes() -> None:
    same(OFFICE.add_working_minutes(at("2026-03-30T10:00+02:00"), 30), "2026-03-30T10:30+02:00")
    same(OFFICE.add_working_minutes(at("2026-03-30T08:30Z"), 30), "2026-03-30T11:00+02:00")
    # An SLA clock stops at night and over the weekend, here across the DST change.
    same(OFFICE.add_working_minutes(at("2026-03-27T17:00+01:00"), 60), "2026-03-30T09:30+02:00")
    same(OFFICE.add_working_minutes(at("2026-03-30T20:00+02:00"), 30), "2026-03-31T09:30+02:00")
    same(OFFICE.add_working_minutes(at("2026-03-28T20:00+01:00"), 510), "2026-03-30T17:30+02:00")
    same(OFFICE.add_working_minutes(at("2026-03-30T10:00+02:00"), 0.5), "2026-03-30T10:00:30+02:00")
    # Exactly using up a window ends at the window's end, not the next morning.
    same(OFFICE.add_working_minutes(at("2026-03-30T17:00+02:00"), 30), "2026-03-30T17:30+02:00")
    same(OFFICE.add_working_minutes(at("2026-03-30T17:00+02:00"), 31), "2026-03-31T09:01+02:00")
    same(
        OFFICE.add_working_minutes(at("2026-03-23T09:00+01:00"), 5 * 510), "2026-03-27T17:30+01:00"
    )


def test_add_working_minutes_zero_is_the_start_itself() -> None:
    night = at("2026-03-30T23:00+02:00")
    assert OFFICE.add_working_minutes(night, 0) is night


@pytest.mark.parametrize("bad", [-1, -0.5, float("nan"), float("inf")])
def test_add_working_minutes_rejects_bad_amounts(bad: float) -> None:
    with pytest.raises(ValueError, match="minutes must be a finite number >= 0"):
        OFFICE.add_working_minutes(at("2026-03-30T10:00+02:00"), bad)


def test_add_working_minutes_across_dst_and_the_date_line() -> None:
    same(ALL_DAY.add_working_minutes(at("2026-03-29T00:00+01:00"), 1379), "2026-03-29T23:59+02:00")
    same(ALL_DAY.add_working_minutes(at("2026-10-25T00:00+02:00"), 1499), "2026-10-25T23:59+01:00")
    same(NIGHT.add_working_minutes(at("2026-03-29T01:00+01:00"), 61), "2026-03-29T03:01+02:00")
    same(NIGHT.add_working_minutes(at("2026-10-25T02:00+02:00"), 90), "2026-10-25T02:30+01:00")
    same(
        WorkingHours(APIA).add_working_minutes(at("2011-12-29T17:00-10:00"), 60),
        "2012-01-02T09:30+14:00",
    )
    same(
        WorkingHours(KIRITIMATI).add_working_minutes(at("2026-06-05T17:00+14:00"), 45),
        "2026-06-08T09:15+14:00",
    )
    # 20:00 UTC on Friday is 09:00 on Friday in Pago Pago.
    same(
        WorkingHours(PAGO_PAGO).add_working_minutes(at("2026-06-05T20:00Z"), 60),
        "2026-06-05T10:00-11:00",
    )
    # 03:00 UTC on Friday is still 16:00 on Thursday there.
    same(
        WorkingHours(PAGO_PAGO).add_working_minutes(at("2026-06-05T03:00Z"), 60),
        "2026-06-04T17:00-11:00",
    )
    same(
        WorkingHours(PAGO_PAGO).add_working_minutes(at("2026-06-05T03:00Z"), 120),
        "2026-06-05T09:30-11:00",
    )


# ----- inverse properties -----------------------------------------------------------------------

PROPERTY_HOURS = [
    OFFICE,
    NIGHT,
    ALL_DAY,
    WorkingHours(PARIS, time(2, 30), time(3, 30), frozenset({5, 6})),
    WorkingHours(NEW_YORK, time(8), time(16)),
    WorkingHours(NEW_YORK, time(1, 15), time(2, 45), EVERY_DAY),
    WorkingHours(HAVANA, time(0, 0), time(9, 0), EVERY_DAY),
    WorkingHours(KIRITIMATI),
    WorkingHours(PAGO_PAGO, time(7), time(19), frozenset({0, 2, 4})),
    WorkingHours(APIA, time(6), time(22)),
    WorkingHours(ZoneInfo("UTC"), time(9), time(17)),
]
# Starts a little before each change (and the Samoa jump), hour by odd hour.
PROPERTY_STARTS = [
    at(base) + timedelta(minutes=37 * k)
    for base in (
        "2026-03-26T00:00Z",
        "2026-10-22T00:00Z",
        "2026-03-06T00:00Z",
        "2026-10-29T00:00Z",
        "2011-12-28T00:00Z",
        "2026-06-04T00:00Z",
    )
    for k in range(0, 6 * 24 * 60 // 37, 9)
]
AMOUNTS = [0, 1, 7.5, 29.25, 61, 510, 1000, 2551, 12345]


def test_working_minutes_inverts_add_working_minutes() -> None:
    checked = 0
    for hours, start, minutes in itertools.product(PROPERTY_HOURS, PROPERTY_STARTS, AMOUNTS):
        end = hours.add_working_minutes(start, minutes)
        assert end >= start
        assert hours.working_minutes(start, end) == minutes, (hours, start, minutes)
        if minutes:
            # The earliest such instant: a microsecond less is not enough, and it is working.
            assert hours.working_minutes(start, just_before(end)) < minutes
            assert hours.is_working(just_before(end))
            assert end.tzinfo is hours.tz
        checked += 1
    assert checked == len(PROPERTY_HOURS) * len(PROPERTY_STARTS) * len(AMOUNTS)


def test_add_working_minutes_inverts_working_minutes() -> None:
    spans = [timedelta(minutes=m) for m in (0, 13, 90, 600, 1441, 4000, 11000, 30000)]
    for hours, start, span in itertools.product(PROPERTY_HOURS, PROPERTY_STARTS[::3], spans):
        end = start + span
        minutes = hours.working_minutes(start, end)
        back = hours.add_working_minutes(start, minutes)
        assert back <= end
        assert hours.working_minutes(back, end) == 0  # nothing working is left over
        if minutes and hours.is_working(just_before(end)):
            assert back.astimezone(UTC) == end  # (== across zones is False in a repeat)


def test_working_minutes_is_additive() -> None:
    for hours, start in itertools.product(PROPERTY_HOURS, PROPERTY_STARTS[::5]):
        middle, end = start + timedelta(hours=31, minutes=7), start + timedelta(days=4, hours=3)
        whole = hours.working_minutes(start, end)
        assert whole == hours.working_minutes(start, middle) + hours.working_minutes(middle, end)


def test_next_start_and_window_end_agree_with_is_working() -> None:
    for hours, start in itertools.product(PROPERTY_HOURS, PROPERTY_STARTS[::2]):
        begins = hours.next_start(start)
        assert hours.is_working(begins)
        assert hours.working_minutes(start, begins) == 0
        closes = hours.window_end(begins)
        assert closes is not None and closes > begins
        assert hours.is_working(just_before(closes)) and not hours.is_working(closes)
        assert hours.working_minutes(begins, closes) == elapsed(begins, closes) / MIN
        if hours.is_working(start):
            assert begins is start
        else:
            assert hours.window_end(start) is None and not hours.is_working(just_before(begins))


# ----- parse_days / format_days -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("MON-THU", {0, 1, 2, 3}),
        ("Mon-Sun", {0, 1, 2, 3, 4, 5, 6}),
        ("mon,wed,fri", {0, 2, 4}),
        ("Mon, Wed, Fri", {0, 2, 4}),
        ("mon wed fri", {0, 2, 4}),
        ("sat-sun", {5, 6}),
        ("fri-mon", {4, 5, 6, 0}),  # wraps past Sunday
        ("sun-tue", {6, 0, 1}),
        ("sun", {6}),
        ("tue-tue", {1}),
        (" Mon - Wed , fri ", {0, 1, 2, 4}),
        ("mon,mon", {0}),
    ],
)
def test_parse_days(text: str, days: set[int]) -> None:
    assert parse_days(text) == frozenset(days)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no days given; expected three-letter English day names"),
        ("  ", "no days given"),
        (",", "no days given"),
        ("monday", "“monday” is not a day; use its first three letters, “mon”"),
        ("Monday-Friday", "“monday” is not a day; use its first three letters, “mon”"),
        ("mon-funday", "“funday” is not a day; expected three-letter English day names"),
        ("mon-", "“mon-” is not a range of days; expected two days joined by a dash"),
        ("-fri", "“-fri” is not a range of days"),
        ("mon-wed-fri", "“mon-wed-fri” is not a range of days"),
        ("mon--fri", "“mon--fri” is not a range of days"),
        ("1-5", "“1” is not a day"),
        ("mön", "“mön” is not a day"),
        ("mon;fri", "“mon;fri” is not a day; expected three-letter"),
        ("tues", "“tues” is not a day; use its first three letters, “tue”"),
        ("x" * 100, "“x{39}…” is not a day"),
    ],
)
def test_parse_days_rejects_with_a_specific_message(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_days(text)


@pytest.mark.parametrize(
    ("days", "text"),
    [
        (WEEKDAYS, "Mon-Fri"),
        (frozenset({0, 2, 4}), "Mon, Wed, Fri"),
        (frozenset({5, 6}), "Sat, Sun"),
        (EVERY_DAY, "Mon-Sun"),
        (frozenset({0, 1, 2, 4, 5, 6}), "Mon-Wed, Fri-Sun"),
        (frozenset({0, 4, 5, 6}), "Mon, Fri-Sun"),
        (frozenset({3}), "Thu"),
        (frozenset({0, 1, 2, 3}), "Mon-Thu"),
    ],
)
def test_format_days(days: frozenset[int], text: str) -> None:
    assert format_days(days) == text


def test_format_days_rejects_no_days() -> None:
    with pytest.raises(ValueError, match="days is empty"):
        format_days(frozenset())


def test_parse_days_reads_back_every_format_days() -> None:
    subsets = [frozenset(c) for n in range(1, 8) for c in itertools.combinations(range(7), n)]
    assert len(subsets) == 127
    for days in subsets:
        assert parse_days(format_days(days)) == days
        assert parse_days(format_days(days).lower()) == days


# ----- parse_hours / format_hours ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("08:00-16:00", time(8), time(16)),
        ("8:00-16:30", time(8), time(16, 30)),
        ("09-17", time(9), time(17)),
        ("9-17:30", time(9), time(17, 30)),
        (" 9:00 - 17:30 ", time(9), time(17, 30)),
        ("00:00-23:59", time(0), time(23, 59)),
    ],
)
def test_parse_hours(text: str, start: time, end: time) -> None:
    assert parse_hours(text) == (start, end)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "“” is not a range of hours; expected start-end in 24-hour time"),
        ("9", "“9” is not a range of hours"),
        ("9-", "“9-” is not a range of hours"),
        ("-17", "“-17” is not a range of hours"),
        ("9:00-17:00-18:00", "“9:00-17:00-18:00” is not a range of hours"),
        ("17-9", "“17-9” ends before it starts; expected the start before the end"),
        ("09:00-09:00", "“09:00-09:00” ends before it starts"),
        ("22:00-06:00", "overnight hours are not supported"),
        ("9-24", "“24” is not a time of day; expected hours 0-23 and minutes 00-59"),
        ("9:60-10", "“9:60” is not a time of day"),
        ("9:5-10", "“9:5” is not a time; expected HH:MM or HH in 24-hour time with digits 0-9"),
        ("9.00-17.00", "“9.00” is not a time"),
        ("9h-17h", "“9h” is not a time"),
        ("9am-5pm", "“9am” is not a time"),
        ("+9-17", "“\\+9” is not a time"),
        ("123-130", "“123” is not a time"),
        ("09:00:00-17:00", "“09:00:00” is not a time"),
        # Unicode digits: str.isdigit() says yes and int() would crash or, worse, accept them.
        ("²-5", "“²” is not a time"),
        ("①-5", "“①” is not a time"),
        ("9-1⁷", "“1⁷” is not a time"),
        ("١٢-١٣", "“١٢” is not a time"),  # Arabic-Indic: int() would read these as 12 and 13
        ("\uff10\uff19-\uff11\uff17", "“\uff10\uff19” is not a time"),  # fullwidth 09-17
    ],
)
def test_parse_hours_rejects_with_a_specific_message(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_hours(text)


def test_format_hours_and_back() -> None:
    assert format_hours(time(9), time(17, 30)) == "09:00-17:30"
    assert format_hours(time(0), time(23, 59)) == "00:00-23:59"
    for start_minute in range(0, 24 * 60 - 1, 53):
        for end_minute in range(start_minute + 1, 24 * 60, 127):
            start = time(*divmod(start_minute, 60))
            end = time(*divmod(end_minute, 60))
            assert parse_hours(format_hours(start, end)) == (start, end)
            WorkingHours(PARIS, *parse_hours(format_hours(start, end)))  # accepted as hours
