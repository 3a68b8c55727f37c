"""feedback

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 07:46:34.542555
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "feedback_categories",
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_feedback_categories_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "name", name=op.f("pk_feedback_categories")),
    )
    op.create_table(
        "feedback_counters",
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_feedback_counters_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_feedback_counters")),
    )
    op.create_table(
        "feedback_settings",
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("triage_channel", sa.String(length=128), nullable=True),
        sa.Column("leaders_channel", sa.String(length=128), nullable=True),
        sa.Column("reaction", sa.String(length=100), nullable=True),
        sa.Column("aging_days", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_feedback_settings_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_feedback_settings")),
    )
    op.create_table(
        "feedback_items",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "workspace_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "submitter_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column(
            "filed_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("source_key", sa.String(length=600), nullable=False),
        sa.Column("source_link", sa.String(length=1000), nullable=True),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "duplicate_of_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["duplicate_of_id"],
            ["feedback_items.id"],
            name=op.f("fk_feedback_items_duplicate_of_id_feedback_items"),
        ),
        sa.ForeignKeyConstraint(
            ["filed_by_id"], ["members.id"], name=op.f("fk_feedback_items_filed_by_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["members.id"], name=op.f("fk_feedback_items_owner_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["submitter_id"], ["members.id"], name=op.f("fk_feedback_items_submitter_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_feedback_items_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_items")),
        sa.UniqueConstraint(
            "workspace_id", "number", name=op.f("uq_feedback_items_workspace_id_number")
        ),
        sa.UniqueConstraint(
            "workspace_id", "source_key", name=op.f("uq_feedback_items_workspace_id_source_key")
        ),
    )
    with op.batch_alter_table("feedback_items", schema=None) as batch_op:
        batch_op.create_index(
            "ix_feedback_items_status", ["workspace_id", "status", "created_at"], unique=False
        )

    op.create_table(
        "feedback_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("actor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("old_value", sa.String(length=200), nullable=True),
        sa.Column("new_value", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["members.id"], name=op.f("fk_feedback_changes_actor_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["feedback_items.id"],
            name=op.f("fk_feedback_changes_item_id_feedback_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_changes")),
    )
    with op.batch_alter_table("feedback_changes", schema=None) as batch_op:
        batch_op.create_index("ix_feedback_changes_item", ["item_id", "id"], unique=False)

    op.create_table(
        "feedback_votes",
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["feedback_items.id"],
            name=op.f("fk_feedback_votes_item_id_feedback_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["members.id"],
            name=op.f("fk_feedback_votes_member_id_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("item_id", "member_id", name=op.f("pk_feedback_votes")),
    )


def downgrade() -> None:

    op.drop_table("feedback_votes")
    with op.batch_alter_table("feedback_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_changes_item")

    op.drop_table("feedback_changes")
    with op.batch_alter_table("feedback_items", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_items_status")

    op.drop_table("feedback_items")
    op.drop_table("feedback_settings")
    op.drop_table("feedback_counters")
    op.drop_table("feedback_categories")
