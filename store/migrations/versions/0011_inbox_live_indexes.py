"""inbox: the claim's indexes cover only the events not applied yet (issue 8)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 14:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LIVE = sa.text("status IN ('pending', 'running')")


def upgrade() -> None:
    op.create_index("ix_inbox_live_id", "inbox", ["id"], sqlite_where=_LIVE, postgresql_where=_LIVE)
    op.create_index(
        "ix_inbox_live_partition_id",
        "inbox",
        ["partition", "id"],
        sqlite_where=_LIVE,
        postgresql_where=_LIVE,
    )
    op.drop_index("ix_inbox_partition_id", table_name="inbox")


def downgrade() -> None:
    op.create_index("ix_inbox_partition_id", "inbox", ["partition", "id"])
    op.drop_index("ix_inbox_live_partition_id", table_name="inbox")
    op.drop_index("ix_inbox_live_id", table_name="inbox")
