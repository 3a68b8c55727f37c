"""Relational schema. Every domain row is scoped to a workspace (platform + workspace/tenant id)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC; SQLite drops the offset, so it is restored on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Deterministic constraint names keep Alembic migrations portable between SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT.
Id = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Workspace(Base):
    __tablename__ = "workspaces"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (UniqueConstraint("platform", "external_id"),)


class WorkspaceSettings(Base):
    """Per-workspace overrides of the deployment-wide defaults; NULL means 'use the default'."""

    __tablename__ = "workspace_settings"
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    kudos_daily_allowance: Mapped[int | None] = mapped_column(Integer)
    kudos_channel: Mapped[str | None] = mapped_column(String(128))
    recognition_channel: Mapped[str | None] = mapped_column(String(128))
    timezone: Mapped[str | None] = mapped_column(String(64))  # periods of leaderboards
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class KudosReactionSetting(Base):
    """Reactions that count as kudos in a workspace; when present they replace the defaults."""

    __tablename__ = "kudos_reaction_settings"
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    reaction: Mapped[str] = mapped_column(String(100), primary_key=True)


class Member(Base):
    """A person (or bot) as seen by the bot, with a cached profile from the platform."""

    __tablename__ = "members"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str | None] = mapped_column(String(200))
    tz: Mapped[str | None] = mapped_column(String(64))
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    team: Mapped[str | None] = mapped_column(String(100))
    profile_refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (UniqueConstraint("workspace_id", "external_id"),)


class DirectRoute(Base):
    """How to reach a person privately later (Teams needs a stored conversation reference).

    `address` is opaque here: the platform's adapter encodes and reads it."""

    __tablename__ = "direct_routes"
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    address: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProcessedEvent(Base):
    """Deduplication of platform deliveries: written in the same transaction as the effect."""

    __tablename__ = "processed_events"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (UniqueConstraint("workspace_id", "event_id"),)


class Kudos(Base):
    __tablename__ = "kudos"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    giver_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    reason: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(20))  # command | reaction | message_action
    # Natural key of what was thanked: "msg:<conversation>:<message>" or "cmd:<event id>".
    source_key: Mapped[str] = mapped_column(String(600))
    conversation_id: Mapped[str | None] = mapped_column(String(400))
    message_id: Mapped[str | None] = mapped_column(String(200))
    message_link: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    __table_args__ = (
        UniqueConstraint("workspace_id", "giver_id", "recipient_id", "source_key"),
        Index("ix_kudos_giver_created", "giver_id", "created_at"),
        Index("ix_kudos_recipient_created", "recipient_id", "created_at"),
    )


