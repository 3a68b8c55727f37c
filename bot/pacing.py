"""Paced lanes: every send belongs to a lane, and a lane lets sends through at its platform's pace.

A lane is where a platform counts sends against one limit: a channel or group chat, or the DM
with one person. Keys are `<platform>:<workspace>:<conversation>` (`slack:T1:C42`,
`teams:<tenant>:<conversation>`) and `<platform>:<workspace>:@<user>` for a DM (on Slack a DM is
a channel too, but its id is only known after the first send). Every send also counts in its
workspace's lane, `<platform>:<workspace>:*`, paced where the platform has a limit per
workspace or tenant; a job is claimed only when both its lanes admit it.

A lane's whole state is one time in the store (`lanes.next_at`): the earliest moment its next
send may start. The scheduler claims a job only when its lane's `next_at` has come, and moves
`next_at` on in the same transaction, under the same lock as the job (PostgreSQL: FOR UPDATE
SKIP LOCKED on both rows; SQLite serialises writers). So the pace holds across workers and
replicas, and a worker pool can send on many lanes at once but never faster than each allows.

The rule is the generic cell rate algorithm (a token bucket kept as one timestamp): with an
interval T and a burst B, up to B sends may start together on an idle lane (the last of them a
little later, JITTER_RESERVE), and after that one per T. A 429 pushes `next_at` to the time
the platform named (Retry-After), so every job on the lane waits, not only the one that hit it;
it pushes the workspace's lane too, since a platform's 429 does not say which limit was hit.

The limits (from each platform's published figures; both can change without notice, which is
what the 429 handling is for):

- Slack, chat.postMessage: "one message per second per channel", "short bursts >1 allowed":
  T = 1 s, B = 3. Slack also keeps a workspace-wide limit it does not publish: not paced, but
  a 429 holds the workspace's lane for its Retry-After, so a DM campaign backs off as a whole.
- Teams, per bot per conversation ("thread"): 7 per 1 s, 8 per 2 s, 60 per 30 s; T = 0.55 s
  with B = 4 conforms to all three (at most 5 in 1 s, 7 in 2 s, 58 in 30 s). Microsoft also
  lists 1800 per hour for a bot's chat with one person, which only a sustained flood to one
  person reaches; it is not paced. Per tenant, "50 requests per second" per app: the workspace
  lane is paced at T = 25 ms, B = 10 (at most 45 sends in a second), leaving room for the
  replies and look-ups the bot makes outside the queue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.ids import WorkspaceRef
from bot.messages import Private, Target, ToConversation, ToUser
from bot.ports import Capabilities

# How much of a burst is kept back for network jitter (at most half of it). The platform counts
# a send when it arrives and we count it when it is claimed; when one send of a busy lane took
# longer to get there than the next, the platform sees the two closer together than we spaced
# them. Keeping this much of the burst tolerance in reserve absorbs such differences up to
# 250 ms, and costs that much once per busy period of a lane, not per send.
JITTER_RESERVE = 0.25


@dataclass(frozen=True, slots=True)
class Pace:
    """At most `burst` sends at once on an idle lane, then one per `interval` seconds (the
    last send of a burst waits a little, see JITTER_RESERVE)."""

    interval: float
    burst: int = 1
    reserve: float | None = None  # None: JITTER_RESERVE, at most half the burst's tolerance

    def __post_init__(self) -> None:
        if self.interval <= 0 or self.burst < 1 or (self.reserve or 0) < 0:
            raise ValueError(f"a pace needs interval > 0, burst >= 1, reserve >= 0: {self}")

    @property
    def tolerance(self) -> timedelta:
        full = self.interval * (self.burst - 1)
        reserve = min(JITTER_RESERVE, full / 2) if self.reserve is None else self.reserve
        return timedelta(seconds=max(0.0, full - reserve))

    def admit(self, next_at: datetime, now: datetime) -> datetime | None:
        """The lane's new `next_at` when a send may start now, or None when it must wait.

        `next_at` is the GCRA's theoretical arrival time minus the burst tolerance, so "may it
        go?" is the plain comparison `next_at <= now` the claim query filters on.
        """
        if next_at > now:
            return None
        theoretical = max(next_at + self.tolerance, now)
        return theoretical + timedelta(seconds=self.interval) - self.tolerance


def pace_of(capabilities: Capabilities) -> Pace | None:
    """The pace a port asks for per lane; None when it declares none (console, tests)."""
    if capabilities.lane_interval <= 0:
        return None
    return Pace(capabilities.lane_interval, max(1, capabilities.lane_burst))


def workspace_pace_of(capabilities: Capabilities) -> Pace | None:
    """The pace a port asks for per workspace (every lane there together), or None."""
    if capabilities.workspace_interval <= 0:
        return None
    return Pace(capabilities.workspace_interval, max(1, capabilities.workspace_burst))


def workspace_lane(workspace: WorkspaceRef) -> str:
    """The lane every send in the workspace also counts in (`*`: no conversation id is)."""
    return f"{workspace.platform}:{workspace.id}:*"


def is_workspace_lane(lane: str) -> bool:
    return lane.endswith(":*")


def conversation_lane(workspace: WorkspaceRef, conversation_id: str) -> str:
    return f"{workspace.platform}:{workspace.id}:{conversation_id}"


def direct_lane(workspace: WorkspaceRef, user_id: str) -> str:
    return f"{workspace.platform}:{workspace.id}:@{user_id}"


def lane_for(workspace: WorkspaceRef, target: Target, *, ephemeral: bool = True) -> str:
    """The lane a message to `target` is counted in. A private message becomes a DM where the
    platform has no ephemerals (`ephemeral=False`), and is counted as one there."""
    if isinstance(target, ToConversation):
        return conversation_lane(workspace, target.conversation.id)
    if isinstance(target, Private) and ephemeral:
        return conversation_lane(workspace, target.conversation.id)
    if isinstance(target, ToUser | Private):
        return direct_lane(workspace, target.user.id)
    raise TypeError(f"unsupported target {target!r}")


def platform_of(lane: str) -> str:
    return lane.partition(":")[0]


class LanePacing:
    """The scheduler's lane policy (store.lanes.LanePolicy): a lane's pace is its platform's,
    looked up when the lane is claimed, so a port added later is paced from then on."""

    def __init__(
        self,
        pace_for_platform: Callable[[str], Pace | None],
        workspace_pace_for_platform: Callable[[str], Pace | None] | None = None,
    ) -> None:
        self._pace_for = pace_for_platform
        self._workspace_pace_for = workspace_pace_for_platform

    def pace(self, lane: str) -> Pace | None:
        if is_workspace_lane(lane):
            if self._workspace_pace_for is None:
                return None
            return self._workspace_pace_for(platform_of(lane))
        return self._pace_for(platform_of(lane))

    def paced(self, lane: str) -> bool:
        return self.pace(lane) is not None

    def admit(self, lane: str, next_at: datetime, now: datetime) -> datetime | None:
        pace = self.pace(lane)
        if pace is None:
            return now if next_at <= now else None
        return pace.admit(next_at, now)
