"""The guardrails' pure decision (bot/nudges/guardrails.py), case by case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.calendar import WorkingHours
from bot.nudges import guardrails as g

NY = WorkingHours(ZoneInfo("America/New_York"))
CONSENT = g.Consent(opted_in=True, kinds=frozenset(g.KINDS), cap=3, paused_until=None)
WED_NOON_NY = datetime(2026, 11, 18, 17, 0, tzinfo=UTC)


def decide(**kw: object) -> g.Decision:
    args: dict[str, object] = dict(
        kind="content",
        consent=CONSENT,
        relevant=True,
        hours=NY,
        now=WED_NOON_NY,
        sent_this_week=0,
        last_sent_at=None,
        recent_responses=[],
    )
    args.update(kw)
    return g.decide(**args)  # type: ignore[arg-type]


def test_consent_and_relevance_drop_the_nudge() -> None:
    assert decide(consent=None) == g.Decision(False, None, g.OPTED_OUT)
    off = g.Consent(True, frozenset({"questions"}), 3, None)
    assert decide(consent=off) == g.Decision(False, None, g.KIND_OFF)
    assert decide(relevant=False).dropped
    assert decide().send


def test_quiet_hours_wait_for_the_morning_across_dst() -> None:
    friday_evening = datetime(2026, 10, 30, 22, 0, tzinfo=UTC)  # 18:00 EDT
    d = decide(now=friday_evening)
    assert d == g.Decision(False, datetime(2026, 11, 2, 14, 0, tzinfo=UTC), g.QUIET)  # 09:00 EST


def test_cap_defers_to_the_persons_next_week() -> None:
    d = decide(sent_this_week=3)
    assert d.reason == g.CAPPED
    assert d.until == datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # Monday 09:00 in New York
    mine = g.effective_cap(2, None)
    assert mine == 2 and g.effective_cap(9, 3) == 3 and g.effective_cap(None, 5) == 5


def test_pause_spacing_and_fatigue() -> None:
    until = WED_NOON_NY + timedelta(days=2)
    paused = g.Consent(True, frozenset(g.KINDS), 3, until)
    assert decide(consent=paused) == g.Decision(False, until, g.PAUSED)
    sent = WED_NOON_NY - timedelta(hours=20)
    assert decide(last_sent_at=sent, recent_responses=[None]).reason == g.SPACED
    answered = [WED_NOON_NY, None]
    assert g.ignored_streak(answered) == 0 and g.ignored_streak([None, None, WED_NOON_NY]) == 2
    assert g.gap(0) == g.gap(1) == timedelta(days=1)
    assert g.gap(2) == timedelta(days=2) and g.gap(3) == timedelta(days=4)
    assert g.gap(10) == timedelta(days=8)
    d = decide(last_sent_at=WED_NOON_NY - timedelta(days=1, hours=1), recent_responses=[None, None])
    assert d.reason == g.FATIGUE and d.until == WED_NOON_NY + timedelta(hours=23)