class KudosValue(Base):
    __tablename__ = "kudos_values"
    kudos_id: Mapped[int] = mapped_column(
        ForeignKey("kudos.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[str] = mapped_column(String(64), primary_key=True)


class KudosReaction(Base):
    """Which reactions hold a reaction-kudos in place; it is taken back when the last one goes."""

    __tablename__ = "kudos_reactions"
    kudos_id: Mapped[int] = mapped_column(
        ForeignKey("kudos.id", ondelete="CASCADE"), primary_key=True
    )
    reaction: Mapped[str] = mapped_column(String(100), primary_key=True)


class SentMessage(Base):
    """A message the bot posted, named by a key so it can be edited later or recognised."""

    __tablename__ = "sent_messages"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    conversation_id: Mapped[str] = mapped_column(String(400))
    message_id: Mapped[str] = mapped_column(String(200))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (
        UniqueConstraint("workspace_id", "key"),
        Index("ix_sent_messages_message", "workspace_id", "conversation_id", "message_id"),
    )


class Job(Base):
    """Durable work for later: deliveries now; reminders, escalations and nudges later.

    `payload` holds the job's arguments (a serialised outbound message for deliveries), not domain
    data, which stays in the relational tables above.
    """

    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(300))  # idempotency key, unique per workspace
    payload: Mapped[str] = mapped_column(Text)
    # pending | running | done | failed | cancelled
    status: Mapped[str] = mapped_column(String(12))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Attempts spent: counted when claimed, given back when the run ends in a deferral or a
    # rate limit (bot/scheduler.py), so only real failures and crashes use them up.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The current run's lease: random, set at claim; a run's outcome is written only while its
    # token is still on the row (a worker whose lease was taken over changes nothing).
    lease_token: Mapped[str | None] = mapped_column(String(32))
    # Which platform's port must run it (deliveries); NULL: any replica may.
    platform: Mapped[str | None] = mapped_column(String(16))
    # The paced lane it sends on (bot/pacing.py; `Lane` below), and the lane of its whole
    # workspace, which every send there also counts in; NULL: not paced.
    lane: Mapped[str | None] = mapped_column(String(400))
    lane_group: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    __table_args__ = (
        UniqueConstraint("workspace_id", "key"),
        # The claim's order (due_at, id) within the pending jobs, so a claim reads only the
        # head of the queue whatever the planner's statistics say.
        Index("ix_jobs_claim", "status", "due_at", "id"),
        Index("ix_jobs_status_lease", "status", "locked_until"),
    )


class Lane(Base):
    """A paced lane's next allowed send (bot/pacing.py). No row means the lane is idle; rows
    long past are pruned."""

    __tablename__ = "lanes"
    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    next_at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (Index("ix_lanes_next_at", "next_at"),)


class Role(Base):
    """admin | community_manager | curator; everyone else is a member."""

    __tablename__ = "roles"
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    granted_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (Index("ix_roles_workspace_role", "workspace_id", "role"),)


class MemberCounter(Base):
    """Counters badge rules read (kudos_received, kudos_given, people_thanked, ...), kept
    up to date in the transaction of the event that changes them."""

    __tablename__ = "member_counters"
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    counter: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class ThankedPair(Base):
    """Who has thanked whom at least once: makes 'distinct people thanked' a cheap counter."""

    __tablename__ = "thanked_pairs"
    giver_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )


