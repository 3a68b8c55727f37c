"""`profile`, `rewards`, `privacy` and `team`: what people are recognised for and how they
like to be recognised."""

from __future__ import annotations

from bot import calendar
from bot.args import split_args
from bot.directory import Person
from bot.errors import UsageError, UserError
from bot.events import ActionPressed, CommandInvoked
from bot.ids import UserRef
from bot.messages import Card, CardField, Message, Name, Reply, Rich, Section, rich
from bot.recognition import permissions as perms
from bot.recognition.service import Recognition
from bot.roles import Roles
from bot.services import Services
from bot.text import MENTION, mentioned_ids
from bot.work import Work
from store import badges as badge_store
from store import recognition as rec_store
from store import routing as routing_store
from store import workspaces as ws_store
from store.models import RewardPreference

REWARD_KINDS: dict[str, str] = {
    "public-shoutout": "a public shout-out",
    "private-thanks": "a private thank-you",
    "learning-budget": "learning budget",
    "swag": "swag",
    "time-off": "time off",
    "team-lunch": "a team lunch",
    "manager-note": "a note to their manager",
    "other": "something else",
}
REWARDS_USAGE = "[add KIND [note] | remove KIND | @person | badged]  KIND: " + ", ".join(
    REWARD_KINDS
)
MAX_NOTE = 300


