"""Badge commands: the catalogue (curators), manual awards and revocations, rules."""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from bot.args import split_args, whole_number
from bot.directory import Person
from bot.errors import UsageError, UserError
from bot.events import CommandInvoked
from bot.ids import UserRef
from bot.messages import Card, CardField, Message, Reply, Section, Strong, rich
from bot.recognition import permissions as perms
from bot.recognition.service import COUNTERS, Recognition, rule_text
from bot.roles import Permission, Roles
from bot.services import Services
from bot.text import MENTION
from bot.work import Work
from store import badges as badge_store
from store.models import Badge, BadgeRule

USAGE = (
    'create SLUG "Name" EMOJI "description" [repeatable] [no-citation] | '
    "edit SLUG FIELD VALUE | retire SLUG | restore SLUG | rule SLUG COUNTER N | rule SLUG off | "
    'give @person SLUG "citation" | revoke @person SLUG "reason" | show SLUG'
)
EXAMPLES = (
    'badge give @bo trained-ambassador "finished the onboarding track"',
    'badge create helper-of-the-month "Helper of the month" 🦸 "Most helpful this month"',
    "badge rule appreciated kudos_received 10",
)
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
EDITABLE = ("name", "emoji", "description", "image", "repeatable", "citation")
MAX_CITATION = 500
MAX_THRESHOLD = 1_000_000  # rules count people's kudos, answers, trainings
BY_HAND = "awarded by curators"  # how a badge without a rule is earned


