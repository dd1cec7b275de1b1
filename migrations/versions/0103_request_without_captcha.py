"""rights requests: « sans captcha », for those sent while the anti-spam check could not run

Revision ID: 0103_request_without_captcha
Revises: 0102_seen_answer_hash
Create Date: 2026-12-06 11:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0103_request_without_captcha"
down_revision = "0102_seen_answer_hash"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("rights_requests") as batch:
        batch.add_column(sa.Column("without_captcha", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("rights_requests") as batch:
        batch.drop_column("without_captcha")
