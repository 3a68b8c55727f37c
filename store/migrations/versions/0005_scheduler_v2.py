"""scheduler v2: a lease token per job, platform and lane on jobs, the lanes table

- `jobs.lease_token`: the current run's lease (set at claim); outcomes are written only while
  the token is still on the row.
- `jobs.platform`: which platform's port must run the job (NULL: any replica).
- `jobs.lane`, `jobs.lane_group`: the paced lanes a delivery counts in (its conversation, and
  its whole workspace); `lanes` keeps each lane's next allowed send.
- `ix_jobs_claim` (status, due_at, id) replaces `ix_jobs_status_due`: the claim reads the head
  of the queue in its order, with no sort, whatever the planner's statistics say;
  `ix_jobs_status_lease`: finding running jobs whose lease ran out.
- `attempts` now counts attempts spent: a deferral or a rate limit gives its attempt back. Rows
  already there keep their counts. A job that was running under the old worker has no token;
  it is taken again once its lease runs out, as before.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("lease_token", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("platform", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("lane", sa.String(length=400), nullable=True))
        batch.add_column(sa.Column("lane_group", sa.String(length=200), nullable=True))
        batch.drop_index("ix_jobs_status_due")
        batch.create_index("ix_jobs_claim", ["status", "due_at", "id"], unique=False)
        batch.create_index("ix_jobs_status_lease", ["status", "locked_until"], unique=False)
    op.create_table(
        "lanes",
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_lanes")),
    )
    with op.batch_alter_table("lanes") as batch:
        batch.create_index("ix_lanes_next_at", ["next_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lanes") as batch:
        batch.drop_index("ix_lanes_next_at")
    op.drop_table("lanes")
    # Cancelled jobs were unknown before: they are finished jobs that did not run.
    op.execute("UPDATE jobs SET status = 'failed' WHERE status = 'cancelled'")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_status_lease")
        batch.drop_index("ix_jobs_claim")
        batch.create_index("ix_jobs_status_due", ["status", "due_at"], unique=False)
        batch.drop_column("lane_group")
        batch.drop_column("lane")
        batch.drop_column("platform")
        batch.drop_column("lease_token")
