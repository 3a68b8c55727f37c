"""The composition root: settings -> store -> kernel services -> capabilities, in dependency
order. `allybot serve`, the console and the tests all build the bot here.

Adding a capability is one package under bot/ with its `capability.py`, and one line below.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta

from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bot import workspace
from bot.ambassadors import capability as ambassadors
from bot.capability import Capability, check
from bot.clock import Clock, SystemClock
from bot.commands import Subcommand
from bot.core import Allybot
from bot.delivery import Delivery
from bot.directory import Directory
from bot.feedback import capability as feedback
from bot.kudos import capability as kudos
from bot.nudges import capability as nudges
from bot.ports import ChatPort
from bot.recognition import capability as recognition
from bot.roles import Roles
from bot.routing import capability as routing
from bot.scheduler import Scheduler
from bot.services import Services
from bot.settings import Settings
from bot.work import UnitOfWork
from store import Database
from store import inbox as inbox_store
from store import jobs as job_store
from store import migrate as _migrate

__all__ = [
    "Database",
    "bootstrap",
    "open_database",
    "schema_head",
    "schema_revision",
    "status_report",
    "upgrade_schema",
]


async def upgrade_schema(settings: Settings) -> str | None:
    """Applies the migrations; returns the revision the database is at."""
    await _migrate.upgrade(settings.db_url)
    return await _migrate.current(settings.db_url)


async def schema_revision(settings: Settings) -> str | None:
    return await _migrate.current(settings.db_url)


def schema_head() -> str | None:
    """The revision this code's migrations end at."""
    return _migrate.head()


async def open_database(settings: Settings, *, migrate: bool = True) -> Database:
    """The configured store, migrated first unless ALLYBOT_AUTO_MIGRATE is off."""
    if migrate and settings.auto_migrate:
        await _migrate.upgrade(settings.db_url)
    return Database(settings.db_url, pool_size=settings.database_pool_size)


async def status_report(settings: Settings, clock: Clock | None = None) -> str:
    """What `allybot status` prints: the inbox's depth and oldest age, and the jobs by status."""
    clock = clock or SystemClock()
    url = make_url(settings.db_url)
    if url.get_backend_name() == "sqlite" and url.database and not os.path.exists(url.database):  # noqa: ASYNC240 (one stat, at the CLI)
        return (
            f"There is no database at {url.database} yet: start the bot or run allybot db upgrade."
        )
    try:
        revision = await _migrate.current(settings.db_url)
    except OperationalError as exc:  # e.g. no database file, no server
        return f"The database can't be opened ({exc.orig}); check DATABASE_URL or DATA_DIR."
    if revision is None:
        return "The database has no schema yet: run `allybot db upgrade` (or start the bot)."
    db = Database(settings.db_url)
    try:
        async with db.transaction() as session:
            depth = await inbox_store.depth(session)
            jobs = await job_store.count_by_status(session)
    finally:
        await db.dispose()
    age = (
        "none" if depth.oldest is None else f"{(clock.now() - depth.oldest).total_seconds():.1f} s"
    )
    lines = [
        f"Inbox: {depth.waiting} waiting (oldest: {age}), {depth.failed} failed.",
        "Jobs: "
        + (", ".join(f"{n} {status}" for status, n in sorted(jobs.items())) or "none")
        + ".",
    ]
    return "\n".join(lines)


def bootstrap(
    settings: Settings,
    db: Database | None = None,
    ports: Mapping[str, ChatPort] | None = None,
    clock: Clock | None = None,
) -> Allybot:
    clock = clock or SystemClock()
    db = db or Database(settings.db_url, pool_size=settings.database_pool_size)
    live_ports: dict[str, ChatPort] = dict(ports or {})
    scheduler = Scheduler(db, clock, platforms=live_ports)  # claims only what it can run
    directory = Directory(db, clock, live_ports, settings.default_timezone)
    delivery = Delivery(db, clock, scheduler, live_ports)
    uow = UnitOfWork(db, clock, directory, delivery, scheduler, settings.default_timezone)
    services = Services(settings, db, clock, live_ports, directory, scheduler, delivery, uow)
    roles = Roles(services)

    # The capabilities, each after the ones it builds on (their order is also help's order).
    workspace_cap, config = workspace.build(services, roles)
    kudos_cap, kudos_service = kudos.build(services)
    recognition_cap, recognition_service = recognition.build(services, roles, kudos_service)
    capabilities = [
        kudos_cap,
        workspace_cap,
        recognition_cap,
        feedback.build(services, roles)[0],
        routing.build(services, roles, kudos_service, recognition_service)[0],
        ambassadors.build(services, roles, recognition_service)[0],
        nudges.build(services, roles)[0],
    ]

    config.settings = [s for cap in capabilities for s in cap.settings]
    workspace_cap.commands.append(
        Subcommand(
            "config",
            config.usage(),
            "Workspace settings (admins only).",
            workspace.CONFIG_EXAMPLES,
            config.command,
        )
    )
    core = assemble(services, capabilities)
    admins = workspace.Admins(services, roles)
    scheduler.on_give_up = admins.job_gave_up
    # A platform refusing the bot itself: told once an hour per workspace and reason.
    delivery.on_rejected = admins.platform_rejected
    scheduler.register_payload(workspace.PLATFORM_ALERT, admins.platform_alert)
    if core.inbox is not None:
        core.inbox.on_backlog = admins.inbox_backlog
        core.inbox.lease = timedelta(seconds=settings.inbox_lease_seconds)
    return core


def assemble(services: Services, capabilities: list[Capability]) -> Allybot:
    """Checks the declarations and wires them into the kernel: job kinds on the scheduler,
    follow-up subscriptions on the unit of work, everything else on the dispatcher."""
    check(capabilities)
    for cap in capabilities:
        for kind, handler in cap.jobs.items():
            services.scheduler.register_payload(kind, handler)
        for event_type, follow_up in cap.follow_ups:
            services.uow.subscribe(event_type, follow_up)
    return Allybot(services, capabilities)
