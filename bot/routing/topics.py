"""The topic taxonomy and expert tags: `topic`, `topics`, `expert`, `experts`, and the
nomination card's Approve / Decline buttons (Decline opens a form for the reason)."""

from __future__ import annotations

import re

from bot.args import split_args, whole_number
from bot.directory import Person
from bot.errors import FieldError, UsageError, UserError
from bot.events import ActionPressed, CommandInvoked, FormSubmitted
from bot.ids import UserRef
from bot.messages import Form, FormField, Message, Outbound, Reply, ToUser, rich
from bot.routing import classify
from bot.routing import messages as say
from bot.routing.context import MAX_ID, Context
from bot.routing.permissions import MANAGE_TOPICS
from bot.text import MENTION
from bot.work import Work
from store import routing as store
from store import workspaces as ws_store

TOPIC_USAGE = (
    'add NAME ["description"] [keywords: word, word ...] | edit NAME name|description|keywords '
    "VALUE | remove NAME"
)
TOPIC_EXAMPLES = (
    'topic add vpn "Remote access" keywords: vpn, wireguard, remote access',
    "topic edit vpn keywords vpn, tunnel, wireguard",
)
EXPERT_USAGE = (
    "add|remove @person TOPIC | nominate TOPIC | approve @person TOPIC | "
    'decline @person TOPIC "reason"'
)
EXPERT_EXAMPLES = ("expert add @bo vpn", "expert nominate vpn")
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
MAX_DESCRIPTION = 300


def topic_name(text: str) -> str:
    name = text.strip().lower().lstrip("#")
    if not _NAME.fullmatch(name):
        raise UsageError(
            f"“{text.strip()}” is not a topic name; expected one word of letters, digits and "
            "dashes, up to 40 characters, e.g. vpn or single-sign-on."
        )
    return name


