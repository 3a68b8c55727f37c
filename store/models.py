"""Relational schema. Every domain row is scoped to a workspace (platform + workspace/tenant id)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
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


class KudosScoreCount(Base):
    """How many people have each score (a kudos_totals count above zero) on each board: a rank is
    one plus the people above, summed over the few hundred scores of a board instead of counted
    person by person (100,000 on an all-time board). Opted-out people are counted too, so that a
    kudos never needs anyone's preferences; the rank takes off the few of them who are above.
    Kept by store.recognition.add_to_totals, in the statement pair that changes the totals."""

    __tablename__ = "kudos_score_counts"
    workspace_id: Mapped[int] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    period: Mapped[str] = mapped_column(String(8), primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    value: Mapped[str] = mapped_column(String(64), primary_key=True)
    direction: Mapped[str] = mapped_column(String(8), primary_key=True)  # received | given
    score: Mapped[int] = mapped_column(Integer, primary_key=True)
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
        Index("ix_inbox_partition_id", "partition", "id"),
    )