class KudosTotal(Base):
    """Kudos received and given per person per period (week, month, quarter, all time) and per
    value ('' for all values): leaderboards read the top of an index instead of counting."""

    __tablename__ = "kudos_totals"
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    period: Mapped[str] = mapped_column(String(8), primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    value: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    received: Mapped[int] = mapped_column(Integer, default=0)
    given: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (
        Index(
            "ix_kudos_totals_received",
            "workspace_id",
            "period",
            "period_start",
            "value",
            "received",
            "member_id",
        ),
        Index(
            "ix_kudos_totals_given",
            "workspace_id",
            "period",
            "period_start",
            "value",
            "given",
            "member_id",
        ),
        # One person's rows: their top values and all-time totals (profile, kudos stats), and
        # the ON DELETE CASCADE from members, which would otherwise scan the whole table.
        Index("ix_kudos_totals_member", "member_id", "period", "value"),
    )


SCORE_SHARDS = 8  # rows per score count (KudosScoreCount): few to sum, rarely two units on one


class KudosScoreCount(Base):
    """How many people have each score (a kudos_totals count above zero) on each board: a rank is
    one plus the people above, summed over the few hundred scores of a board instead of counted
    person by person (100,000 on an all-time board). Opted-out people are counted too, so that a
    kudos never needs anyone's preferences; the rank takes off the few of them who are above.
    Kept by store.recognition.add_to_totals, in the statement pair that changes the totals.

    Each count is split over SCORE_SHARDS rows by member id (one person's moves always go to one
    of them; a rank sums them all anyway). Unsplit, every newcomer's first kudos added to the
    same `score = 1` row, and on PostgreSQL the units applying kudos side by side queued for
    its lock, each until the one ahead had committed: a fifth of the inbox worker's rate
    (benchmarks/ingest.py)."""

    __tablename__ = "kudos_score_counts"
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    period: Mapped[str] = mapped_column(String(8), primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    value: Mapped[str] = mapped_column(String(64), primary_key=True)
    direction: Mapped[str] = mapped_column(String(8), primary_key=True)  # received | given
    score: Mapped[int] = mapped_column(Integer, primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True, server_default="0")
    people: Mapped[int] = mapped_column(Integer, default=0)


class Badge(Base):
    __tablename__ = "badges"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(80))
    emoji: Mapped[str] = mapped_column(String(100))
    image_url: Mapped[str | None] = mapped_column(String(1000))
    description: Mapped[str] = mapped_column(Text)
    how_earned: Mapped[str] = mapped_column(Text)
    repeatable: Mapped[bool] = mapped_column(Boolean, default=False)
    citation_required: Mapped[bool] = mapped_column(Boolean, default=True)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (UniqueConstraint("workspace_id", "slug"),)


class BadgeRule(Base):
    """Awards a badge when a counter reaches a threshold (each multiple, if repeatable)."""

    __tablename__ = "badge_rules"
    badge_id: Mapped[int] = mapped_column(
        ForeignKey("badges.id", ondelete="CASCADE"), primary_key=True
    )
    counter: Mapped[str] = mapped_column(String(40))
    threshold: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (Index("ix_badge_rules_counter", "counter"),)


class BadgeAward(Base):
    __tablename__ = "badge_awards"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    badge_id: Mapped[int] = mapped_column(ForeignKey("badges.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    # Idempotency: "rule" / "rule:<n>" for rule awards, "manual:<event id>" for manual ones.
    award_key: Mapped[str] = mapped_column(String(240))
    citation: Mapped[str] = mapped_column(Text)
    awarded_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))  # None: a rule
    awarded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (
        UniqueConstraint("badge_id", "member_id", "award_key"),
        Index("ix_badge_awards_member", "member_id", "awarded_at"),
        Index("ix_badge_awards_workspace_time", "workspace_id", "awarded_at"),
    )


class MemberPreference(Base):
    __tablename__ = "member_preferences"
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    leaderboard_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    announce_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set once the person has opened the bot's home tab: only then is it kept fresh.
    home_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RewardPreference(Base):
    """What recognition means to a person: kinds from a fixed list, plus free text."""

    __tablename__ = "reward_preferences"
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    note: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConsoleChannel(Base):
    """The console adapter's simulated platform: its channels and their history."""

    __tablename__ = "console_channels"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    is_direct: Mapped[bool] = mapped_column(Boolean, default=False)
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)


class ConsoleMessage(Base):
    __tablename__ = "console_messages"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("console_channels.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    thread_id: Mapped[int | None] = mapped_column(Integer)
    visible_to: Mapped[str | None] = mapped_column(String(100))  # ephemeral messages
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConsoleReaction(Base):
    __tablename__ = "console_reactions"
    message_id: Mapped[int] = mapped_column(
        ForeignKey("console_messages.id", ondelete="CASCADE"), primary_key=True
    )
    user: Mapped[str] = mapped_column(String(100), primary_key=True)
    reaction: Mapped[str] = mapped_column(String(100), primary_key=True)


class FeedbackSettings(Base):
    """Feedback configuration per workspace; NULL means 'use the default'."""

    __tablename__ = "feedback_settings"
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    triage_channel: Mapped[str | None] = mapped_column(String(128))
    leaders_channel: Mapped[str | None] = mapped_column(String(128))
    reaction: Mapped[str | None] = mapped_column(String(100))
    aging_days: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FeedbackCategory(Base):
    """The categories curators file feedback under; when present they replace the defaults."""

    __tablename__ = "feedback_categories"
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class FeedbackCounter(Base):
    """The last short number (FB-42) given out in a workspace; bumped inside the transaction
    that files the item, so two concurrent submissions never get the same number."""

    __tablename__ = "feedback_counters"
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class FeedbackItem(Base):
    __tablename__ = "feedback_items"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)  # shown as FB-<number>
    text: Mapped[str] = mapped_column(Text)
    submitter_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))  # by reaction
    source: Mapped[str] = mapped_column(String(20))  # command | form | reaction
    # What was filed: "msg:<conversation>:<message>" for a reaction, else "<source>:<event id>".
    source_key: Mapped[str] = mapped_column(String(600))
    source_link: Mapped[str | None] = mapped_column(String(1000))
    category: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("feedback_items.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (
        UniqueConstraint("workspace_id", "number"),
        UniqueConstraint("workspace_id", "source_key"),
        Index("ix_feedback_items_status", "workspace_id", "status", "created_at"),
    )


