"""connector answers: the webhook-id seen is kept as its SHA-256, so long ids are compared in full

Revision ID: 0102_seen_answer_hash
Revises: 0101_no_account_lock
Create Date: 2026-12-06 11:00:00

"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0102_seen_answer_hash"
down_revision = "0101_no_account_lock"
branch_labels = None
depends_on = None

SEEN = sa.table("connector_seen_answers", sa.column("id", sa.Integer), sa.column("webhook_id", sa.String))


def upgrade():
    connection = op.get_bind()
    for row_id, webhook_id in connection.execute(sa.select(SEEN.c.id, SEEN.c.webhook_id)).all():
        digest = hashlib.sha256(webhook_id.encode()).hexdigest()
        connection.execute(sa.update(SEEN).where(SEEN.c.id == row_id).values(webhook_id=digest))


def downgrade():
    pass  # a digest cannot be turned back into its id; the answers it stands for are older than five minutes anyway
