"""`allybot serve` as a process: it starts, answers /healthz, delivers through its worker."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from adapters.workers import run_workers
from bot.core import Allybot
from tests.fakes import FakeSlackApi, slack_signed_headers
from tests.serve_support import free_port as _free_port
from tests.serve_support import kudos_form, serve_env, wait_healthy
from tests.slack_support import SECRET


@pytest.mark.parametrize("worker", ["auto", "inline"])
async def test_serve_process_handles_a_command_and_delivers(
    tmp_path: Path, fake_slack: FakeSlackApi, worker: str
) -> None:
    """`auto`: the worker processes deliver; `inline`: the workers inside the server do."""
    fake_slack.add_user("U1", "Ana")
    fake_slack.add_user("U2", "Bo")
    port = _free_port()
    env = serve_env(tmp_path, port, fake_slack)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "adapters.cli",
        "serve",
        "--worker",
        worker,
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            assert (await wait_healthy(http, base))["platforms"] == ["slack"]
            body = kudos_form("t-serve", channel="C1")
            headers = slack_signed_headers(
                SECRET, body, content_type="application/x-www-form-urlencoded"
            )
            async with http.post(f"{base}/slack/events", data=body, headers=headers) as resp:
                assert resp.status == 200
                assert "Kudos sent" in (await resp.json())["text"]
        # The worker inside the server delivers the DM without being asked.
        calls = await fake_slack.wait_for(
            "chat.postMessage", predicate=lambda c: c.args.get("channel") == "U2", timeout=10
        )
        assert "gave you kudos" in calls[0].args["text"]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(proc.wait(), timeout=15)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def test_a_worker_loop_that_dies_ends_the_worker_for_its_door_to_restart(
    core: Allybot, caplog: pytest.LogCaptureFixture
) -> None:
    """A loop that raised used to leave `allybot worker` idle and alive, so its door never
    started it again (adapters/workers.py `run_workers`)."""
    assert core.inbox is not None

    async def broken(stop: asyncio.Event) -> None:  # a bug in the loop, injected
        raise ValueError("boom")

    core.inbox.run_forever = broken  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="a worker loop died"):
        await asyncio.wait_for(run_workers(core, asyncio.Event(), grace=1), timeout=5)
    assert "the inbox-workers loop died" in caplog.text