class FeedbackVote(Base):
    """A +1, and who hears about the item's changes besides its submitter."""

    __tablename__ = "feedback_votes"
    item_id: Mapped[int] = mapped_column(
        ForeignKey("feedback_items.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FeedbackChange(Base):
    """The history of an item: every status change, assignment, category, note and merge."""

    __tablename__ = "feedback_changes"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("feedback_items.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(16))  # created|status|owner|category|note|merged
    old_value: Mapped[str | None] = mapped_column(String(200))
    new_value: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (Index("ix_feedback_changes_item", "item_id", "id"),)


# Events waiting or being applied. A literal, not parameters: only then can the planners (both)
# prove that a query's rows lie in the partial indexes below.
INBOX_LIVE = text("status IN ('pending', 'running')")


class InboxEvent(Base):
    """An inbound event acknowledged to its platform and not yet (or just) applied.

    Written at the door (many requests share one commit), applied by the inbox workers through
    the unit of work; `partition` keeps order where it matters (a reaction and its removal on
    one message). Applied rows stay a while so a platform's redelivery is a no-op at the door.
    """

    __tablename__ = "inbox"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace: Mapped[str] = mapped_column(String(300))  # "slack:T1", the platform's workspace
    event_id: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(40))  # the core event's type
    partition: Mapped[str] = mapped_column(String(600))
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))  # pending | running | done | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_token: Mapped[str | None] = mapped_column(String(32))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (
        UniqueConstraint("workspace", "event_id"),
        Index("ix_inbox_status_id", "status", "id"),
        # The claim's two look-ups, over the events not applied yet: applied ones stay a day
        # (KEEP_APPLIED), and scanned past they made every claim cost more as the day went on
        # (27 ms at 200,000 of them on PostgreSQL). The predicate is INBOX_LIVE, written out in
        # the query.
        Index("ix_inbox_live_id", "id", sqlite_where=INBOX_LIVE, postgresql_where=INBOX_LIVE),
        Index(
            "ix_inbox_live_partition_id",
            "partition",
            "id",
            sqlite_where=INBOX_LIVE,
            postgresql_where=INBOX_LIVE,
        ),
    )


# ----- routing: topics, experts, allies, help channels and questions (bot/routing) ----------


class RoutingTopic(Base):
    """A topic of a workspace's taxonomy; `keywords` are space-separated lower-case words and
    phrases joined by "_" ("single_sign_on")."""

    __tablename__ = "routing_topics"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(60))  # lower case, as typed in commands
    description: Mapped[str | None] = mapped_column(Text)
    keywords: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)