class BadgeCommands:
    def __init__(self, services: Services, roles: Roles, recognition: Recognition) -> None:
        self.s = services
        self.roles = roles
        self.recognition = recognition

    async def command(self, event: CommandInvoked, args: str) -> Reply:
        words = split_args(args)
        if not words:
            return await self.catalogue(event)
        action, rest = words[0].lower(), words[1:]
        handlers = {
            "create": self._create,
            "edit": self._edit,
            "retire": self._retire,
            "restore": self._restore,
            "rule": self._rule,
            "give": self._give,
            "revoke": self._revoke,
            "show": self._show,
            "list": self._list,
        }
        handler = handlers.get(action)
        if handler is None:
            raise UsageError(f"Unknown badge action “{action}”.\nUsage: badge {USAGE}")
        return await handler(event, rest)

    async def _list(self, event: CommandInvoked, rest: list[str]) -> Reply:
        return await self.catalogue(event)

    async def catalogue(self, event: CommandInvoked) -> Reply:
        async def read(work: Work) -> list[tuple[Badge, BadgeRule | None]]:
            await work.person(event.actor, event.actor_profile)
            await self.recognition.ensure_defaults(work.session, work.ws_id)
            return await badge_store.list_badges(work.session, work.ws_id)

        badges = await self.s.run(event, read)
        sections = []
        for badge, rule in badges:
            state = " (retired)" if badge.retired_at else ""
            how = (
                rule_text(rule.counter, rule.threshold, badge.repeatable)
                if rule
                else badge.how_earned
            )
            sections.append(
                Section(
                    text=rich(
                        f"{badge.emoji} ", Strong(text=badge.name), f" `{badge.slug}`{state}\n"
                    )
                    + rich(f"{badge.description} How: {how}.")
                )
            )
        text = "Badges: " + ", ".join(f"{b.emoji} {b.name}" for b, _ in badges if not b.retired_at)
        return Reply(
            message=Message(
                text=rich(text),
                card=Card(
                    title="Badges",
                    sections=tuple(sections),
                    context=rich("badge show SLUG for details; curators: badge create …"),
                ),
            )
        )

    # ----- catalogue (curators) -------------------------------------------------------

    async def _create(self, event: CommandInvoked, rest: list[str]) -> Reply:
        async def create(work: Work) -> Reply:
            await self._require(work, event, perms.MANAGE_BADGES)
            flags = {w.lower() for w in rest[4:]}
            if len(rest) < 4 or not flags <= {"repeatable", "no-citation"}:
                raise UsageError(
                    'Usage: badge create SLUG "Name" EMOJI "description" [repeatable] '
                    "[no-citation]\n"
                    f"Example: {EXAMPLES[1]}"
                )
            slug, name, emoji, description = rest[:4]
            _check_slug(slug)
            _check_text("name", name, 80)
            _check_text("description", description, 500)
            emoji, image = _emoji(emoji)
            await self.recognition.ensure_defaults(work.session, work.ws_id)
            added = await badge_store.add_badge(
                work.session,
                workspace_id=work.ws_id,
                slug=slug,
                name=name,
                emoji=emoji,
                description=description,
                how_earned=BY_HAND,
                repeatable="repeatable" in flags,
                citation_required="no-citation" not in flags,
                image_url=image,
                now=work.now,
            )
            if not added:
                raise UserError(f"There is already a badge `{slug}`; pick another slug or edit it.")
            return _said(
                f'Created {emoji} {name} (`{slug}`). Give it with: badge give @person {slug} "why"'
            )

        return await self.s.run(event, create)

    async def _edit(self, event: CommandInvoked, rest: list[str]) -> Reply:
        async def edit(work: Work) -> Reply:
            await self._require(work, event, perms.MANAGE_BADGES)
            if len(rest) != 3 or rest[1].lower() not in EDITABLE:
                raise UsageError(
                    "Usage: badge edit SLUG FIELD VALUE, where FIELD is one of "
                    f"{', '.join(EDITABLE)}"
                )
            slug, field, value = rest[0], rest[1].lower(), rest[2]
            badge = await self._badge(work.session, work.ws_id, slug)
            if field == "name":
                badge.name = _check_text("name", value, 80)
            elif field == "description":
                badge.description = _check_text("description", value, 500)
            elif field in ("emoji", "image"):
                badge.emoji, image = _emoji(value) if field == "emoji" else (badge.emoji, value)
                if field == "image":
                    badge.image_url = _check_url(value)
                elif image:
                    badge.image_url = image
            else:
                flag = _yes_no(field, value)
                if field == "repeatable":
                    badge.repeatable = flag
                else:
                    badge.citation_required = flag
            badge.updated_at = work.now
            return _said(f"Updated the {field} of `{slug}`.")

        return await self.s.run(event, edit)

    async def _retire(self, event: CommandInvoked, rest: list[str]) -> Reply:
        return await self._set_retired(event, rest, retired=True)

    async def _restore(self, event: CommandInvoked, rest: list[str]) -> Reply:
        return await self._set_retired(event, rest, retired=False)

    async def _set_retired(self, event: CommandInvoked, rest: list[str], *, retired: bool) -> Reply:
        async def change(work: Work) -> None:
            await self._require(work, event, perms.MANAGE_BADGES)
            if len(rest) != 1:
                raise UsageError(f"Usage: badge {'retire' if retired else 'restore'} SLUG")
            badge = await self._badge(work.session, work.ws_id, rest[0])
            badge.retired_at = work.now if retired else None
            badge.updated_at = work.now

        await self.s.run(event, change)
        if retired:
            return _said(f"Retired `{rest[0]}`: nobody can earn it now; awards already given stay.")
        return _said(f"`{rest[0]}` is active again.")

    async def _rule(self, event: CommandInvoked, rest: list[str]) -> Reply:
        async def rule(work: Work) -> Reply:
            await self._require(work, event, perms.MANAGE_BADGES)
            if len(rest) == 2 and rest[1].lower() == "off":
                badge = await self._badge(work.session, work.ws_id, rest[0])
                dropped = await badge_store.drop_rule(work.session, badge.id)
                if dropped:
                    # `rule` wrote the rule's text here; without a rule it is earned by hand.
                    badge.how_earned = BY_HAND
                    badge.updated_at = work.now
                return _said(
                    f"`{rest[0]}` is now awarded by hand only."
                    if dropped
                    else f"`{rest[0]}` had no rule."
                )
            usage = (
                "Usage: badge rule SLUG COUNTER N (N a whole number from 1), "
                "or badge rule SLUG off\n"
                f"Counters: {', '.join(COUNTERS)}\nExample: {EXAMPLES[2]}"
            )
            if len(rest) != 3 or rest[1] not in COUNTERS:
                raise UsageError(usage)
            slug, counter = rest[0], rest[1]
            threshold = whole_number(rest[2], 1, MAX_THRESHOLD, usage=usage)
            badge = await self._badge(work.session, work.ws_id, slug)
            if badge.retired_at is not None:
                raise UserError(f"`{slug}` is retired; restore it first.")
            await badge_store.set_rule(work.session, badge.id, counter, threshold, work.now)
            badge.how_earned = rule_text(counter, threshold, badge.repeatable)
            qualified, awarded = await self.recognition.apply_rule_retroactively(work, badge)
            report = f"Rule saved: {badge.emoji} {badge.name} for {badge.how_earned}. "
            if not qualified:
                report += "Nobody qualifies yet."
            else:
                verb = "qualifies" if len(qualified) == 1 else "qualify"
                report += f"{len(qualified)} {verb}: {', '.join(qualified)}"
                report += (
                    f"; newly awarded: {', '.join(awarded) if awarded else 'nobody (they had it)'}."
                )
            return _said(report)

        return await self.s.run(event, rule)

    # ----- awards ---------------------------------------------------------------------

    async def _give(self, event: CommandInvoked, rest: list[str]) -> Reply:
        async def give(work: Work) -> Reply:
            actor = await self._require(work, event, perms.AWARD_BADGES)
            person, slug, citation = await self._person_slug_text(
                work, event, rest, "give", "citation"
            )
            if person.ref == actor.ref:
                raise UserError(
                    "Badges are for recognising others; ask another curator to award you."
                )
            session = work.session
            badge = await self._badge(session, work.ws_id, slug)
            if badge.retired_at is not None:
                raise UserError(f"`{slug}` is retired, so it can't be awarded; restore it first.")
            if badge.citation_required and not citation:
                raise UsageError(
                    f"Say why {person.name} earns {badge.name}: "
                    f'badge give @person {slug} "what they did"'
                )
            if not badge.repeatable:
                held = await badge_store.active_award(session, badge.id, person.member_id)
                if held is not None:
                    raise UserError(
                        f"{person.name} already has {badge.emoji} {badge.name} "
                        f"(since {held.awarded_at:%Y-%m-%d}); it isn't repeatable."
                    )
            award = await badge_store.award(
                session,
                workspace_id=work.ws_id,
                badge_id=badge.id,
                member_id=person.member_id,
                award_key=f"manual:{event.event_id}",
                citation=citation or badge.description,
                awarded_by=actor.member_id,
                now=work.now,
            )
            if award is None:
                return _said("Already done: that award was recorded.")
            await self.recognition.announce(work, person, badge, award)
            return _said(
                f"Awarded {badge.emoji} {badge.name} to {person.name}. They'll get a message."
            )

        return await self.s.run(event, give, people=_mentioned(event, rest))

    async def _revoke(self, event: CommandInvoked, rest: list[str]) -> Reply:
        async def revoke(work: Work) -> Reply:
            actor = await self._require(work, event, perms.AWARD_BADGES)
            person, slug, reason = await self._person_slug_text(
                work, event, rest, "revoke", "reason"
            )
            if not reason:
                raise UsageError(f'Give a reason: badge revoke @person {slug} "why it is removed"')
            badge = await self._badge(work.session, work.ws_id, slug)
            held = await badge_store.active_award(work.session, badge.id, person.member_id)
            if held is None:
                raise UserError(f"{person.name} doesn't have {badge.emoji} {badge.name}.")
            held.revoked_at = work.now
            held.revoked_by = actor.member_id
            held.revoke_reason = reason
            return _said(f"Removed {badge.emoji} {badge.name} from {person.name} ({reason}).")

        return await self.s.run(event, revoke, people=_mentioned(event, rest))

    async def _show(self, event: CommandInvoked, rest: list[str]) -> Reply:
        if len(rest) != 1:
            raise UsageError("Usage: badge show SLUG")

        async def read(work: Work) -> tuple[Badge, BadgeRule | None, int]:
            await work.person(event.actor, event.actor_profile)
            badge = await self._badge(work.session, work.ws_id, rest[0])
            rule = await badge_store.get_rule(work.session, badge.id)
            holders = await badge_store.holders_count(work.session, badge.id)
            return badge, rule, holders

        badge, rule, holders = await self.s.run(event, read)
        how = (
            rule_text(rule.counter, rule.threshold, badge.repeatable) if rule else badge.how_earned
        )
        fields = [
            CardField(label="How to earn it", value=rich(how)),
            CardField(label="Held by", value=rich(f"{holders} people")),
            CardField(label="Repeatable", value=rich("yes" if badge.repeatable else "no")),
        ]
        if badge.retired_at:
            fields.append(CardField(label="Retired", value=rich(f"{badge.retired_at:%Y-%m-%d}")))
        return Reply(
            message=Message(
                text=rich(f"{badge.emoji} {badge.name}: {badge.description}"),
                card=Card(
                    title=f"{badge.emoji} {badge.name}",
                    sections=(Section(text=rich(badge.description), fields=tuple(fields)),),
                    context=rich(f"slug: {badge.slug}"),
                ),
            )
        )

    # ----- helpers --------------------------------------------------------------------

    async def _require(self, work: Work, event: CommandInvoked, permission: Permission) -> Person:
        """The actor, allowed `permission`: checked inside the command's unit of work."""
        actor = await work.person(event.actor, event.actor_profile)
        await self.roles.require(actor, permission, work.session)
        return actor

    async def _badge(self, session: AsyncSession, ws_id: int, slug: str) -> Badge:
        await self.recognition.ensure_defaults(session, ws_id)
        badge = await badge_store.get_badge(session, ws_id, slug.lower())
        if badge is None:
            raise UserError(f"There's no badge `{slug}`. `badges` lists them all.")
        return badge

    async def _person_slug_text(
        self, work: Work, event: CommandInvoked, rest: list[str], verb: str, what: str
    ) -> tuple[Person, str, str]:
        if len(rest) < 2 or not MENTION.fullmatch(rest[0]):
            raise UsageError(f'Usage: badge {verb} @person SLUG "{what}"')
        user_id = MENTION.fullmatch(rest[0]).group(1)  # type: ignore[union-attr]
        text = " ".join(rest[2:]).strip()
        if len(text) > MAX_CITATION:
            raise UserError(f"That {what} is {len(text)} characters; keep it under {MAX_CITATION}.")
        person = await work.person(UserRef(event.workspace, user_id), event.profiles.get(user_id))
        if person.is_bot:
            raise UserError(f"{person.name} is a bot; badges are for people.")
        return person, rest[1].lower(), text


