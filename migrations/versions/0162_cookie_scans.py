"""scanner: each cookie scan's report

Revision ID: 0162_cookie_scans
Revises: 0161_policy_published_by
Create Date: 2026-12-06 11:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0162_cookie_scans"
down_revision = "0161_policy_published_by"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "cookie_scans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cookie_scans")),
    )
    with op.batch_alter_table("cookie_scans") as batch:
        batch.create_index(batch.f("ix_cookie_scans_started_at"), ["started_at"], unique=False)


def downgrade():
    with op.batch_alter_table("cookie_scans") as batch:
        batch.drop_index(batch.f("ix_cookie_scans_started_at"))
    op.drop_table("cookie_scans")
