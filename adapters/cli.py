"""The `allybot` command and composition root: settings -> store -> core -> adapters."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from bot.settings import Settings

log = logging.getLogger("allybot")


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        lines = ["Allybot can't start: the configuration is not valid."]
        for err in exc.errors():
            name = ".".join(str(p) for p in err["loc"]) or "settings"
            lines.append(f"  {name.upper()}: {err['msg']} (got {err.get('input')!r})")
        raise SystemExit("\n".join(lines)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="allybot",
        description="Recognition, expert routing and feedback for your community, "
        "on Slack, Microsoft Teams or a local console.",
    )
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the HTTP server for Slack and Teams")
    serve.add_argument("--no-migrate", action="store_true", help="don't apply migrations first")
    serve.add_argument(
        "--worker",
        choices=["auto", "process", "split", "inline", "external"],
        default="auto",
        help="where events and jobs are applied: a worker process this one starts (process), "
        "two (split: events, and jobs), this process, or `allybot worker` processes you run "
        "yourself; auto (the default) is process on SQLite, split on PostgreSQL",
    )
    worker = sub.add_parser(
        "worker", help="apply the inbox's events and run the jobs (serve starts one itself)"
    )
    worker.add_argument("--no-migrate", action="store_true", help="don't apply migrations first")
    worker.add_argument(
        "--only", choices=["inbox", "jobs"], default=None, help="run only the inbox or the jobs"
    )
    worker.add_argument("--from-door", action="store_true", help=argparse.SUPPRESS)
    console = sub.add_parser("console", help="chat with Allybot in a simulated workspace")
    console.add_argument("--script", type=Path, help="replay a script and print the transcript")
    console.add_argument("--as", dest="as_user", default=None, help="start as this person")
    console.add_argument("--no-migrate", action="store_true", help="don't apply migrations first")
    sub.add_parser("status", help="the inbox's depth and oldest event, and the jobs by status")
    db = sub.add_parser("db", help="database migrations")
    db.add_argument("action", choices=["upgrade", "current"])
    manifest = sub.add_parser("manifest", help="app manifests")
    manifest_sub = manifest.add_subparsers(dest="platform", required=True)
    teams = manifest_sub.add_parser("teams", help="build the Teams app package (zip)")
    teams.add_argument("--app-id", required=True, help="the bot's Microsoft App ID (a GUID)")
    teams.add_argument("--out", type=Path, default=Path("allybot-teams.zip"))
    teams.add_argument("--domain", default=None, help="the host name the bot is served from")
    manifest_sub.add_parser("slack", help="print the Slack app manifest (YAML)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "manifest":
        return _manifest(args)
    settings = _settings()
    command = args.command
    interactive = command in (None, "console") and not (
        settings.slack_configured or settings.teams_configured
    )
    from bot import logs

    # The console's transcript is the output; logs there are for problems only.
    logs.configure(settings, quiet=interactive)
    if command == "serve" or (command is None and not interactive):
        from adapters.metrics_processes import share_with_workers

        share_with_workers()  # before anything imports prometheus_client
    if command is None:
        if settings.slack_configured or settings.teams_configured:
            command = "serve"
        else:
            print(
                "No Slack or Teams credentials are set (SLACK_BOT_TOKEN + SLACK_SIGNING_SECRET, "
                "or MICROSOFT_APP_ID), so Allybot starts its local console. "
                "See README.md to connect a platform.",
                file=sys.stderr,
            )
            command = "console"
            args.script, args.as_user, args.no_migrate = None, None, False
    try:
        if command == "db":
            return asyncio.run(_db(settings, args.action))
        if command == "status":
            from bot.bootstrap import status_report

            print(asyncio.run(status_report(settings)))
            return 0
        if command == "serve":
            if not (settings.slack_configured or settings.teams_configured):
                print(
                    "allybot serve: no platform is configured. Set SLACK_BOT_TOKEN with "
                    "SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode), and/or "
                    "MICROSOFT_APP_ID with MICROSOFT_APP_PASSWORD. Without them, try "
                    "`allybot console`.",
                    file=sys.stderr,
                )
                return 2
            return asyncio.run(
                _serve(
                    settings,
                    migrate=not getattr(args, "no_migrate", False),
                    worker=getattr(args, "worker", "auto"),
                )
            )
        if command == "worker":
            return asyncio.run(
                _worker(settings, migrate=not args.no_migrate, door=args.from_door, only=args.only)
            )
        if command == "console":
            from adapters.console.app import run_console

            return asyncio.run(
                run_console(
                    settings, script=args.script, as_user=args.as_user, migrate=not args.no_migrate
                )
            )
    except KeyboardInterrupt:
        return 130
    return 2


def _manifest(args: argparse.Namespace) -> int:
    from manifest import slack_manifest_path
    from manifest.teams_package import build_teams_package

    if args.platform == "slack":
        print(slack_manifest_path().read_text(encoding="utf-8"))
        return 0
    try:
        out = build_teams_package(args.app_id, args.out, bot_domain=args.domain)
    except ValueError as exc:
        print(f"allybot manifest teams: {exc}", file=sys.stderr)
        return 2
    print(f"Wrote {out}: upload it in Teams (Apps > Manage your apps > Upload an app).")
    return 0


async def _db(settings: Settings, action: str) -> int:
    from bot.bootstrap import schema_revision, upgrade_schema

    if action == "upgrade":
        print(f"Database is at revision {await upgrade_schema(settings)}.")
    else:
        print(await schema_revision(settings) or "empty (run: allybot db upgrade)")
    return 0


async def _serve(settings: Settings, *, migrate: bool, worker: str = "auto") -> int:
    from aiohttp import web

    from adapters.runtime import (
        WORKER_STOP_MARGIN,
        WorkerProcess,
        build_runtime,
        share_door_flag,
    )

    if worker == "auto":
        # SQLite has one writer: a second worker process would mostly wait for its lock.
        worker = "process" if settings.db_url.startswith("sqlite") else "split"
    # SIGTERM (a deploy, a scale-down) and SIGINT stop gracefully, within SHUTDOWN_GRACE.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runtime = await build_runtime(settings, migrate=migrate, run_worker=worker == "inline")
    children: list[WorkerProcess] = []
    if worker in ("process", "split"):
        share_door_flag(runtime, yields=False)
    try:
        if worker == "process":
            both = WorkerProcess(["--no-migrate", "--from-door"])
            children = [both]
            await both.start()
            if runtime.core.inbox is not None:
                runtime.core.inbox.notify = both.poke
            runtime.core.scheduler.notify = both.poke
        elif worker == "split":
            # Applying events and delivering messages each get a core: the inbox's worker
            # pokes the jobs' through this door when it queued messages.
            jobs = WorkerProcess(["--no-migrate", "--from-door", "--only", "jobs"])
            inbox = WorkerProcess(["--no-migrate", "--from-door", "--only", "inbox"], jobs.poke)
            children = [inbox, jobs]
            for child in children:
                await child.start()
            if runtime.core.inbox is not None:
                runtime.core.inbox.notify = inbox.poke
            runtime.core.scheduler.notify = jobs.poke
        if runtime.socket_mode is not None:
            await runtime.socket_mode.connect_async()
        # cleanup() closes the listening socket, then gives the requests in flight this long.
        runner = web.AppRunner(runtime.app, shutdown_timeout=settings.shutdown_grace)
        await runner.setup()
        try:
            site = web.TCPSite(runner, settings.host, settings.port)
            await site.start()
            log.info(
                "Allybot listening on %s:%d (platforms: %s)",
                settings.host,
                settings.port,
                ", ".join(sorted(runtime.core.ports)) or "none",
            )
            await stop.wait()
            log.info(
                "stopping: no new requests; up to %gs for those in flight, then for the workers",
                settings.shutdown_grace,
            )
            for child in children:
                child.hold()  # one that exits now (a SIGINT to the group) stays stopped
            await runtime.close_socket_mode()
        finally:
            await runner.cleanup()
    finally:
        # The workers finish the event or job they run, or release it, then exit; every event
        # acknowledged is in the inbox already, so nothing waits on them but the exit.
        grace = settings.shutdown_grace + WORKER_STOP_MARGIN
        await asyncio.gather(*(child.stop(grace) for child in children))
        await runtime.close()
    log.info("stopped")
    return 0


async def _worker(settings: Settings, *, migrate: bool, door: bool, only: str | None) -> int:
    from adapters.runtime import build_runtime, serve_worker

    runtime = await build_runtime(
        settings, migrate=migrate, run_worker=False, check_platforms=False
    )
    try:
        await serve_worker(
            runtime, from_door=door, inbox=only in (None, "inbox"), jobs=only in (None, "jobs")
        )
    finally:
        await runtime.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
