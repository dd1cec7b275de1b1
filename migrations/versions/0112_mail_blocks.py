"""mail: refusals about our sending (5.7.x, blocklists, policy) counted per receiving domain

Revision ID: 0112_mail_blocks
Revises: 0111_sms_limits
Create Date: 2026-12-06 10:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0112_mail_blocks"
down_revision = "0111_sms_limits"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "mail_blocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=255), nullable=False),
        sa.Column("report_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("blocked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_blocks")),
        sa.UniqueConstraint("report_sha256", name=op.f("uq_mail_blocks_report_sha256")),
    )
    with op.batch_alter_table("mail_blocks") as batch:
        batch.create_index(batch.f("ix_mail_blocks_domain"), ["domain"])
        batch.create_index(batch.f("ix_mail_blocks_blocked_at"), ["blocked_at"])


def downgrade():
    op.drop_table("mail_blocks")
