"""policy: who published each version (the back-office's journal of publications)

Revision ID: 0161_policy_published_by
Revises: 0091_merge
Create Date: 2026-12-06 10:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0161_policy_published_by"
down_revision = "0091_merge"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("policy_versions") as batch:
        batch.add_column(sa.Column("published_by", sa.String(length=254), nullable=True))


def downgrade():
    with op.batch_alter_table("policy_versions") as batch:
        batch.drop_column("published_by")
