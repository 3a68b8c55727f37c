"""What processing one reaction kudos costs, in SQL statements, on SQLite and PostgreSQL, and
the per-process caches that keep it low (settings, kudos emoji, badge rules, facts once
committed) following every change.

The budget counts statements, not time, so that it fails the day someone adds a query back to
the hot path; benchmarks/processing.py measures the time. When it fails, the message lists the
statements sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select

from bot.core import Allybot
from bot.events import ReactionChanged
from bot.ids import MessageRef
from bot.messages import plain_text
from bot.work import CACHE_TTL, Work
from store import workspaces as ws_store
from store.models import MemberCounter
from tests.conftest import GENERAL, WS, user
from tests.helpers import command, reaction
from tests.memory_port import MemoryPort

# Statements in the unit of work applying one warm reaction kudos (people, settings, emoji and
# rules known; the pair thanked before). SQLite: BEGIN; the event claim, sent-message look-up,
# allowance and earlier kudos (one statement), kudos, its emoji, the DM job; totals and counters
# (one statement each); score counts at the commit. No savepoint: listeners get one each only
# when one of them failed (bot/work.py), and feedback's listener reads its settings from the
# shared cache. PostgreSQL adds the people's row locks and the leaderboards' advisory locks,
# and its BEGIN is not a statement.
BUDGET = {"sqlite": 10, "postgresql": 11}


@contextmanager
def statements(core: Allybot) -> Iterator[list[str]]:
    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(" ".join(statement.split())[:100])

    engine = core.services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def say(core: Allybot, text: str, actor: str = "ana") -> str:
    reply = await core.handle(command(user(actor), text, GENERAL, core.services.clock.now()))
    await core.run_due()
    assert reply is not None
    return plain_text(reply.message.text)


async def react(
    core: Allybot, giver: str, author: str, message: str, emoji: str = "clap", added: bool = True
) -> None:
    now = core.services.clock.now()
    msg = MessageRef(GENERAL, message)
    await core.handle(reaction(user(giver), msg, user(author), now, emoji=emoji, added=added))
    await core.run_due()


async def counter(core: Allybot, uid: str, name: str) -> int:
    async with core.services.db.transaction() as session:
        member = await ws_store.get_member(
            session, await core.services.directory.workspace_id(WS), uid
        )
        assert member is not None
        value = await session.scalar(
            select(MemberCounter.value).where(
                MemberCounter.member_id == member.id, MemberCounter.counter == name
            )
        )
    return int(value or 0)


def backend(core: Allybot) -> str:
    return "sqlite" if core.services.db.is_sqlite else "postgresql"


# ----- the budget ---------------------------------------------------------------------------


async def test_two_new_people_are_written_in_one_statement(core: Allybot, port: MemoryPort) -> None:
    """A kudos between two people seen for the first time: both profiles (looked up before
    the unit) go in one INSERT ... ON CONFLICT, not one each."""
    port.add("new1", "New One", tz="Europe/Paris")
    port.add("new2", "New Two", tz="Asia/Tokyo")
    now = core.services.clock.now()
    first = reaction(user("new1"), MessageRef(GENERAL, "1700000000.000900"), user("new2"), now)
    with statements(core) as sent:
        await core.apply(first)
    member_writes = [s for s in sent if s.startswith("INSERT INTO members")]
    assert len(member_writes) == 1, "\n".join(sent)
    # That upsert locked both rows: the kudos does not ask for their locks again.
    assert not [s for s in sent if s.startswith("SELECT members.id FROM members")], "\n".join(sent)
    await core.run_due()
    assert any("New One gave you kudos" in d.text for d in port.dms_to("new2"))
    async with core.services.db.transaction() as session:
        ws_id = await core.services.directory.workspace_id(WS)
        one = await ws_store.get_member(session, ws_id, "new1")
        two = await ws_store.get_member(session, ws_id, "new2")
    assert one is not None and (one.display_name, one.tz) == ("New One", "Europe/Paris")
    assert two is not None and (two.display_name, two.tz) == ("New Two", "Asia/Tokyo")
    assert one.profile_refreshed_at is not None and not one.is_bot


async def test_a_warm_reaction_kudos_stays_within_its_statement_budget(
    core: Allybot, port: MemoryPort
) -> None:
    await react(core, "cy", "bo", "1700000000.000100")  # everything seen once: the caches warm
    await react(core, "cy", "bo", "1700000000.000200")
    now = core.services.clock.now()
    warm = reaction(user("cy"), MessageRef(GENERAL, "1700000000.000300"), user("bo"), now)
    units = core.services.uow.transactions
    with statements(core) as sent:
        await core.apply(warm)  # what an inbox worker runs for it
    assert core.services.uow.transactions - units == 1
    listing = "\n".join(sent)
    # People known and fresh: no profile write, so the kudos locks their rows (PostgreSQL).
    locks = [s for s in sent if s.startswith("SELECT members.id FROM members")]
    assert len(locks) == (backend(core) == "postgresql"), listing
    assert len(sent) <= BUDGET[backend(core)], f"{len(sent)} statements:\n{listing}"
    await core.run_due()
    assert len([d for d in port.dms_to("bo") if "Cy gave you kudos" in d.text]) == 3
    assert await counter(core, "bo", "kudos_received") == 3
    assert await counter(core, "cy", "kudos_given") == 3
    assert await counter(core, "cy", "people_thanked") == 1
    assert await counter(core, "cy", "give_streak_weeks") == 1


async def test_the_counters_read_back_are_those_written(core: Allybot) -> None:
    """Counters come back from the statement that writes them; a take-back floors at zero."""
    await react(core, "cy", "bo", "m1")
    await react(core, "cy", "dee", "m2")
    await react(core, "cy", "bo", "m3")
    assert await counter(core, "cy", "people_thanked") == 2
    assert await counter(core, "cy", "kudos_given") == 3
    await react(core, "cy", "bo", "m1", added=False)
    await react(core, "cy", "bo", "m3", added=False)
    await react(core, "cy", "bo", "m3", added=False)  # a platform retry: counted once
    assert await counter(core, "bo", "kudos_received") == 0
    assert await counter(core, "cy", "kudos_given") == 1
    assert await counter(core, "cy", "people_thanked") == 2  # thanked, even if taken back


# ----- caches follow changes ------------------------------------------------------------------


async def test_cached_emoji_and_allowance_follow_config(core: Allybot, port: MemoryPort) -> None:
    await react(core, "cy", "bo", "m1")  # 👏 counts; the emoji are cached now
    assert "Saved" in await say(core, "config kudos-reactions tada")
    await react(core, "cy", "dee", "m2")  # 👏 no longer counts
    await react(core, "cy", "dee", "m3", emoji="tada")
    assert await counter(core, "dee", "kudos_received") == 1
    assert "Saved" in await say(core, "config allowance 2")
    await react(core, "ana", "dee", "m4", emoji="tada")
    await react(core, "ana", "bo", "m5", emoji="tada")
    await react(core, "ana", "cy", "m6", emoji="tada")  # the third today: over the allowance
    assert await counter(core, "ana", "kudos_given") == 2
    assert any("used all 2 kudos" in p.text for p in port.private_to("ana"))


async def test_cached_badge_rules_follow_badge_changes(core: Allybot, port: MemoryPort) -> None:
    def awards(uid: str) -> list[str]:
        return [d.text for d in port.dms_to(uid) if "You earned" in d.text]

    await react(core, "cy", "bo", "m1")  # the rules are cached now
    assert awards("cy") == ["🏅 You earned the 👏 First thanks badge: Gave their first kudos."]
    assert "curator" in await say(core, "role add <@ana> curator")
    assert "Updated" in await say(core, 'badge edit first-kudos name "First high five"')
    await react(core, "dee", "bo", "m2")
    assert awards("dee") == ["🏅 You earned the 👏 First high five badge: Gave their first kudos."]
    assert "Retired" in await say(core, "badge retire first-kudos")
    await react(core, "bo", "cy", "m3")
    assert awards("bo") == []
    assert "Created" in await say(core, 'badge create helper "Helper" 🤝 "Was thanked twice."')
    assert "Rule saved" in await say(core, "badge rule helper kudos_received 2")
    await react(core, "dee", "cy", "m4")  # Cy's second kudos received
    assert awards("cy")[1:] == ["🏅 You earned the 🤝 Helper badge: Was thanked twice."]


async def test_another_replica_sees_a_change_within_the_cache_lifetime(
    core: Allybot, port: MemoryPort, settings: Any, clock: Any
) -> None:
    from bot.bootstrap import bootstrap

    other = bootstrap(settings, core.services.db, {port.platform: port}, clock)
    now = [0.0]
    other.services.uow.cache._clock = lambda: now[0]  # its own clock, moved by hand
    await react(other, "cy", "bo", "m1")  # the other replica caches 👏
    assert "Saved" in await say(core, "config kudos-reactions rocket")
    await react(other, "cy", "dee", "m2", emoji="rocket")  # not yet seen there
    assert await counter(core, "dee", "kudos_received") == 0
    now[0] += CACHE_TTL + 1
    await react(other, "cy", "dee", "m3", emoji="rocket")
    assert await counter(core, "dee", "kudos_received") == 1


async def test_a_unit_of_work_that_rolls_back_shares_nothing_it_read_of_its_change(
    core: Allybot,
) -> None:
    kudos = core.services.uow  # the kernel alone: a change read back, then a failure
    service = next(cap for cap in core.capabilities if cap.name == "kudos").on_reaction[0]
    reactions = service.__self__.reactions  # type: ignore[attr-defined]
    remembered: list[str] = []

    async def change_then_fail(work: Work) -> None:
        await ws_store.set_kudos_reactions(work.session, work.ws_id, ["tada"])
        work.settings_changed()
        assert await reactions(work) == ["tada"]  # its own, uncommitted, version
        work.on_commit(lambda: remembered.append("committed"))
        raise RuntimeError("something after the change failed")

    async def read(work: Work) -> list[str]:
        return list(await reactions(work))

    before = await kudos.run(WS, read)
    with pytest.raises(RuntimeError):
        await kudos.run(WS, change_then_fail)
    assert await kudos.run(WS, read) == before
    assert remembered == []


async def test_a_failing_listener_forgets_what_it_would_have_remembered(core: Allybot) -> None:
    uow = core.services.uow
    remembered: list[str] = []

    async def listener_fails(work: Work) -> None:
        work.on_commit(lambda: remembered.append("kept"))

        async def broken() -> None:
            work.on_commit(lambda: remembered.append("undone"))
            raise RuntimeError("a bug in some listener")

        await uow.isolated(work, "broken", broken)

    await uow.run(WS, listener_fails)
    assert remembered == ["kept"]


async def test_a_listener_that_wrote_then_failed_is_undone_and_the_others_still_apply(
    core: Allybot, port: MemoryPort
) -> None:
    # Listeners run without savepoints until one fails; then the whole unit runs again, each
    # listener in a savepoint of its own, so the failed one's write goes and the others stay.
    async def writes_then_fails(work: Work, _event: object) -> None:
        await ws_store.set_kudos_reactions(work.session, work.ws_id, ["tada"])
        raise RuntimeError("a bug after a write")

    core._listeners[ReactionChanged].insert(0, ("broken.on_reaction", writes_then_fails))
    units = core.services.uow.transactions
    await react(core, "cy", "bo", "1700000000.000400")
    assert core.services.uow.transactions - units >= 2  # the run without savepoints, then with
    assert await counter(core, "bo", "kudos_received") == 1
    assert "Cy gave you kudos" in port.dms_to("bo")[0].text
    async with core.services.db.transaction() as session:
        ws_id = await core.services.directory.workspace_id(WS)
        assert await ws_store.get_kudos_reactions(session, ws_id) != ["tada"]
