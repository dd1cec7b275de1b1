"""SMS spending limits: the IPv6 /64 (hashed) a code was asked from; codes of the day counted by date

Revision ID: 0111_sms_limits
Revises: 0091_merge
Create Date: 2026-12-06 10:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0111_sms_limits"
down_revision = "0091_merge"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("newsletter_phone_proofs") as batch:
        batch.add_column(sa.Column("household", sa.String(length=64), nullable=True))
        batch.create_index(batch.f("ix_newsletter_phone_proofs_household"), ["household"])
        batch.create_index(batch.f("ix_newsletter_phone_proofs_created_at"), ["created_at"])


def downgrade():
    with op.batch_alter_table("newsletter_phone_proofs") as batch:
        batch.drop_index(batch.f("ix_newsletter_phone_proofs_created_at"))
        batch.drop_index(batch.f("ix_newsletter_phone_proofs_household"))
        batch.drop_column("household")
