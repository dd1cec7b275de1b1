"""back-office: the journal of staff reads

Revision ID: 0010_staff_reads
Revises: 0010_staff_security
Create Date: 2026-11-30 12:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0010_staff_reads"
down_revision = "0010_staff_security"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "staff_reads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_email", sa.String(length=320), nullable=False),
        sa.Column("what", sa.String(length=20), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_reads")),
    )
    with op.batch_alter_table("staff_reads") as batch:
        batch.create_index(batch.f("ix_staff_reads_occurred_at"), ["occurred_at"], unique=False)
        batch.create_index(batch.f("ix_staff_reads_staff_email"), ["staff_email"], unique=False)


def downgrade():
    with op.batch_alter_table("staff_reads") as batch:
        batch.drop_index(batch.f("ix_staff_reads_staff_email"))
        batch.drop_index(batch.f("ix_staff_reads_occurred_at"))
    op.drop_table("staff_reads")
