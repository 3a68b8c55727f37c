"""Recognition bookkeeping: counters, kudos totals per period, and rule-based badge awards.

Everything here runs inside the transaction of the event that caused it (a kudos, later an
answered question or a finished training), so counters, totals and awards can never disagree
with the events, and a replayed event (deduplicated before it gets here) changes nothing.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from datetime import timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from bot import calendar
from bot.directory import Person
from bot.ids import ConversationRef
from bot.kudos.events import KudosChanged
from bot.messages import Message, Name, Outbound, Rich, Strong, ToConversation, ToUser, rich
from bot.recognition.events import RecognitionChanged
from bot.services import Services
from bot.work import Work
from store import badges as badge_store
from store import recognition as rec_store
from store.models import Badge, BadgeAward, BadgeRule

# The counters rules can use, with how people read them.
COUNTERS: dict[str, str] = {
    "kudos_received": "kudos received",
    "kudos_given": "kudos given",
    "people_thanked": "different people thanked",
    "give_streak_weeks": "consecutive weeks giving kudos",
    "questions_answered": "questions answered",
    "trainings_completed": "trainings completed",
}
# Facts the process remembers once committed, because they never stop being true (thanked
# pairs and rule awards are never deleted); past this many, it forgets them all and learns
# them again.
KNOWN_MAX = 200_000


# A new workspace starts with these; curators can edit or retire them.
DEFAULT_BADGES: tuple[tuple[str, str, str, str, str | None, int], ...] = (
    ("first-kudos", "First thanks", "👏", "Gave their first kudos.", "kudos_given", 1),
    ("appreciated", "Appreciated", "🌟", "Received 10 kudos.", "kudos_received", 10),
    (
        "generous-streak",
        "Generous streak",
        "🔥",
        "Gave kudos 5 weeks in a row.",
        "give_streak_weeks",
        5,
    ),
    (
        "trained-ambassador",
        "Trained ambassador",
        "🎓",
        "Finished the ambassador training.",
        "trainings_completed",
        1,
    ),
    ("go-to-helper", "Go-to helper", "🙋", "Answered 10 questions.", "questions_answered", 10),
)


def rule_text(counter: str, threshold: int, repeatable: bool) -> str:
    what = COUNTERS.get(counter, counter)
    if repeatable:
        return f"every {threshold} {what}"
    return f"{threshold} {what}"


class Recognition:
    def __init__(self, services: Services) -> None:
        self.s = services
        self._seeded: set[int] = set()
        # (giver, recipient) pairs thanked and (badge, member, award key) awarded, committed.
        self._known: set[Hashable] = set()

    async def ensure_defaults(self, session: AsyncSession, ws_id: int) -> None:
        """Seeds the default badges once per workspace; existing ones (edited, retired) stay."""
        if ws_id in self._seeded:
            return
        if await badge_store.has_badges(session, ws_id):
            # Only cached once seen in the database: a seeding transaction may still roll back.
            self._seeded.add(ws_id)
            return
        now = self.s.clock.now()
        for slug, name, emoji, description, counter, threshold in DEFAULT_BADGES:
            added = await badge_store.add_badge(
                session,
                workspace_id=ws_id,
                slug=slug,
                name=name,
                emoji=emoji,
                description=description,
                how_earned=rule_text(counter, threshold, False) if counter else "awarded by hand",
                repeatable=False,
                citation_required=True,
                image_url=None,
                now=now,
            )
            if added and counter:
                badge = await badge_store.get_badge(session, ws_id, slug)
                assert badge is not None
                await badge_store.set_rule(session, badge.id, counter, threshold, now)

    # ----- kudos ----------------------------------------------------------------------

    async def on_kudos(self, work: Work, change: KudosChanged) -> None:
        """A follow-up of every kudos counted or taken back, in its transaction."""
        session, ws_id = work.session, change.workspace_id
        await self.ensure_defaults(session, ws_id)
        periods = calendar.period_starts(change.given_at, await work.timezone())
        giver, recipient = change.giver, change.recipient
        # Both people's totals in one statement, then both people's counters in one.
        await rec_store.add_to_totals(
            session,
            workspace_id=ws_id,
            periods=periods,
            values=change.values,
            received_by=recipient.member_id,
            given_by=giver.member_id,
            delta=change.delta,
        )
        bumps = [(recipient.member_id, "kudos_received"), (giver.member_id, "kudos_given")]
        streak = None
        if change.delta > 0:
            if await self._first_thanks(work, giver.member_id, recipient.member_id):
                bumps.append((giver.member_id, "people_thanked"))
            day = change.given_at.astimezone(giver.tz).date()
            # Consecutive weeks (in the giver's time zone) with at least one kudos given.
            streak = (giver.member_id, (day - timedelta(days=day.weekday())).toordinal())
        # A counter bumped but not returned has no row: it is 0.
        values = {
            **dict.fromkeys(bumps, 0),
            **await rec_store.bump_counters(session, bumps, change.delta, streak=streak),
        }
        giver_counters = {counter for member, counter in bumps if member == giver.member_id}
        if (giver.member_id, rec_store.STREAK) in values:  # the streak moved
            giver_counters.add(rec_store.STREAK)
        changed = {recipient: {"kudos_received"}, giver: giver_counters}
        await self.evaluate(work, changed, values)
        work.emit(RecognitionChanged(people=(giver, recipient), because=change.event_id))

    async def _first_thanks(self, work: Work, giver_id: int, recipient_id: int) -> bool:
        """Records that giver thanked recipient; True the first time."""
        pair = ("thanked", giver_id, recipient_id)
        if pair in self._known:
            return False
        first = await rec_store.first_thanks(work.session, giver_id, recipient_id)
        work.on_commit(partial(self._remember, pair))
        return first

    def _remember(self, fact: Hashable) -> None:
        if len(self._known) >= KNOWN_MAX:
            self._known.clear()
        self._known.add(fact)

    async def bump(self, work: Work, person: Person, counter: str, delta: int) -> None:
        """For other capabilities (answered questions, finished trainings), in their unit of
        work."""
        if counter not in COUNTERS:
            raise ValueError(f"unknown counter {counter!r}")
        await self.ensure_defaults(work.session, work.ws_id)
        value = await rec_store.bump_counter(work.session, person.member_id, counter, delta)
        await self.evaluate(work, {person: {counter}}, {(person.member_id, counter): value})

    # ----- rules ----------------------------------------------------------------------

    async def evaluate(
        self,
        work: Work,
        changed: Mapping[Person, set[str]],
        values: Mapping[tuple[int, str], int] | None = None,
    ) -> list[tuple[Person, Badge, BadgeAward]]:
        """Awards what the changed counters now earn. Idempotent: an award key per level.

        `values`: the counters' new values where the caller knows them ((member id, counter));
        the others are read. The workspace's rules are shared between units of work until a
        badge or rule changes (store/badges.py marks it)."""
        session, ws_id = work.session, work.ws_id
        rules = await work.cached(("badge_rules", ws_id), partial(self._rules, work))
        awarded = []
        for person, theirs in changed.items():
            for badge, rule in rules:
                if rule.counter not in theirs:
                    continue
                key = (person.member_id, rule.counter)
                if values is not None and key in values:
                    value = values[key]
                else:
                    value = await rec_store.get_counter(session, person.member_id, rule.counter)
                for award in await self._award_by_rule(
                    work, badge, rule.threshold, rule.counter, person, value
                ):
                    awarded.append((person, badge, award))
                    await self.announce(work, person, badge, award)
        return awarded

    async def _rules(self, work: Work) -> tuple[tuple[Badge, BadgeRule], ...]:
        return await badge_store.active_rules(work.session, work.ws_id)

    async def _award_by_rule(
        self,
        work: Work,
        badge: Badge,
        threshold: int,
        counter: str,
        person: Person,
        value: int,
    ) -> list[BadgeAward]:
        if value < threshold:
            return []
        session, ws_id = work.session, work.ws_id
        now = self.s.clock.now()
        what = COUNTERS.get(counter, counter)
        if not badge.repeatable:
            held = ("award", badge.id, person.member_id, "rule")
            if held in self._known:  # awarded before (and maybe revoked since): nothing to do
                return []
            award = await badge_store.award(
                session,
                workspace_id=ws_id,
                badge_id=badge.id,
                member_id=person.member_id,
                award_key="rule",
                citation=badge.description or f"Reached {threshold} {what}.",
                awarded_by=None,
                now=now,
            )
            work.on_commit(partial(self._remember, held))
            return [award] if award else []
        earned = value // threshold
        if ("award", badge.id, person.member_id, f"rule:{earned}") in self._known:
            return []  # every level up to this one is awarded
        done = await badge_store.rule_awards_count(session, badge.id, person.member_id)
        out = []
        for level in range(done + 1, earned + 1):
            award = await badge_store.award(
                session,
                workspace_id=ws_id,
                badge_id=badge.id,
                member_id=person.member_id,
                award_key=f"rule:{level}",
                citation=f"Reached {level * threshold} {what}.",
                awarded_by=None,
                now=now,
            )
            if award:
                out.append(award)
        # Once committed, every level up to `earned` is held (awarded now or before).
        work.on_commit(
            partial(self._remember, ("award", badge.id, person.member_id, f"rule:{earned}"))
        )
        return out

    async def apply_rule_retroactively(
        self, work: Work, badge: Badge
    ) -> tuple[list[str], list[str]]:
        """After a rule is created or changed: (everyone who qualifies, who was awarded now)."""
        session, workspace, ws_id = work.session, work.workspace, work.ws_id
        rule = await badge_store.get_rule(session, badge.id)
        if rule is None or badge.retired_at is not None:
            return [], []
        qualified, awarded = [], []
        for member, value in await rec_store.members_at_least(
            session, ws_id, rule.counter, rule.threshold
        ):
            person = self.s.directory.from_member(workspace, member)
            qualified.append(person.name)
            new = await self._award_by_rule(
                work, badge, rule.threshold, rule.counter, person, value
            )
            for award in new:
                await self.announce(work, person, badge, award)
            if new:
                awarded.append(person.name)
        return qualified, awarded

    # ----- telling people -------------------------------------------------------------

    async def announce(self, work: Work, person: Person, badge: Badge, award: BadgeAward) -> None:
        """A DM to the person with the citation; a post in the recognition channel unless they
        opted out of announcements."""
        session, workspace = work.session, work.workspace
        work.emit(RecognitionChanged(people=(person,), because=f"award:{award.id}"))
        dm = rich(f"🏅 You earned the {badge.emoji} ", *_badge_name(badge), " badge: ")
        dm += rich(award.citation)
        await work.send(
            f"award:{award.id}:dm",
            Outbound(target=ToUser(user=person.ref), message=Message(text=dm)),
        )
        settings = await work.settings()
        channel = settings.recognition_channel if settings else None
        prefs = await rec_store.preferences(session, person.member_id) if channel else None
        if channel and not (prefs and prefs.announce_opt_out):
            post = rich("🏅 ", Name(user=person.ref, name=person.name), f" earned {badge.emoji} ")
            post += _badge_name(badge) + rich(": ", award.citation)
            await work.send(
                f"award:{award.id}:announce",
                Outbound(
                    target=ToConversation(conversation=ConversationRef(workspace, channel)),
                    message=Message(text=post),
                ),
            )


def _badge_name(badge: Badge) -> Rich:
    return (Strong(text=badge.name),)