class Profiles:
    def __init__(self, services: Services, roles: Roles, recognition: Recognition) -> None:
        self.s = services
        self.roles = roles
        self.recognition = recognition

    # ----- profile --------------------------------------------------------------------

    async def profile(self, event: CommandInvoked, args: str) -> Reply:
        subject_ref = _subject_ref(event, args)

        async def read(work: Work) -> Reply:
            viewer = await work.person(event.actor, event.actor_profile)
            subject = await _subject(work, event, subject_ref) if subject_ref else viewer
            own = viewer.ref == subject.ref
            show_rewards = own or await self.roles.can(viewer, perms.SEE_REWARDS, work.session)
            return await self._profile(work, event, viewer, subject, show_rewards)

        return await self.s.run(event, read, people=[subject_ref] if subject_ref else [])

    async def own(self, work: Work, event: ActionPressed, person: Person) -> Reply:
        """Your own profile, inside the caller's unit of work (the home view's "My profile")."""
        return await self._profile(work, event, person, person, show_rewards=True)

    async def _profile(
        self,
        work: Work,
        event: CommandInvoked | ActionPressed,
        viewer: Person,
        subject: Person,
        show_rewards: bool,
    ) -> Reply:
        session, ws_id, now = work.session, work.ws_id, work.now
        own = viewer.ref == subject.ref
        tz = await work.timezone()
        all_time = await rec_store.member_totals(
            session, ws_id, subject.member_id, "all", calendar.period_start("all", now, tz)
        )
        month = await rec_store.member_totals(
            session, ws_id, subject.member_id, "month", calendar.period_start("month", now, tz)
        )
        held = await badge_store.held_by(session, subject.member_id)
        values = await rec_store.top_values(session, ws_id, subject.member_id)
        recent = await rec_store.recent_thanks(session, subject.member_id)
        rewards = await rec_store.reward_preferences(session, subject.member_id)
        member = await ws_store.get_member_by_id(session, subject.member_id)
        whose = "Your" if own else f"{subject.name}'s"
        badges: Rich = ()
        for h in held:
            by = (
                f", from {h.awarded_by.display_name or h.awarded_by.external_id}"
                if h.awarded_by
                else ""
            )
            badges += rich(
                f"{h.badge.emoji} {h.badge.name} — {h.award.citation} "
                f"({h.award.awarded_at:%Y-%m-%d}{by})\n"
            )
        thanks: Rich = ()
        for kudos, giver in recent:
            who = self.s.directory.from_member(event.workspace, giver)
            reason = kudos.reason or "a reaction"
            thanks += rich("“", reason[:120], "” — ", Name(user=who.ref, name=who.name), "\n")
        fields = [
            CardField(
                label="Kudos",
                value=rich(
                    f"received {month[0]} this month, {all_time[0]} in all; "
                    f"given {month[1]} this month, {all_time[1]} in all"
                ),
            ),
            CardField(
                label="Top values",
                value=rich(", ".join(f"#{v} ({n})" for v, n in values) or "none yet"),
            ),
        ]
        if member is not None and member.team:
            fields.append(CardField(label="Team", value=rich(member.team)))
        topics = await routing_store.expert_topics(session, subject.member_id)
        if topics:
            fields.append(CardField(label="Expert on", value=rich(", ".join(topics))))
        if show_rewards:
            label = "Recognition you value" if own else "Recognition they value"
            fields.append(CardField(label=label, value=rich(_rewards(rewards))))
        sections = [
            Section(fields=tuple(fields)),
            Section(text=rich("Badges\n") + (badges or rich("none yet"))),
            Section(text=rich("Recent thanks\n") + (thanks or rich("none yet"))),
        ]
        summary = (
            f"{whose} profile: {all_time[0]} kudos received, {all_time[1]} given, "
            f"{len(held)} badge{'s' if len(held) != 1 else ''}."
        )
        return Reply(
            message=Message(
                text=rich(summary),
                card=Card(
                    title=f"{whose} profile",
                    sections=tuple(sections),
                    context=rich(
                        f"Expert on {', '.join(topics)}." if topics else "No expert topics yet."
                    ),
                ),
            )
        )

    # ----- rewards --------------------------------------------------------------------

    async def rewards(self, event: CommandInvoked, args: str) -> Reply:
        words = split_args(args)
        subject_ref = (
            _subject_ref(event, words[0]) if words and MENTION.fullmatch(words[0]) else None
        )
        badged = bool(words) and words[0].lower() == "badged"
        change = _reward_change(words) if words and not subject_ref and not badged else None

        async def apply(work: Work) -> Reply:
            viewer = await work.person(event.actor, event.actor_profile)
            session = work.session
            if subject_ref is not None:
                await self.roles.require(viewer, perms.SEE_REWARDS, session)
                subject = await _subject(work, event, subject_ref)
                rows = await rec_store.reward_preferences(session, subject.member_id)
                return _said(f"{subject.name} values: {_rewards(rows)}.")
            if badged:
                return await self._badged(work, viewer)
            if change is None:
                rows = await rec_store.reward_preferences(session, viewer.member_id)
                return _said(
                    f"You value: {_rewards(rows)}.\nChange it with: rewards add KIND [note] or "
                    f"rewards remove KIND. Kinds: {', '.join(REWARD_KINDS)}."
                )
            action, kind, note = change
            if action == "add":
                await rec_store.set_reward(session, viewer.member_id, kind, note, work.now)
            elif not await rec_store.remove_reward(session, viewer.member_id, kind):
                raise UserError(f"{kind} wasn't on your list.")
            rows = await rec_store.reward_preferences(session, viewer.member_id)
            return _said(f"Saved. You value: {_rewards(rows)}.")

        return await self.s.run(event, apply, people=[subject_ref] if subject_ref else [])

    async def _badged(self, work: Work, viewer: Person) -> Reply:
        """Everyone with a badge this month, with what they value: for planning rewards."""
        await self.roles.require(viewer, perms.SEE_REWARDS, work.session)
        session, ws_id, now = work.session, work.ws_id, work.now
        tz = await work.timezone()
        start = calendar.period_start("month", now, tz)
        since = now.astimezone(tz).replace(
            year=start.year,
            month=start.month,
            day=1,
            hour=0,
            minute=0,
            second=0,
            microsecond=0,
        )
        rows = await badge_store.awarded_since(session, ws_id, since)
        lines = []
        seen: dict[int, list[str]] = {}
        for member, badge, _award in rows:
            seen.setdefault(member.id, []).append(f"{badge.emoji} {badge.name}")
        for member_id, badges in seen.items():
            member = next(m for m, _, _ in rows if m.id == member_id)
            prefs = await rec_store.reward_preferences(session, member_id)
            name = member.display_name or member.external_id
            lines.append(f"{name} ({', '.join(badges)}): {_rewards(prefs)}")
        if not lines:
            return _said("Nobody has earned a badge this month yet.")
        return _said("Badges this month, and what each person values:\n" + "\n".join(lines))

    # ----- privacy and teams ----------------------------------------------------------

    async def privacy(self, event: CommandInvoked, args: str) -> Reply:
        words = [w.lower() for w in split_args(args)]
        if words and (
            len(words) != 2
            or words[0] not in ("leaderboard", "announce")
            or words[1] not in ("on", "off")
        ):
            raise UsageError("Usage: privacy [leaderboard on|off] [announce on|off]")

        async def apply(work: Work) -> Reply:
            viewer = await work.person(event.actor, event.actor_profile)
            session, now = work.session, work.now
            if words:
                show = words[1] == "on"
                if words[0] == "leaderboard":
                    await rec_store.update_preferences(
                        session, viewer.member_id, now, leaderboard_opt_out=not show
                    )
                else:
                    await rec_store.update_preferences(
                        session, viewer.member_id, now, announce_opt_out=not show
                    )
            prefs = await rec_store.preferences(session, viewer.member_id)
            board = "hidden from" if prefs and prefs.leaderboard_opt_out else "shown on"
            announce = "not announced" if prefs and prefs.announce_opt_out else "announced"
            return _said(
                f"You are {board} leaderboards; your badges are {announce} in the recognition "
                "channel."
            )

        return await self.s.run(event, apply)

    async def team(self, event: CommandInvoked, args: str) -> Reply:
        words = split_args(args)
        subject_ref = None
        if words and MENTION.fullmatch(words[0]):
            subject_ref = _subject_ref(event, words[0])
            words = words[1:]
        name = " ".join(words).strip()

        async def apply(work: Work) -> Reply:
            viewer = await work.person(event.actor, event.actor_profile)
            subject = viewer
            if subject_ref is not None:
                await self.roles.require(viewer, perms.SET_TEAMS, work.session)
                subject = await _subject(work, event, subject_ref)
            if len(name) > 100:
                raise UserError("Team names are at most 100 characters.")
            member = await ws_store.get_member_by_id(work.session, subject.member_id)
            assert member is not None
            if name:
                member.team = None if name.lower() == "none" else name
            current = member.team
            whose = "Your" if subject.ref == viewer.ref else f"{subject.name}'s"
            return _said(
                f"{whose} team: {current or 'not set'}."
                + ("" if name else " Set it with: team NAME (or team none).")
            )

        return await self.s.run(event, apply, people=[subject_ref] if subject_ref else [])