def _mentioned(event: CommandInvoked, rest: list[str]) -> list[UserRef]:
    """The person `give`/`revoke @person …` names, so their profile is looked up (when never
    seen) before the unit of work rather than inside it."""
    match = MENTION.fullmatch(rest[0]) if len(rest) >= 2 else None
    return [UserRef(event.workspace, match.group(1))] if match else []


def _said(text: str) -> Reply:
    return Reply(message=Message(text=rich(text)))


def _check_slug(slug: str) -> str:
    if not SLUG.match(slug):
        raise UsageError(
            f"“{slug}” can't be a slug: use 2 to 40 lower-case letters, digits and dashes, "
            "like trained-ambassador."
        )
    return slug


def _check_text(field: str, value: str, limit: int) -> str:
    if not value.strip():
        raise UsageError(f"The badge {field} can't be empty.")
    if len(value) > limit:
        raise UsageError(f"The badge {field} is {len(value)} characters; keep it under {limit}.")
    return value.strip()


def _check_url(value: str) -> str:
    if not re.match(r"^https://\S+$", value):
        raise UsageError(f"“{value}” isn't an https:// image address.")
    return value


def _emoji(value: str) -> tuple[str, str | None]:
    """An emoji (unicode or :name:), or an https image address."""
    if value.startswith("https://"):
        return "🏅", _check_url(value)
    if len(value) > 100 or " " in value:
        raise UsageError(f"“{value}” isn't an emoji; use one like 🎓 or :mortar_board:.")
    return value, None


def _yes_no(field: str, value: str) -> bool:
    v = value.lower()
    if v in ("yes", "true", "on"):
        return True
    if v in ("no", "false", "off"):
        return False
    raise UsageError(f"{field} takes yes or no, not “{value}”.")
