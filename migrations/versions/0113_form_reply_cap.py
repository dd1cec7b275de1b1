"""outbox: a form's replies (acknowledgements, confirmations) marked, to cap them per address and day

Revision ID: 0113_form_reply_cap
Revises: 0112_mail_blocks
Create Date: 2026-12-06 10:50:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0113_form_reply_cap"
down_revision = "0112_mail_blocks"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("form_reply", sa.Boolean(), server_default=sa.false(), nullable=False))
    # What was counted before (mail to unverified addresses) counts from now on too.
    op.execute(sa.text("UPDATE outbox SET form_reply = to_unverified"))


def downgrade():
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("form_reply")
