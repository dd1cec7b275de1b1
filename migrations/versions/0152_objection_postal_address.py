"""rights requests: the postal address of an objection (the opt-out list's post channel)

Revision ID: 0152_objection_postal_address
Revises: 0151_product_events
Create Date: 2026-12-06 11:20:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0152_objection_postal_address'
down_revision = '0151_product_events'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('rights_requests') as batch_op:
        batch_op.add_column(sa.Column('postal_address', sa.String(length=300), nullable=True))


def downgrade():
    with op.batch_alter_table('rights_requests') as batch_op:
        batch_op.drop_column('postal_address')
