"""recognition

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 07:41:11.827997
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "badges",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("emoji", sa.String(length=100), nullable=False),
        sa.Column("image_url", sa.String(length=1000), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("how_earned", sa.Text(), nullable=False),
        sa.Column("repeatable", sa.Boolean(), nullable=False),
        sa.Column("citation_required", sa.Boolean(), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_badges_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_badges")),
        sa.UniqueConstraint("workspace_id", "slug", name=op.f("uq_badges_workspace_id_slug")),
    )
    op.create_table(
        "badge_awards",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("badge_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("award_key", sa.String(length=240), nullable=False),
        sa.Column("citation", sa.Text(), nullable=False),
        sa.Column(
            "awarded_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("awarded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "revoked_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["awarded_by"], ["members.id"], name=op.f("fk_badge_awards_awarded_by_members")
        ),
        sa.ForeignKeyConstraint(
            ["badge_id"],
            ["badges.id"],
            name=op.f("fk_badge_awards_badge_id_badges"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_badge_awards_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by"], ["members.id"], name=op.f("fk_badge_awards_revoked_by_members")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_badge_awards_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_badge_awards")),
        sa.UniqueConstraint(
            "badge_id",
            "member_id",
            "award_key",
            name=op.f("uq_badge_awards_badge_id_member_id_award_key"),
        ),
    )
    with op.batch_alter_table("badge_awards", schema=None) as batch_op:
        batch_op.create_index("ix_badge_awards_member", ["member_id", "awarded_at"], unique=False)
        batch_op.create_index(
            "ix_badge_awards_workspace_time", ["workspace_id", "awarded_at"], unique=False
        )

    op.create_table(
        "badge_rules",
        sa.Column("badge_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("counter", sa.String(length=40), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["badge_id"],
            ["badges.id"],
            name=op.f("fk_badge_rules_badge_id_badges"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("badge_id", name=op.f("pk_badge_rules")),
    )
    with op.batch_alter_table("badge_rules", schema=None) as batch_op:
        batch_op.create_index("ix_badge_rules_counter", ["counter"], unique=False)

    op.create_table(
        "kudos_totals",
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("given", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_kudos_totals_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_kudos_totals_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id",
            "period",
            "period_start",
            "value",
            "member_id",
            name=op.f("pk_kudos_totals"),
        ),
    )
    with op.batch_alter_table("kudos_totals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_kudos_totals_given",
            ["workspace_id", "period", "period_start", "value", "given", "member_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_kudos_totals_member", ["member_id", "period", "value"], unique=False
        )
        batch_op.create_index(
            "ix_kudos_totals_received",
            ["workspace_id", "period", "period_start", "value", "received", "member_id"],
            unique=False,
        )

    op.create_table(
        "kudos_score_counts",
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_kudos_score_counts_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id",
            "period",
            "period_start",
            "value",
            "direction",
            "score",
            name=op.f("pk_kudos_score_counts"),
        ),
    )
    op.create_table(
        "member_counters",
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("counter", sa.String(length=40), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_member_counters_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", "counter", name=op.f("pk_member_counters")),
    )
    op.create_table(
        "member_preferences",
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("leaderboard_opt_out", sa.Boolean(), nullable=False),
        sa.Column("announce_opt_out", sa.Boolean(), nullable=False),
        sa.Column("home_opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_member_preferences_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_member_preferences")),
    )
    op.create_table(
        "reward_preferences",
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_reward_preferences_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", "kind", name=op.f("pk_reward_preferences")),
    )
    op.create_table(
        "roles",
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "granted_by", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["granted_by"], ["members.id"], name=op.f("fk_roles_granted_by_members")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_roles_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_roles_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", "role", name=op.f("pk_roles")),
    )
    with op.batch_alter_table("roles", schema=None) as batch_op:
        batch_op.create_index("ix_roles_workspace_role", ["workspace_id", "role"], unique=False)

    op.create_table(
        "thanked_pairs",
        sa.Column("giver_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "recipient_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["giver_id"],
            ["members.id"],
            name=op.f("fk_thanked_pairs_giver_id_members"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"],
            ["members.id"],
            name=op.f("fk_thanked_pairs_recipient_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("giver_id", "recipient_id", name=op.f("pk_thanked_pairs")),
    )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team", sa.String(length=100), nullable=True))

    with op.batch_alter_table("workspace_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recognition_channel", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("workspace_settings", schema=None) as batch_op:
        batch_op.drop_column("timezone")
        batch_op.drop_column("recognition_channel")

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("team")

    op.drop_table("thanked_pairs")
    with op.batch_alter_table("roles", schema=None) as batch_op:
        batch_op.drop_index("ix_roles_workspace_role")

    op.drop_table("roles")
    op.drop_table("reward_preferences")
    op.drop_table("member_preferences")
    op.drop_table("member_counters")
    op.drop_table("kudos_score_counts")
    with op.batch_alter_table("kudos_totals", schema=None) as batch_op:
        batch_op.drop_index("ix_kudos_totals_received")
        batch_op.drop_index("ix_kudos_totals_member")
        batch_op.drop_index("ix_kudos_totals_given")

    op.drop_table("kudos_totals")
    with op.batch_alter_table("badge_rules", schema=None) as batch_op:
        batch_op.drop_index("ix_badge_rules_counter")

    op.drop_table("badge_rules")
    with op.batch_alter_table("badge_awards", schema=None) as batch_op:
        batch_op.drop_index("ix_badge_awards_workspace_time")
        batch_op.drop_index("ix_badge_awards_member")

    op.drop_table("badge_awards")
    op.drop_table("badges")
