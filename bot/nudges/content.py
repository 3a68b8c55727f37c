"""Content to share: `content add` (community managers) starts a campaign to the targeted
ambassadors; "Shared it" and "Not for me" (and `content shared|skip C-4`) record the answer."""

from __future__ import annotations

import re

from bot.args import split_args, whole_number
from bot.errors import FieldError, UsageError, UserError
from bot.events import ActionPressed, CommandInvoked, FormSubmitted
from bot.messages import Form, FormField, Message, Reply, rich
from bot.nudges import links, targets
from bot.nudges import messages as say
from bot.nudges.campaigns import Campaigns, FanoutArgs
from bot.nudges.optin import OptIn
from bot.nudges.permissions import manager
from bot.roles import Roles
from bot.services import Services
from bot.work import Work
from store import nudges as store
from store.models import NudgeContent

MAX_TITLE = 300
MAX_TEXT = 3000
WHERE = ("linkedin", "x", "twitter", "email", "slack", "teams", "other")
_NUMBER = re.compile(r"(?:c-?)?([0-9]+)", re.IGNORECASE)
ADD_USAGE = 'Usage: content add URL "title" ["suggested text"] [for: interest, office ...]'
FORM = Form(
    form_id="nudge:content",
    title="Add content to share",
    submit="Add",
    fields=(
        FormField(id="url", label="Link (http or https)", max_length=links.MAX_URL),
        FormField(id="title", label="Title", max_length=MAX_TITLE),
        FormField(
            id="text", label="Suggested text", kind="multiline", optional=True, max_length=MAX_TEXT
        ),
        FormField(
            id="for",
            label="For (interests or offices, comma-separated)",
            optional=True,
            hint="Empty: every ambassador.",
        ),
    ),
)


def parse_item(text: str) -> int:
    match = _NUMBER.fullmatch(text.strip())
    if match is None:
        raise UsageError(f"“{text.strip()}” isn't a content item; expected its id, e.g. C-4.")
    return whole_number(match.group(1), 1, 10**9, what="The item number")


async def item_or_error(work: Work, number: int) -> NudgeContent:
    item = await store.content_by_number(work.session, work.ws_id, number)
    if item is None:
        raise UserError(f"There is no content item {say.c(number)}; `content list` shows them.")
    return item


