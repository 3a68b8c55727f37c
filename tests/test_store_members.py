"""Members' profiles in the store (store/workspaces.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from bot.clock import ManualClock
from store import Database
from store import workspaces as ws_store
from tests.helpers import console_workspace


async def test_profiles_written_together_keep_what_they_do_not_say(
    db: Database, clock: ManualClock
) -> None:
    """`upsert_profiles`: new members are added, known ones updated, and a field given as
    None (or "") keeps what was stored."""
    ws_id = await console_workspace(db, clock)
    async with db.transaction() as session:
        await ws_store.upsert_profile(
            session,
            ws_id,
            "U2",
            display_name="Old Name",
            tz="Europe/Paris",
            is_bot=False,
            refreshed_at=None,
            now=clock.now(),
        )
    async with db.transaction() as session:
        rows = await ws_store.upsert_profiles(
            session,
            ws_id,
            [
                ws_store.ProfileWrite("U2", "", None, True, clock.now()),
                ws_store.ProfileWrite("U1", "New", "Asia/Tokyo", False, None),
            ],
            clock.now(),
        )
        assert await ws_store.upsert_profiles(session, ws_id, [], clock.now()) == {}
    assert sorted(rows) == ["U1", "U2"]
    assert (rows["U2"].display_name, rows["U2"].tz, rows["U2"].is_bot) == (
        "Old Name",
        "Europe/Paris",
        True,
    )
    assert rows["U2"].profile_refreshed_at is not None
    assert (rows["U1"].display_name, rows["U1"].tz, rows["U1"].is_bot) == (
        "New",
        "Asia/Tokyo",
        False,
    )
    assert rows["U1"].profile_refreshed_at is None
    async with db.transaction() as session:
        again = await ws_store.find_members(session, ws_id, ["U1", "U2"])
    assert again == rows