def _subject_ref(event: CommandInvoked, args: str) -> UserRef | None:
    """The person `args` mention (None: the viewer themself), before any unit of work."""
    ids = mentioned_ids(args)
    if args.strip() and not ids:
        raise UsageError("Mention the person with @, e.g. profile @ana")
    return UserRef(event.workspace, ids[0]) if ids else None


async def _subject(work: Work, event: CommandInvoked, ref: UserRef) -> Person:
    return await work.person(ref, event.profiles.get(ref.id))


def _reward_change(words: list[str]) -> tuple[str, str, str | None]:
    """`rewards add KIND [note]` or `rewards remove KIND`, checked: (action, kind, note)."""
    action = words[0].lower()
    kind = words[1].lower() if len(words) > 1 else ""
    if action in ("add", "remove") and kind and kind not in REWARD_KINDS:
        raise UsageError(
            f"“{kind}” isn't a kind of recognition I know; choose from "
            f'{", ".join(REWARD_KINDS)} (use other "…" for anything else).'
        )
    if action not in ("add", "remove") or kind not in REWARD_KINDS:
        raise UsageError(f"Usage: rewards {REWARDS_USAGE}\nExample: rewards add learning-budget")
    note = " ".join(words[2:]).strip() or None
    if note and len(note) > MAX_NOTE:
        raise UserError(f"That note is {len(note)} characters; keep it under {MAX_NOTE}.")
    if action == "add" and kind == "other" and not note:
        raise UsageError('Say what: rewards add other "a coffee with the CEO"')
    return action, kind, note


def _rewards(rows: list[RewardPreference]) -> str:
    parts = []
    for row in rows:
        label = REWARD_KINDS.get(row.kind, row.kind)
        parts.append(f"{label} ({row.note})" if row.note else label)
    return ", ".join(parts) if parts else "not said yet"


def _said(text: str) -> Reply:
    return Reply(message=Message(text=rich(text)))