class RoutingExpert(Base):
    """An expert tag: `active` once a curator added or approved it, `nominated` while waiting
    for a curator, `declined` with the reason."""

    __tablename__ = "routing_experts"
    topic_id: Mapped[int] = mapped_column(
        ForeignKey("routing_topics.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(12))  # active | nominated | declined
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (
        Index("ix_routing_experts_member", "member_id", "status"),
        Index("ix_routing_experts_topic_status", "topic_id", "status"),
    )


class RoutingAlly(Base):
    """A person's availability, where they changed the defaults (NULL: the default)."""

    __tablename__ = "routing_allies"
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    tz: Mapped[str | None] = mapped_column(String(64))
    hours: Mapped[str | None] = mapped_column(String(11))  # "08:00-16:00"
    days: Mapped[str | None] = mapped_column(String(20))  # "0,1,2,3"
    max_open: Mapped[int | None] = mapped_column(Integer)
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RoutingFit(Base):
    """How an ally did on a topic: questions resolved (with their credit) and passes ("not my
    area"). Ranking reads it; resolutions and passes keep it up to date."""

    __tablename__ = "routing_fit"
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    topic_id: Mapped[int] = mapped_column(
        ForeignKey("routing_topics.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    passes: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (Index("ix_routing_fit_topic", "topic_id", "resolved"),)


class RoutingEvidence(Base):
    """Learned classification: a word of a question an ally resolved on a topic, counted."""

    __tablename__ = "routing_evidence"
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    word: Mapped[str] = mapped_column(String(40), primary_key=True)
    topic_id: Mapped[int] = mapped_column(
        ForeignKey("routing_topics.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    count: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (Index("ix_routing_evidence_word_count", "workspace_id", "word", "count"),)


class RoutingWord(Base):
    """Learned classification per topic: RoutingEvidence summed over allies, so that a word's
    best topics are an index range, however many questions it was in."""

    __tablename__ = "routing_words"
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    word: Mapped[str] = mapped_column(String(40), primary_key=True)
    topic_id: Mapped[int] = mapped_column(
        ForeignKey("routing_topics.id", ondelete="CASCADE"), primary_key=True
    )
    count: Mapped[int] = mapped_column(Integer, default=0)
    __table_args__ = (Index("ix_routing_words_word_count", "workspace_id", "word", "count"),)


class RoutingHelpChannel(Base):
    """A channel whose top-level messages are questions to route."""

    __tablename__ = "routing_help_channels"
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    channel_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    topics: Mapped[str] = mapped_column(Text, default="")  # topic names, space-separated
    ask_count: Mapped[int] = mapped_column(Integer, default=2)
    escalate_after: Mapped[int] = mapped_column(Integer, default=30)  # working minutes
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RoutingSettings(Base):
    """Routing configuration per workspace; NULL means 'use the default'."""

    __tablename__ = "routing_settings"
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    last_number: Mapped[int] = mapped_column(Integer, default=0)  # the last Q-n given out
    away_words: Mapped[str | None] = mapped_column(Text)  # comma-separated status words
    reminder_hours: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RoutingQuestion(Base):
    """A question: from a help channel (its message) or from `ask` (a DM), with its clocks.

    `status`: routing (queued for its first decision) | waiting (nobody on duty yet) | open
    (allies asked) | claimed | resolved. `level` counts the escalations; `credit_id` is who a
    resolution credits unless the resolver names someone (a thread replier, else the claimer).
    """

    __tablename__ = "routing_questions"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)  # shown as Q-<number>
    asker_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    source_key: Mapped[str] = mapped_column(String(600))  # "msg:<channel>:<id>" or "cmd:<event>"
    channel_id: Mapped[str | None] = mapped_column(String(128))  # None: asked with `ask`
    message_id: Mapped[str | None] = mapped_column(String(128))
    link: Mapped[str | None] = mapped_column(String(1000))
    text: Mapped[str] = mapped_column(Text)
    topic_id: Mapped[int | None] = mapped_column(
        ForeignKey("routing_topics.id", ondelete="SET NULL")
    )
    match: Mapped[str | None] = mapped_column(Text)  # why this topic, as people read it
    status: Mapped[str] = mapped_column(String(12))
    level: Mapped[int] = mapped_column(Integer, default=0)
    waits: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    credit_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    helper_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))  # who was credited
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Minutes from asking, in wall time and in working time (minutes when at least one ally
    # for the topic was on duty).
    first_response_wall: Mapped[float | None] = mapped_column(Float)
    first_response_working: Mapped[float | None] = mapped_column(Float)
    resolution_wall: Mapped[float | None] = mapped_column(Float)
    resolution_working: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (
        UniqueConstraint("workspace_id", "number"),
        UniqueConstraint("workspace_id", "source_key"),
        Index("ix_routing_questions_status", "workspace_id", "status", "created_at"),
        Index("ix_routing_questions_asker", "asker_id", "channel_id", "last_message_at"),
        Index("ix_routing_questions_message", "workspace_id", "channel_id", "message_id"),
        Index("ix_routing_questions_claimer", "claimed_by", "status"),
    )


class RoutingAsk(Base):
    """One ally asked about one question, and what they did: asked | claimed | passed |
    snoozed | lost (someone else claimed it) | closed (resolved meanwhile)."""

    __tablename__ = "routing_asks"
    question_id: Mapped[int] = mapped_column(
        ForeignKey("routing_questions.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(12))
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (Index("ix_routing_asks_member_time", "member_id", "asked_at"),)


class RoutingChange(Base):
    """A question's history: asked, routed, escalated, claimed, passed, answered, resolved."""

    __tablename__ = "routing_changes"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("routing_questions.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (Index("ix_routing_changes_question", "question_id", "id"),)


# ----- ambassador program and community governance (issue 10) ---------------------------------


class AmbassadorSettings(Base):
    """The program's per-workspace choices; NULL means the default. Also holds the last short
    number (R-7) given to a community request, bumped in the transaction that files it."""

    __tablename__ = "ambassador_settings"
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    expectations: Mapped[str | None] = mapped_column(Text)
    target_per_office: Mapped[int | None] = mapped_column(Integer)
    reminder_days: Mapped[int | None] = mapped_column(Integer)
    steps_seeded: Mapped[bool] = mapped_column(Boolean, default=False)
    last_request_number: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AmbassadorOffice(Base):
    """An office or location. `covered` is whether it had an ambassador at the last roster
    change; `uncovered_since` is when it lost its last one (the weekly note reads it)."""

    __tablename__ = "ambassador_offices"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(80))  # the name, case-folded: unique per workspace
    tz: Mapped[str | None] = mapped_column(String(64))
    covered: Mapped[bool] = mapped_column(Boolean, default=False)
    uncovered_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)


class AmbassadorPerson(Base):
    """A person's place in the program: their office (anyone may have one, for the coverage
    ratio), interests, and their ambassador status with its history.

    status: NULL (just a member with an office) | pending (asked to join) | active | declined
    | former (left or removed)."""

    __tablename__ = "ambassador_people"
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    office_id: Mapped[int | None] = mapped_column(
        ForeignKey("ambassador_offices.id", ondelete="SET NULL")
    )
    interests: Mapped[str | None] = mapped_column(Text)  # space-separated themes
    status: Mapped[str | None] = mapped_column(String(12))
    why: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)  # the reason of a decline or a removal
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # "I'm in"
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (
        Index("ix_ambassador_people_status", "workspace_id", "status"),
        Index("ix_ambassador_people_office", "office_id"),
    )


class TrainingStep(Base):
    """One step of a checklist: `track` is "ambassador" or "manager" (community managers')."""

    __tablename__ = "training_steps"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    track: Mapped[str] = mapped_column(String(12))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    link: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (Index("ix_training_steps_track", "workspace_id", "track", "position"),)


class TrainingProgress(Base):
    """A person's run through one checklist; `completed_at` is set once, when the last step is
    ticked, in the same transaction that counts the training."""

    __tablename__ = "training_progress"
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    track: Mapped[str] = mapped_column(String(12), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_progress_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    __table_args__ = (Index("ix_training_progress_open", "workspace_id", "completed_at"),)


class TrainingTick(Base):
    """A step someone ticked off (gone with the step when it is removed)."""

    __tablename__ = "training_ticks"
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    step_id: Mapped[int] = mapped_column(
        ForeignKey("training_steps.id", ondelete="CASCADE"), primary_key=True
    )
    done_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CommunityRequest(Base):
    """A request for a new community channel (R-<number>).

    status: open | changes (the requester was asked to change it) | approved | declined."""

    __tablename__ = "community_requests"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    requester_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    name: Mapped[str] = mapped_column(String(80))  # the channel name, without "#"
    purpose: Mapped[str] = mapped_column(Text)
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    private_reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))
    channel_id: Mapped[str | None] = mapped_column(String(128))  # once the platform made it
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (
        UniqueConstraint("workspace_id", "number"),
        Index("ix_community_requests_name", "workspace_id", "name", "status"),
    )


class CommunityChange(Base):
    """A request's history: filed, revised, changes, approved, declined, channel."""

    __tablename__ = "community_changes"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("community_requests.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(12))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (Index("ix_community_changes_request", "request_id", "id"),)


# ----- nudges and sharing campaigns (issue 11) ------------------------------------------------


class NudgeSettings(Base):
    """Nudges' per-workspace choices (NULL: the default), and the last short numbers given to
    content items (C-4) and requests from other teams (A-3), bumped in the filing transaction."""

    __tablename__ = "nudge_settings"
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    cap: Mapped[int | None] = mapped_column(Integer)  # nudges per person per week
    checkin_weeks: Mapped[int | None] = mapped_column(Integer)
    last_content_number: Mapped[int] = mapped_column(Integer, default=0)
    last_request_number: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class NudgePrefs(Base):
    """A person's consent: opted in or not, the kinds they want, their own (lower) cap and a
    pause or snooze. No row: not opted in."""

    __tablename__ = "nudge_prefs"
    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    opted_in: Mapped[bool] = mapped_column(Boolean, default=False)
    kinds: Mapped[str] = mapped_column(String(200), default="")  # space-separated
    cap: Mapped[int | None] = mapped_column(Integer)
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (Index("ix_nudge_prefs_workspace", "workspace_id", "opted_in"),)


class NudgeContent(Base):
    """Something to share (C-<number>): a URL, a title, a suggested text and who it is for
    (`targets`: space-separated `interest:NAME` and `office:ID`; empty: every ambassador)."""

    __tablename__ = "nudge_content"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    url: Mapped[str] = mapped_column(String(2000))
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str | None] = mapped_column(Text)
    targets: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[int] = mapped_column(ForeignKey("members.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (UniqueConstraint("workspace_id", "number"),)


class NudgeRequest(Base):
    """Another team's ask of the ambassadors (A-<number>), held for a community manager.

    status: pending | approved | declined."""

    __tablename__ = "nudge_requests"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    requester_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    text: Mapped[str] = mapped_column(Text)
    targets: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    __table_args__ = (UniqueConstraint("workspace_id", "number"),)


class Nudge(Base):
    """One nudge to one person about one subject ("content:7", "question:12", ...): unique per
    person and subject, so nobody is nudged about the same thing twice.

    status: queued | deferred (by a guardrail, `reason` says which) | sent | suppressed.
    `response`: shared | skipped | snoozed | stopped | NULL (ignored, once sent)."""

    __tablename__ = "nudges"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))
    subject: Mapped[str] = mapped_column(String(80))
    content_id: Mapped[int | None] = mapped_column(
        ForeignKey("nudge_content.id", ondelete="CASCADE")
    )
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("nudge_requests.id", ondelete="CASCADE")
    )
    detail: Mapped[str | None] = mapped_column(Text)  # what the DM says (a question's text)
    status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(String(40))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    response: Mapped[str | None] = mapped_column(String(12))
    response_note: Mapped[str | None] = mapped_column(String(40))  # where it was shared
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    __table_args__ = (
        UniqueConstraint("member_id", "subject"),
        Index("ix_nudges_workspace_created", "workspace_id", "created_at"),
        Index("ix_nudges_member_sent", "member_id", "sent_at"),
        Index("ix_nudges_content", "content_id"),
    )


class NudgeLink(Base):
    """A redirect token (`GET /r/TOKEN`) tied to one nudge: one ambassador and one item. Only
    a count and the last click's time are kept, never who clicked."""

    __tablename__ = "nudge_links"
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    nudge_id: Mapped[int] = mapped_column(ForeignKey("nudges.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(2000))
    clicks: Mapped[int] = mapped_column(Integer, default=0)
    last_click_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    __table_args__ = (UniqueConstraint("nudge_id"),)