class Topics:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.s = ctx.s

    async def _curator(
        self, work: Work, event: CommandInvoked | ActionPressed | FormSubmitted
    ) -> Person:
        actor = await work.person(event.actor, event.actor_profile)
        await self.ctx.roles.require(actor, MANAGE_TOPICS, work.session)
        return actor

    # ----- topic --------------------------------------------------------------------------

    async def topic_command(self, event: CommandInvoked, args: str) -> Reply:
        verb, _, rest = args.strip().partition(" ")
        match verb.lower():
            case "add":
                return await self._add(event, rest)
            case "edit":
                return await self._edit(event, rest)
            case "remove" | "delete":
                return await self._remove(event, rest)
            case "" | "list":
                return await self.list(event, "")
        raise UsageError(f"Usage: topic {TOPIC_USAGE}\nExample: {TOPIC_EXAMPLES[0]}")

    async def _add(self, event: CommandInvoked, rest: str) -> Reply:
        at = rest.lower().find("keywords:")
        head, words = (rest, "") if at < 0 else (rest[:at], rest[at + len("keywords:") :])
        parts = split_args(head)
        if not parts:
            raise UsageError(
                f"Name the topic.\nUsage: topic {TOPIC_USAGE}\nExample: {TOPIC_EXAMPLES[0]}"
            )
        name = topic_name(parts[0])
        description = " ".join(parts[1:]).strip() or None
        if description and len(description) > MAX_DESCRIPTION:
            raise UsageError(f"A topic's description is at most {MAX_DESCRIPTION} characters.")
        keywords = ", ".join(classify.keywords(words))

        async def add(work: Work) -> str:
            await self._curator(work, event)
            if not await store.add_topic(
                work.session, work.ws_id, name, description, keywords, work.now
            ):
                raise UserError(
                    f"There is a topic {name} already; change it with topic edit {name} ..."
                )
            work.changed("routing_topics")
            shown = f" (keywords: {keywords})" if keywords else ""
            return f"Added the topic {name}{shown}. Tag experts with expert add @person {name}."

        return _said(await self.s.run(event, add))

    async def _edit(self, event: CommandInvoked, rest: str) -> Reply:
        words = rest.split(maxsplit=2)
        if len(words) < 3 or words[1].lower() not in ("name", "description", "keywords"):
            raise UsageError(f"Usage: topic {TOPIC_USAGE}\nExample: {TOPIC_EXAMPLES[1]}")
        name, field, value = topic_name(words[0]), words[1].lower(), words[2].strip()

        async def edit(work: Work) -> str:
            await self._curator(work, event)
            row = await store.topic(work.session, work.ws_id, name)
            if row is None:
                await self.ctx.topic_by_name(work, name)  # raises, listing the topics
                raise AssertionError("unreachable")
            if field == "name":
                new = topic_name(value)
                if new != name and await store.topic(work.session, work.ws_id, new) is not None:
                    raise UserError(f"There is a topic {new} already.")
                row.name = new
            elif field == "description":
                row.description = value.strip('"“”') or None
            else:
                row.keywords = ", ".join(classify.keywords(value))
            row.updated_at = work.now
            work.changed("routing_topics")
            return f"Saved: {row.name}'s {field} is now {getattr(row, field) or 'empty'}."

        return _said(await self.s.run(event, edit))

    async def _remove(self, event: CommandInvoked, rest: str) -> Reply:
        name = topic_name(rest) if rest.strip() else ""
        if not name:
            raise UsageError("Name the topic to remove, e.g. topic remove vpn")

        async def remove(work: Work) -> str:
            await self._curator(work, event)
            topic = await self.ctx.topic_by_name(work, name)
            await store.remove_topic(work.session, topic.id)
            work.changed("routing_topics")
            return f"Removed the topic {name}; its questions now count as general."

        return _said(await self.s.run(event, remove))

    async def list(self, event: CommandInvoked, args: str) -> Reply:
        async def read(work: Work) -> str:
            await work.person(event.actor, event.actor_profile)
            topics = await store.topics(work.session, work.ws_id)
            if not topics:
                return "No topics yet. Curators add them with topic add NAME."
            experts = await store.experts(work.session, work.ws_id, None)
            open_ = await store.open_by_topic(work.session, work.ws_id)
            by_topic: dict[int, list[str]] = {}
            for topic, member in experts:
                by_topic.setdefault(topic.id, []).append(member.display_name or member.external_id)
            lines = []
            for t in topics:
                who = ", ".join(by_topic.get(t.id, [])) or "no experts yet"
                desc = f" — {t.description}" if t.description else ""
                lines.append(
                    f"• {t.name}{desc}: experts {who}; {open_.get(t.id, 0)} open questions"
                )
            return "Topics:\n" + "\n".join(lines)

        return _said(await self.s.run(event, read))

    # ----- experts ------------------------------------------------------------------------

    async def expert_command(self, event: CommandInvoked, args: str) -> Reply:
        words = split_args(args)
        verb = words[0].lower() if words else ""
        rest = words[1:]
        if verb == "nominate":
            if len(rest) != 1:
                raise UsageError("Name one topic, e.g. expert nominate vpn")
            return await self._nominate(event, topic_name(rest[0]))
        if verb in ("add", "remove", "approve", "decline"):
            if len(rest) < 2 or not MENTION.fullmatch(rest[0]):
                raise UsageError(f"Usage: expert {EXPERT_USAGE}\nExample: {EXPERT_EXAMPLES[0]}")
            target = UserRef(event.workspace, MENTION.fullmatch(rest[0]).group(1))  # type: ignore[union-attr]
            name = topic_name(rest[1])
            reason = " ".join(rest[2:]).strip()
            if verb == "decline" and not reason:
                raise UsageError(
                    f'Say why, for the nominee: expert decline @person {name} "reason"'
                )
            return await self.decide(event, verb, target, name, reason)
        if verb in ("", "list"):
            return await self.experts(event, "")
        raise UsageError(f"Usage: expert {EXPERT_USAGE}\nExample: {EXPERT_EXAMPLES[0]}")

    async def decide(
        self,
        event: CommandInvoked | ActionPressed | FormSubmitted,
        verb: str,
        target: UserRef,
        name: str,
        reason: str = "",
        topic_id: int | None = None,
    ) -> Reply:
        async def change(work: Work) -> str:
            actor = await self._curator(work, event)
            person = await work.person(target, event.profiles.get(target.id))
            if person.is_bot:
                raise UserError(f"{person.name} is a bot; experts are people.")
            topic = (
                await self.ctx.topic_by_id(work, topic_id)
                if topic_id is not None
                else await self.ctx.topic_by_name(work, name)
            )
            if topic is None:
                raise UserError("That topic was removed.")
            tag = await store.expert(work.session, topic.id, person.member_id)
            if verb == "remove":
                if not await store.remove_expert(work.session, topic.id, person.member_id):
                    raise UserError(f"{person.name} isn't an expert on {topic.name}.")
                return f"{person.name} is no longer an expert on {topic.name}."
            if verb in ("approve", "decline") and (tag is None or tag.status != "nominated"):
                raise UserError(f"{person.name} has no pending nomination for {topic.name}.")
            if verb == "add" and tag is not None and tag.status == "active":
                return f"{person.name} already is an expert on {topic.name}."
            status = "declined" if verb == "decline" else "active"
            await store.set_expert(
                work.session,
                workspace_id=work.ws_id,
                topic_id=topic.id,
                member_id=person.member_id,
                status=status,
                decided_by=actor.member_id,
                reason=reason or None,
                now=work.now,
            )
            if verb in ("approve", "decline"):
                await self._close_cards(work, topic.id, person, f"{actor.name} {verb}d it")
                outcome = (
                    f"🎓 You're now an expert on {topic.name}: questions may come your way."
                    if verb == "approve"
                    else f"Your nomination as an expert on {topic.name} was declined: {reason}"
                )
                key = (
                    f"routing:nominate:{topic.id}:{person.member_id}:{verb}:{work.now.isoformat()}"
                )
                await work.send(key, _dm(person.ref, outcome))
                return f"{person.name}'s nomination for {topic.name} is {verb}d; they've been told."
            return f"{person.name} is now an expert on {topic.name}."

        return _said(await self.s.run(event, change, people=[target]))

    async def _nominate(self, event: CommandInvoked, name: str) -> Reply:
        async def nominate(work: Work) -> str:
            person = await work.person(event.actor, event.actor_profile)
            topic = await self.ctx.topic_by_name(work, name)
            tag = await store.expert(work.session, topic.id, person.member_id)
            if tag is not None and tag.status == "active":
                return f"You already are an expert on {topic.name}."
            if tag is not None and tag.status == "nominated":
                return f"Your nomination for {topic.name} is waiting for a curator."
            await store.set_expert(
                work.session,
                workspace_id=work.ws_id,
                topic_id=topic.id,
                member_id=person.member_id,
                status="nominated",
                decided_by=None,
                reason=None,
                now=work.now,
            )
            curators = await self.ctx.roles.members_who_can(work, MANAGE_TOPICS)
            card = say.nomination_card(
                person.ref, person.name, topic.name, person.member_id, topic.id
            )
            for member in curators:
                key = _card_key(topic.id, person.member_id, member.id)
                await work.send(key, _dm(UserRef(work.workspace, member.external_id), card, key))
            if not curators:
                return (
                    f"Nominated you for {topic.name}, but there is no curator to approve it yet; "
                    "ask an admin to add one (role add @person curator)."
                )
            return f"Nominated you as an expert on {topic.name}; a curator will decide."

        return _said(await self.s.run(event, nominate))

    async def _close_cards(self, work: Work, topic_id: int, nominee: Person, what: str) -> None:
        for member in await self.ctx.roles.members_who_can(work, MANAGE_TOPICS):
            key = _card_key(topic_id, nominee.member_id, member.id)
            if await work.was_queued(key):
                await work.edit(
                    key,
                    Message(text=rich(f"{nominee.name}'s nomination: {what}.")),
                    because="decided",
                )

    async def experts(self, event: CommandInvoked, args: str) -> Reply:
        async def read(work: Work) -> str:
            await work.person(event.actor, event.actor_profile)
            topic = await self.ctx.topic_by_name(work, args) if args.strip() else None
            rows = await store.experts(work.session, work.ws_id, topic.id if topic else None)
            if not rows:
                where = f" on {topic.name}" if topic else ""
                return f"No experts{where} yet. Curators add them with expert add @person TOPIC."
            by_topic: dict[str, list[str]] = {}
            for t, m in rows:
                by_topic.setdefault(t.name, []).append(m.display_name or m.external_id)
            return "Experts:\n" + "\n".join(f"• {t}: {', '.join(n)}" for t, n in by_topic.items())

        return _said(await self.s.run(event, read))

    # ----- buttons and the decline form ------------------------------------------------------

    async def on_action(self, event: ActionPressed) -> Reply | None:
        topic_id, member_id = _ids(event.value)

        async def who(work: Work) -> UserRef:
            member = await ws_store.get_member_by_id(work.session, member_id)
            if member is None or member.workspace_id != work.ws_id:
                raise UserError("That nomination has expired.")
            return UserRef(work.workspace, member.external_id)

        target = await self.s.run_in(event.workspace, who)
        if event.action_id == say.APPROVE:
            return await self.decide(event, "approve", target, "", topic_id=topic_id)
        return Reply(
            message=Message(text=rich("Say why it is declined: the nominee will read it.")),
            form=Form(
                form_id=say.DECLINE,
                title="Decline the nomination",
                submit="Decline",
                state=event.value,
                fields=(FormField(id="reason", label="Reason", kind="multiline", max_length=500),),
            ),
        )

    async def on_form(self, event: FormSubmitted) -> Reply | None:
        reason = (event.values.get("reason") or "").strip()
        if not reason:
            raise FieldError("reason", "Say why it is declined: the nominee will read it.")
        topic_id, member_id = _ids(event.state)

        async def who(work: Work) -> UserRef:
            member = await ws_store.get_member_by_id(work.session, member_id)
            if member is None or member.workspace_id != work.ws_id:
                raise UserError("That nomination has expired.")
            return UserRef(work.workspace, member.external_id)

        target = await self.s.run_in(event.workspace, who)
        return await self.decide(event, "decline", target, "", reason, topic_id=topic_id)


def _ids(value: str) -> tuple[int, int]:
    topic, _, member = value.partition(":")
    try:
        return whole_number(topic, 1, MAX_ID), whole_number(member, 1, MAX_ID)
    except UsageError:
        raise UserError("That button has expired; use the expert command instead.") from None


def _card_key(topic_id: int, member_id: int, curator_id: int) -> str:
    return f"routing:nominate:{topic_id}:{member_id}:card:{curator_id}"


def _dm(user: UserRef, content: Message | str, key: str | None = None) -> Outbound:
    message = content if isinstance(content, Message) else Message(text=rich(content))
    return Outbound(target=ToUser(user=user), message=message, key=key)


def _said(text: str) -> Reply:
    return Reply(message=Message(text=rich(text)))
