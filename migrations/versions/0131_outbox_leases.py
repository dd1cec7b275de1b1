"""outboxes: leases renewed by a heartbeat (who sends a row, until when), the relay's answer to each mail

Revision ID: 0131_outbox_leases
Revises: 0091_merge
Create Date: 2026-12-06 10:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0131_outbox_leases"
down_revision = "0091_merge"
branch_labels = None
depends_on = None

TABLES = ("outbox", "sms_outbox", "connector_calls")


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("lease_owner", sa.String(80), nullable=True))
            batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("provider_id", sa.String(200), nullable=True))


def downgrade():
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("provider_id")
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("lease_until")
            batch.drop_column("lease_owner")
