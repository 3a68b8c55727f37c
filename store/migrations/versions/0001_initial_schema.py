"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 07:22:10.012073
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "workspaces",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workspaces")),
        sa.UniqueConstraint(
            "platform", "external_id", name=op.f("uq_workspaces_platform_external_id")
        ),
    )
    op.create_table(
        "console_channels",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("is_direct", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_console_channels_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_channels")),
        sa.UniqueConstraint(
            "workspace_id", "name", name=op.f("uq_console_channels_workspace_id_name")
        ),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_jobs_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("workspace_id", "key", name=op.f("uq_jobs_workspace_id_key")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_status_due", ["status", "due_at"], unique=False)

    op.create_table(
        "kudos_reaction_settings",
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("reaction", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_kudos_reaction_settings_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id", "reaction", name=op.f("pk_kudos_reaction_settings")
        ),
    )
    op.create_table(
        "members",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("tz", sa.String(length=64), nullable=True),
        sa.Column("is_bot", sa.Boolean(), nullable=False),
        sa.Column("profile_refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_members_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
        sa.UniqueConstraint(
            "workspace_id", "external_id", name=op.f("uq_members_workspace_id_external_id")
        ),
    )
    op.create_table(
        "processed_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_processed_events_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processed_events")),
        sa.UniqueConstraint(
            "workspace_id", "event_id", name=op.f("uq_processed_events_workspace_id_event_id")
        ),
    )
    op.create_table(
        "workspace_settings",
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kudos_daily_allowance", sa.Integer(), nullable=True),
        sa.Column("kudos_channel", sa.String(length=128), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_workspace_settings_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_workspace_settings")),
    )
    op.create_table(
        "console_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "channel_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("author", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=True),
        sa.Column("visible_to", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["console_channels.id"],
            name=op.f("fk_console_messages_channel_id_console_channels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_messages")),
    )
    op.create_table(
        "direct_routes",
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("conversation_id", sa.String(length=400), nullable=False),
        sa.Column("service_url", sa.String(length=400), nullable=True),
        sa.Column("bot_id", sa.String(length=200), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_direct_routes_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_direct_routes")),
    )
    op.create_table(
        "kudos",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("giver_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "recipient_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("source_key", sa.String(length=600), nullable=False),
        sa.Column("conversation_id", sa.String(length=400), nullable=True),
        sa.Column("message_id", sa.String(length=200), nullable=True),
        sa.Column("message_link", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["giver_id"], ["members.id"], name=op.f("fk_kudos_giver_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["members.id"], name=op.f("fk_kudos_recipient_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_kudos_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kudos")),
        sa.UniqueConstraint(
            "workspace_id",
            "giver_id",
            "recipient_id",
            "source_key",
            name=op.f("uq_kudos_workspace_id_giver_id_recipient_id_source_key"),
        ),
    )
    with op.batch_alter_table("kudos", schema=None) as batch_op:
        batch_op.create_index("ix_kudos_giver_created", ["giver_id", "created_at"], unique=False)
        batch_op.create_index(
            "ix_kudos_recipient_created", ["recipient_id", "created_at"], unique=False
        )

    op.create_table(
        "console_reactions",
        sa.Column(
            "message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("user", sa.String(length=100), nullable=False),
        sa.Column("reaction", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["console_messages.id"],
            name=op.f("fk_console_reactions_message_id_console_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "message_id", "user", "reaction", name=op.f("pk_console_reactions")
        ),
    )
    op.create_table(
        "kudos_reactions",
        sa.Column("kudos_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("reaction", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["kudos_id"],
            ["kudos.id"],
            name=op.f("fk_kudos_reactions_kudos_id_kudos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("kudos_id", "reaction", name=op.f("pk_kudos_reactions")),
    )
    op.create_table(
        "kudos_values",
        sa.Column("kudos_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["kudos_id"],
            ["kudos.id"],
            name=op.f("fk_kudos_values_kudos_id_kudos"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("kudos_id", "value", name=op.f("pk_kudos_values")),
    )
    op.create_table(
        "sent_messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("conversation_id", sa.String(length=400), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("kudos_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["kudos_id"],
            ["kudos.id"],
            name=op.f("fk_sent_messages_kudos_id_kudos"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_sent_messages_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sent_messages")),
        sa.UniqueConstraint("workspace_id", "key", name=op.f("uq_sent_messages_workspace_id_key")),
    )
    with op.batch_alter_table("sent_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_sent_messages_message",
            ["workspace_id", "conversation_id", "message_id"],
            unique=False,
        )


def downgrade() -> None:

    with op.batch_alter_table("sent_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_sent_messages_message")

    op.drop_table("sent_messages")
    op.drop_table("kudos_values")
    op.drop_table("kudos_reactions")
    op.drop_table("console_reactions")
    with op.batch_alter_table("kudos", schema=None) as batch_op:
        batch_op.drop_index("ix_kudos_recipient_created")
        batch_op.drop_index("ix_kudos_giver_created")

    op.drop_table("kudos")
    op.drop_table("direct_routes")
    op.drop_table("console_messages")
    op.drop_table("workspace_settings")
    op.drop_table("processed_events")
    op.drop_table("members")
    op.drop_table("kudos_reaction_settings")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_status_due")

    op.drop_table("jobs")
    op.drop_table("console_channels")
    op.drop_table("workspaces")