class Content:
    def __init__(
        self, services: Services, roles: Roles, campaigns: Campaigns, optin: OptIn
    ) -> None:
        self.s = services
        self.roles = roles
        self.campaigns = campaigns
        self.optin = optin

    async def add(self, event: CommandInvoked, rest: str) -> Reply:
        if not rest.strip():
            return Reply(
                message=Message(text=rich(f"Fill in the form to add content.\n{ADD_USAGE}")),
                form=FORM,
            )
        head, target_text = targets.split_for(split_args(rest))
        return await self._add(event, head, target_text)

    async def on_form(self, event: FormSubmitted) -> Reply:
        """The `content add` form: the same checks, each problem next to its field."""
        values = {k: (v or "").strip() for k, v in event.values.items()}
        try:
            links.checked_url(values.get("url", ""))
        except UserError as exc:
            raise FieldError("url", str(exc)) from None
        if not values.get("title"):
            raise FieldError("title", "The title can't be empty.")
        head = [values["url"], values["title"]]
        if values.get("text"):
            head.append(values["text"])
        return await self._add(event, head, values.get("for", ""))

    async def _add(
        self, event: CommandInvoked | FormSubmitted, head: list[str], target_text: str
    ) -> Reply:
        if len(head) < 2 or len(head) > 3:
            raise UsageError(f"Give a URL and a title in quotes.\n{ADD_USAGE}")
        url = links.checked_url(head[0])
        title, text = head[1].strip(), (head[2].strip() if len(head) > 2 else None)
        if not title:
            raise UsageError(f"The title can't be empty.\n{ADD_USAGE}")
        if len(title) > MAX_TITLE or len(text or "") > MAX_TEXT:
            raise UsageError(
                f"That's too long: a title has at most {MAX_TITLE} characters, a suggested text "
                f"{MAX_TEXT}."
            )

        async def add(work: Work) -> str:
            actor = await manager(self.roles, work, event)
            target, shown = await targets.parse(work, target_text)  # errors before any write
            people = await self.campaigns.targeted(work, target)
            number = await store.next_number(work.session, work.ws_id, "content", work.now)
            item = await store.add_content(
                work.session,
                workspace_id=work.ws_id,
                number=number,
                url=url,
                title=title,
                text=text,
                targets=target.stored(),
                created_by=actor.member_id,
                created_at=work.now,
            )
            await self.campaigns.start_campaign(
                work,
                FanoutArgs(
                    workspace=work.workspace,
                    kind="content",
                    content_id=item.id,
                    targets=target.stored(),
                ),
                f"nudges:fanout:content:{item.id}",
            )
            if self.optin.ensure_recurring is not None:
                await self.optin.ensure_recurring(work)
            who = f"ambassadors interested in or based in {shown}" if shown else "every ambassador"
            return (
                f"📣 Added {say.c(number)}: “{title}”, for {who} ({len(people)} now; those who "
                "opted in get a DM in their own working hours, within their weekly cap). "
                f"`content report {say.c(number)}` follows it."
            )

        return Reply(message=Message(text=rich(await self.s.run(event, add))))

    async def answer(self, event: CommandInvoked, rest: str, response: str) -> Reply:
        words = rest.split()
        if not words:
            raise UsageError(
                f"Name the item, e.g. content {'shared' if response == 'shared' else 'skip'} C-4."
            )
        number = parse_item(words[0])
        where = words[1].lower() if len(words) > 1 else None
        if where is not None and where not in WHERE:
            raise UsageError(
                f"“{words[1]}” isn't a place to share; expected one of {', '.join(WHERE)}."
            )

        async def apply(work: Work) -> str:
            actor = await work.person(event.actor, event.actor_profile)
            item = await item_or_error(work, number)
            subject = f"content:{item.id}"
            nudge = await store.by_subject(work.session, actor.member_id, subject)
            if nudge is None:
                # Shared before any nudge about it: recorded, and no nudge will follow.
                await store.add_nudges(
                    work.session,
                    [
                        {
                            "workspace_id": work.ws_id,
                            "member_id": actor.member_id,
                            "kind": "content",
                            "subject": subject,
                            "content_id": item.id,
                            "status": store.SUPPRESSED,
                            "reason": "already acted on",
                            "due_at": work.now,
                            "created_at": work.now,
                            "response": response,
                            "response_note": where,
                            "responded_at": work.now,
                        }
                    ],
                )
                return _said(response, item)
            if not await self.campaigns.respond(work, nudge, response, where):
                return f"You already told me about {say.c(item.number)} ({nudge.response})."
            return _said(response, item)

        return Reply(message=Message(text=rich(await self.s.run(event, apply))))

    async def on_button(self, event: ActionPressed, response: str) -> Reply:
        async def apply(work: Work) -> str:
            nudge_id = whole_number(event.value, 1, 2**62, what="The nudge id")
            nudge, _ = await self.optin.own_nudge(work, event, nudge_id)
            item = (
                await work.session.get(NudgeContent, nudge.content_id) if nudge.content_id else None
            )
            if item is None:
                raise UserError("That item is gone.")
            if not await self.campaigns.respond(work, nudge, response):
                return f"Already noted ({nudge.response})."
            return _said(response, item)

        return Reply(message=Message(text=rich(await self.s.run(event, apply))))

    async def list(self, event: CommandInvoked) -> Reply:
        async def read(work: Work) -> str:
            await work.person(event.actor, event.actor_profile)
            items = await store.content_items(work.session, work.ws_id)
            if not items:
                return 'No content yet. Community managers add it with `content add URL "title"`.'
            return "\n".join(f"• {say.c(i.number)}: {i.title} ({i.url})" for i in items[-20:])

        return Reply(message=Message(text=rich(await self.s.run(event, read))))


def _said(response: str, item: NudgeContent) -> str:
    if response == store.SHARED:
        return f"✅ Thanks for sharing {say.c(item.number)} “{item.title}”!"
    return f"Noted: {say.c(item.number)} isn't for you. Thanks for saying."
