"""kudos_score_counts: each count split over shards by member id (issue 8)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 14:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KEY = ["workspace_id", "period", "period_start", "value", "direction", "score"]


def upgrade() -> None:
    # The counts kept so far stay as shard 0: a rank sums the shards, so they still add up.
    with op.batch_alter_table("kudos_score_counts", recreate="auto") as batch:
        batch.add_column(sa.Column("shard", sa.Integer(), server_default="0", nullable=False))
        batch.drop_constraint("pk_kudos_score_counts", type_="primary")
        batch.create_primary_key("pk_kudos_score_counts", [*_KEY, "shard"])


def downgrade() -> None:
    # The shards of each count folded into its first one, then the others dropped.
    same = " AND ".join(f"other.{c} = kudos_score_counts.{c}" for c in _KEY)
    first = f"(SELECT MIN(other.shard) FROM kudos_score_counts AS other WHERE {same})"
    op.execute(
        "UPDATE kudos_score_counts SET people = (SELECT SUM(other.people) "
        f"FROM kudos_score_counts AS other WHERE {same}) WHERE shard = {first}"
    )
    op.execute(f"DELETE FROM kudos_score_counts WHERE shard <> {first}")
    with op.batch_alter_table("kudos_score_counts", recreate="auto") as batch:
        batch.drop_constraint("pk_kudos_score_counts", type_="primary")
        batch.create_primary_key("pk_kudos_score_counts", _KEY)
        batch.drop_column("shard")
