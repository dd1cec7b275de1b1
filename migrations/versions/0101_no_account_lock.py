"""staff accounts are never locked by failures: the lock's end date goes (the client is slowed down instead)

Revision ID: 0101_no_account_lock
Revises: 0091_merge
Create Date: 2026-12-06 10:50:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0101_no_account_lock"
down_revision = "0091_merge"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("staff_users") as batch:
        batch.drop_column("locked_until")


def downgrade():
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
