"""opaque routes; sent messages without a kudos column

A person's private route (how Teams reaches them) becomes one opaque value that the Teams
adapter encodes, instead of Teams' own fields in the product schema. Sent messages lose
`kudos_id`: kudos find their posts by key (`kudos:<id>:post`).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 20:30:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_routes = sa.table(
    "direct_routes",
    sa.column("member_id", sa.BigInteger()),
    sa.column("conversation_id", sa.String()),
    sa.column("service_url", sa.String()),
    sa.column("bot_id", sa.String()),
    sa.column("address", sa.Text()),
)


def upgrade() -> None:
    with op.batch_alter_table("direct_routes") as batch:
        batch.add_column(sa.Column("address", sa.Text(), nullable=False, server_default=""))
    bind = op.get_bind()
    # The encoding is the Teams adapter's (adapters/teams/addresses.py); written here once.
    for member_id, conversation_id, service_url, bot_id in bind.execute(
        sa.select(
            _routes.c.member_id, _routes.c.conversation_id, _routes.c.service_url, _routes.c.bot_id
        )
    ):
        address = json.dumps(
            {"conversation_id": conversation_id, "service_url": service_url, "bot_id": bot_id}
        )
        bind.execute(
            _routes.update().where(_routes.c.member_id == member_id).values(address=address)
        )
    with op.batch_alter_table("direct_routes") as batch:
        batch.alter_column("address", server_default=None)
        batch.drop_column("conversation_id")
        batch.drop_column("service_url")
        batch.drop_column("bot_id")
    with op.batch_alter_table("sent_messages") as batch:
        batch.drop_constraint("fk_sent_messages_kudos_id_kudos", type_="foreignkey")
        batch.drop_column("kudos_id")


def downgrade() -> None:
    with op.batch_alter_table("sent_messages") as batch:
        batch.add_column(sa.Column("kudos_id", sa.BigInteger(), nullable=True))
        batch.create_foreign_key(
            "fk_sent_messages_kudos_id_kudos", "kudos", ["kudos_id"], ["id"], ondelete="SET NULL"
        )
    with op.batch_alter_table("direct_routes") as batch:
        batch.add_column(
            sa.Column("conversation_id", sa.String(400), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("service_url", sa.String(400), nullable=True))
        batch.add_column(sa.Column("bot_id", sa.String(200), nullable=True))
    bind = op.get_bind()
    for member_id, address in bind.execute(sa.select(_routes.c.member_id, _routes.c.address)):
        try:
            fields = json.loads(address)
        except ValueError:
            fields = {}
        bind.execute(
            _routes.update()
            .where(_routes.c.member_id == member_id)
            .values(
                conversation_id=str(fields.get("conversation_id") or ""),
                service_url=fields.get("service_url"),
                bot_id=fields.get("bot_id"),
            )
        )
    with op.batch_alter_table("direct_routes") as batch:
        batch.alter_column("conversation_id", server_default=None)
        batch.drop_column("address")
