"""routing: topics, experts, allies' availability, help channels and questions (issue 9)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 23:37:25.096499
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "routing_help_channels",
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("channel_id", sa.String(length=128), nullable=False),
        sa.Column("topics", sa.Text(), nullable=False),
        sa.Column("ask_count", sa.Integer(), nullable=False),
        sa.Column("escalate_after", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_routing_help_channels_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id", "channel_id", name=op.f("pk_routing_help_channels")
        ),
    )
    op.create_table(
        "routing_settings",
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.Column("away_words", sa.Text(), nullable=True),
        sa.Column("reminder_hours", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_routing_settings_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_routing_settings")),
    )
    op.create_table(
        "routing_topics",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("keywords", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_routing_topics_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_topics")),
        sa.UniqueConstraint(
            "workspace_id", "name", name=op.f("uq_routing_topics_workspace_id_name")
        ),
    )
    op.create_table(
        "routing_allies",
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("tz", sa.String(length=64), nullable=True),
        sa.Column("hours", sa.String(length=11), nullable=True),
        sa.Column("days", sa.String(length=20), nullable=True),
        sa.Column("max_open", sa.Integer(), nullable=True),
        sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_routing_allies_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_routing_allies_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_routing_allies")),
    )
    op.create_table(
        "routing_evidence",
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("word", sa.String(length=40), nullable=False),
        sa.Column("topic_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_routing_evidence_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["routing_topics.id"],
            name=op.f("fk_routing_evidence_topic_id_routing_topics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_routing_evidence_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id", "word", "topic_id", "member_id", name=op.f("pk_routing_evidence")
        ),
    )
    op.create_index(
        "ix_routing_evidence_word_count", "routing_evidence", ["workspace_id", "word", "count"]
    )
    op.create_table(
        "routing_words",
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("word", sa.String(length=40), nullable=False),
        sa.Column("topic_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["routing_topics.id"],
            name=op.f("fk_routing_words_topic_id_routing_topics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_routing_words_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "word", "topic_id", name=op.f("pk_routing_words")),
    )
    op.create_index(
        "ix_routing_words_word_count", "routing_words", ["workspace_id", "word", "count"]
    )
    op.create_table(
        "routing_experts",
        sa.Column("topic_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column(
            "decided_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["members.id"], name=op.f("fk_routing_experts_decided_by_members")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_routing_experts_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["routing_topics.id"],
            name=op.f("fk_routing_experts_topic_id_routing_topics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_routing_experts_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("topic_id", "member_id", name=op.f("pk_routing_experts")),
    )
    op.create_index("ix_routing_experts_member", "routing_experts", ["member_id", "status"])
    op.create_index("ix_routing_experts_topic_status", "routing_experts", ["topic_id", "status"])

    op.create_table(
        "routing_fit",
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("topic_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("resolved", sa.Integer(), nullable=False),
        sa.Column("passes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_routing_fit_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["routing_topics.id"],
            name=op.f("fk_routing_fit_topic_id_routing_topics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_routing_fit_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", "topic_id", name=op.f("pk_routing_fit")),
    )
    op.create_index("ix_routing_fit_topic", "routing_fit", ["topic_id", "resolved"])

    op.create_table(
        "routing_questions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("asker_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("source_key", sa.String(length=600), nullable=False),
        sa.Column("channel_id", sa.String(length=128), nullable=True),
        sa.Column("message_id", sa.String(length=128), nullable=True),
        sa.Column("link", sa.String(length=1000), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("topic_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("match", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("waits", sa.Integer(), nullable=False),
        sa.Column(
            "claimed_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("credit_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "resolved_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("helper_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_response_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_response_wall", sa.Float(), nullable=True),
        sa.Column("first_response_working", sa.Float(), nullable=True),
        sa.Column("resolution_wall", sa.Float(), nullable=True),
        sa.Column("resolution_working", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["asker_id"], ["members.id"], name=op.f("fk_routing_questions_asker_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["claimed_by"], ["members.id"], name=op.f("fk_routing_questions_claimed_by_members")
        ),
        sa.ForeignKeyConstraint(
            ["credit_id"], ["members.id"], name=op.f("fk_routing_questions_credit_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["helper_id"], ["members.id"], name=op.f("fk_routing_questions_helper_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"], ["members.id"], name=op.f("fk_routing_questions_resolved_by_members")
        ),
        sa.ForeignKeyConstraint(
            ["topic_id"],
            ["routing_topics.id"],
            name=op.f("fk_routing_questions_topic_id_routing_topics"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_routing_questions_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_questions")),
        sa.UniqueConstraint(
            "workspace_id", "number", name=op.f("uq_routing_questions_workspace_id_number")
        ),
        sa.UniqueConstraint(
            "workspace_id", "source_key", name=op.f("uq_routing_questions_workspace_id_source_key")
        ),
    )
    op.create_index(
        "ix_routing_questions_asker",
        "routing_questions",
        ["asker_id", "channel_id", "last_message_at"],
    )
    op.create_index("ix_routing_questions_claimer", "routing_questions", ["claimed_by", "status"])
    op.create_index(
        "ix_routing_questions_message",
        "routing_questions",
        ["workspace_id", "channel_id", "message_id"],
    )
    op.create_index(
        "ix_routing_questions_status", "routing_questions", ["workspace_id", "status", "created_at"]
    )

    op.create_table(
        "routing_asks",
        sa.Column(
            "question_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_routing_asks_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["routing_questions.id"],
            name=op.f("fk_routing_asks_question_id_routing_questions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_routing_asks_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("question_id", "member_id", name=op.f("pk_routing_asks")),
    )
    op.create_index("ix_routing_asks_member_time", "routing_asks", ["member_id", "asked_at"])

    op.create_table(
        "routing_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "question_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("actor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["members.id"], name=op.f("fk_routing_changes_actor_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["routing_questions.id"],
            name=op.f("fk_routing_changes_question_id_routing_questions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_changes")),
    )
    op.create_index("ix_routing_changes_question", "routing_changes", ["question_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_routing_changes_question", table_name="routing_changes")

    op.drop_table("routing_changes")
    op.drop_index("ix_routing_asks_member_time", table_name="routing_asks")

    op.drop_table("routing_asks")
    op.drop_index("ix_routing_questions_status", table_name="routing_questions")
    op.drop_index("ix_routing_questions_message", table_name="routing_questions")
    op.drop_index("ix_routing_questions_claimer", table_name="routing_questions")
    op.drop_index("ix_routing_questions_asker", table_name="routing_questions")

    op.drop_table("routing_questions")
    op.drop_index("ix_routing_fit_topic", table_name="routing_fit")

    op.drop_table("routing_fit")
    op.drop_index("ix_routing_experts_topic_status", table_name="routing_experts")
    op.drop_index("ix_routing_experts_member", table_name="routing_experts")

    op.drop_table("routing_experts")
    op.drop_index("ix_routing_words_word_count", table_name="routing_words")
    op.drop_table("routing_words")
    op.drop_index("ix_routing_evidence_word_count", table_name="routing_evidence")
    op.drop_table("routing_evidence")
    op.drop_table("routing_allies")
    op.drop_table("routing_topics")
    op.drop_table("routing_settings")
    op.drop_table("routing_help_channels")
