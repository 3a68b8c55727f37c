"""The nudge engine: queueing nudges (one person, or a whole campaign in one go), the job that
decides each one against the guardrails right before its DM is queued, and people's answers.

A nudge is a row (unique per person and subject: never the same thing twice) and a job
`nudges.send` under the key `nudges:send:<id>`. The job runs `guardrails.decide`: sending
queues the DM through Work.send (the paced delivery queue, the only sender) in the same
transaction that marks the nudge sent; waiting records why and raises the scheduler's Defer
(no attempt spent), so a night-time nudge runs again at the person's next working morning. A
campaign (`nudges.fanout`, one job per item or request) inserts every targeted person's nudge
and job in one transaction: none lost, and run twice it adds nothing (rows and job keys are
unique).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import insert, select

from bot import calendar, metrics
from bot.ids import UserRef, WorkspaceRef
from bot.messages import Message, Outbound, ToUser
from bot.nudges import guardrails, links, sources
from bot.nudges import messages as say
from bot.nudges.guardrails import Consent
from bot.scheduler import Defer
from bot.services import Services
from bot.work import Work
from store import nudges as store
from store import workspaces as ws_store
from store.models import Member, Nudge, NudgeContent, NudgePrefs, NudgeRequest

SEND = "nudges.send"
FANOUT = "nudges.fanout"
NOT_AMBASSADOR = "not an ambassador"
_CHUNK = 500


class SendArgs(BaseModel):
    workspace: WorkspaceRef
    nudge_id: int


class FanoutArgs(BaseModel):
    workspace: WorkspaceRef
    kind: str
    content_id: int | None = None
    request_id: int | None = None
    targets: str = ""


@dataclass(frozen=True, slots=True)
class Target:
    """Who a campaign is for: interests (case-folded) and office ids; both empty: everyone."""

    interests: frozenset[str] = frozenset()
    offices: frozenset[int] = frozenset()

    def matches(self, person: sources.Ambassador) -> bool:
        if not self.interests and not self.offices:
            return True
        return bool(self.interests & person.interests) or person.office_id in self.offices

    def stored(self) -> str:
        return " ".join(
            [
                *(f"interest:{i}" for i in sorted(self.interests)),
                *(f"office:{o}" for o in sorted(self.offices)),
            ]
        )

    @classmethod
    def parse_stored(cls, text: str) -> Target:
        interests = {w.removeprefix("interest:") for w in text.split() if w.startswith("interest:")}
        offices = {int(w.removeprefix("office:")) for w in text.split() if w.startswith("office:")}
        return cls(frozenset(interests), frozenset(offices))


def kinds_of(prefs: NudgePrefs) -> frozenset[str]:
    return frozenset(prefs.kinds.split())


class Campaigns:
    def __init__(self, services: Services) -> None:
        self.s = services
        self.handlers = {SEND: self._send, FANOUT: self._fanout}

    # ----- queueing (inside the caller's unit of work) ---------------------------------------

    async def queue(
        self,
        work: Work,
        *,
        kind: str,
        subject: str,
        member_ids: Sequence[int],
        content_id: int | None = None,
        request_id: int | None = None,
        detail: str | None = None,
    ) -> int:
        """Queues a nudge about `subject` for each opted-in person of `member_ids` who wasn't
        nudged about it before; returns how many were queued. People who opted in but turned
        this kind off are recorded as suppressed (for `nudges status`); people who never
        opted in leave no trace."""
        session, now = work.session, work.now
        queued = 0
        for start in range(0, len(member_ids), _CHUNK):
            chunk = list(member_ids[start : start + _CHUNK])
            consent = {
                p.member_id: p
                for p in await session.scalars(
                    select(NudgePrefs).where(
                        NudgePrefs.member_id.in_(chunk), NudgePrefs.opted_in.is_(True)
                    )
                )
            }
            seen = set(
                await session.scalars(
                    select(Nudge.member_id).where(
                        Nudge.member_id.in_(chunk), Nudge.subject == subject
                    )
                )
            )
            rows = []
            for member_id in chunk:
                prefs = consent.get(member_id)
                if prefs is None or member_id in seen:
                    continue
                wanted = kind in kinds_of(prefs)
                rows.append(
                    {
                        "workspace_id": work.ws_id,
                        "member_id": member_id,
                        "kind": kind,
                        "subject": subject,
                        "content_id": content_id,
                        "request_id": request_id,
                        "detail": detail,
                        "status": store.QUEUED if wanted else store.SUPPRESSED,
                        "reason": None if wanted else guardrails.KIND_OFF,
                        "due_at": now,
                        "created_at": now,
                    }
                )
            if not rows:
                continue
            # One multi-row INSERT ... RETURNING (executemany): a campaign to thousands is a
            # handful of statements, not one per person.
            result = await session.execute(insert(Nudge).returning(Nudge.id, Nudge.status), rows)
            for nudge_id, status in result.all():
                if status != store.QUEUED:
                    metrics.nudge(work, "suppressed", guardrails.KIND_OFF)
                    continue
                payload = SendArgs(workspace=work.workspace, nudge_id=nudge_id).model_dump_json()
                await work.enqueue(SEND, f"nudges:send:{nudge_id}", payload, now)
                queued += 1
        metrics.nudge(work, "queued", n=queued)
        return queued

    async def start_campaign(self, work: Work, args: FanoutArgs, key: str) -> None:
        """A campaign's fan-out, as one job: the command that starts it returns at once."""
        await work.enqueue(FANOUT, key, args.model_dump_json(), work.now)

    async def targeted(self, work: Work, target: Target) -> list[sources.Ambassador]:
        return [a for a in await sources.ambassadors(work.session, work.ws_id) if target.matches(a)]

    async def _fanout(self, payload: str) -> None:
        args = FanoutArgs.model_validate_json(payload)
        target = Target.parse_stored(args.targets)

        async def fan_out(work: Work) -> None:
            people = await self.targeted(work, target)
            if args.content_id is not None:
                subject, kind = f"content:{args.content_id}", "content"
            else:
                subject, kind = f"request:{args.request_id}", "requests"
            await self.queue(
                work,
                kind=kind,
                subject=subject,
                member_ids=[p.member_id for p in people],
                content_id=args.content_id,
                request_id=args.request_id,
            )

        await self.s.run_in(args.workspace, fan_out)

    # ----- the send job -----------------------------------------------------------------------

    async def _send(self, payload: str) -> None:
        args = SendArgs.model_validate_json(payload)

        async def decide(work: Work) -> guardrails.Decision | None:
            return await self._decide(work, args.nudge_id)

        decision = await self.s.run_in(args.workspace, decide)
        if decision is not None and decision.until is not None:
            raise Defer(decision.until, decision.reason or "")

    async def _decide(self, work: Work, nudge_id: int) -> guardrails.Decision | None:
        session, now = work.session, work.now
        # The person's consent row first, locked: their nudges are decided one at a time, so
        # two due together cannot both pass the cap.
        row = await store.nudge(session, nudge_id)
        if row is None:
            return None
        prefs = await store.prefs(session, row.member_id, lock=True)
        nudge = await store.nudge(session, nudge_id)
        if nudge is None or nudge.status in (store.SENT, store.SUPPRESSED):
            return None
        member = await ws_store.get_member_by_id(session, nudge.member_id)
        if member is None:
            return None
        if nudge.response is not None:  # answered (e.g. `content shared`) before it went out
            decision = guardrails.Decision(False, None, guardrails.ACTED)
        elif not await sources.is_ambassador(session, member.id):
            decision = guardrails.Decision(False, None, NOT_AMBASSADOR)
        else:
            tz = calendar.zone(member.tz, self.s.settings.default_timezone)
            hours = await sources.hours_of(session, member.id, tz)
            settings = await store.settings(session, work.ws_id)
            consent = None
            if prefs is not None:
                consent = Consent(
                    opted_in=prefs.opted_in,
                    kinds=kinds_of(prefs),
                    cap=guardrails.effective_cap(prefs.cap, settings.cap if settings else None),
                    paused_until=prefs.paused_until,
                )
            recent = await store.recent_sent(session, member.id)
            decision = guardrails.decide(
                kind=nudge.kind,
                consent=consent,
                relevant=await self._relevant(work, nudge),
                hours=hours,
                now=now,
                sent_this_week=await store.sent_since(
                    session, member.id, guardrails.week_start(now, hours)
                ),
                last_sent_at=recent[0].sent_at if recent else None,
                recent_responses=[n.responded_at for n in recent],
            )
        if decision.send:
            message = await self._message(work, nudge)
            if message is None:
                decision = guardrails.Decision(False, None, guardrails.IRRELEVANT)
            else:
                nudge.status, nudge.reason, nudge.sent_at = store.SENT, None, now
                await work.send(
                    f"nudge:{nudge.id}",
                    Outbound(
                        target=ToUser(user=UserRef(work.workspace, member.external_id)),
                        message=message,
                        key=f"nudge:{nudge.id}",
                    ),
                )
                metrics.nudge(work, "sent", nudge.kind)
                return decision
        metrics.nudge(work, "suppressed" if decision.dropped else "deferred", decision.reason)
        if decision.dropped:
            nudge.status, nudge.reason = store.SUPPRESSED, decision.reason
        else:
            assert decision.until is not None
            nudge.status, nudge.reason, nudge.due_at = (
                store.DEFERRED,
                decision.reason,
                decision.until,
            )
        return decision

    async def _relevant(self, work: Work, nudge: Nudge) -> bool:
        session = work.session
        kind, _, ref = nudge.subject.partition(":")
        if kind == "question":
            return await sources.question_open(session, int(ref))
        if kind == "training":
            return not await sources.step_done(session, nudge.member_id, int(ref))
        if kind == "checkin":
            # Still inactive: nothing happened since the stretch this check-in is about.
            latest = await self._activity(work, nudge.member_id)
            return latest is None or latest.date().isoformat() <= ref
        if kind == "request":
            req = await session.get(NudgeRequest, nudge.request_id) if nudge.request_id else None
            return req is not None and req.status == "approved"
        return True

    async def _activity(self, work: Work, member_id: int) -> datetime | None:
        people = await sources.ambassadors(work.session, work.ws_id, [member_id])
        return (await sources.last_activity(work.session, people)).get(member_id)

    async def _message(self, work: Work, nudge: Nudge) -> Message | None:
        session = work.session
        kind, _, ref = nudge.subject.partition(":")
        if kind == "content" and nudge.content_id is not None:
            item = await session.get(NudgeContent, nudge.content_id)
            if item is None:
                return None
            url = await links.tracked(
                session,
                workspace_id=work.ws_id,
                nudge_id=nudge.id,
                url=item.url,
                public_url=self.s.settings.public_url,
                now=work.now,
            )
            return say.content_nudge(
                nudge.id,
                item.number,
                item.title,
                item.text,
                links.share_links(url, item.title, item.text),
            )
        if kind == "request" and nudge.request_id is not None:
            req = await session.get(NudgeRequest, nudge.request_id)
            if req is None:
                return None
            requester = await ws_store.get_member_by_id(session, req.requester_id)
            team = (requester.team if requester and requester.team else None) or (
                requester.display_name if requester and requester.display_name else "another team"
            )
            return say.request_nudge(nudge.id, req.number, team, req.text)
        if kind == "question":
            q = await sources.question(session, int(ref))
            if q is None:
                return None
            return say.question_nudge(nudge.id, q.number, q.topic, q.text, q.link)
        if kind == "training":
            step = await sources.step(session, int(ref))
            if step is None:
                return None
            return say.training_nudge(nudge.id, step.position, step.title, step.link)
        if kind == "checkin":
            settings = await store.settings(session, work.ws_id)
            return say.checkin_nudge(nudge.id, (settings.checkin_weeks if settings else None) or 4)
        return None

    # ----- answers (buttons and their commands) -----------------------------------------------

    async def respond(
        self, work: Work, nudge: Nudge, response: str, note: str | None = None
    ) -> bool:
        """Records the person's answer to a nudge; False when it was answered before. A nudge
        not sent yet is not sent at all, and a sent one loses its buttons."""
        if nudge.response is not None:
            return False
        nudge.response, nudge.response_note, nudge.responded_at = response, note, work.now
        metrics.nudge(work, "answered", response)
        if nudge.status in (store.QUEUED, store.DEFERRED):
            nudge.status, nudge.reason = store.SUPPRESSED, guardrails.ACTED
            await self.s.scheduler.cancel(work.session, work.ws_id, f"nudges:send:{nudge.id}")
        elif nudge.status == store.SENT:
            message = await self._message(work, nudge)
            if message is not None:
                done = {
                    store.SHARED: "✅ You shared it: thank you!",
                    store.SKIPPED: "Not for you: noted, thanks for saying.",
                    store.SNOOZED: "😴 Snoozed.",
                    store.STOPPED: "🛑 Stopped: no more of these.",
                }.get(response, "Done.")
                await work.edit(f"nudge:{nudge.id}", say.answered(message, done), because=response)
        return True

    async def member(self, work: Work, member_id: int) -> Member | None:
        return await ws_store.get_member_by_id(work.session, member_id)
