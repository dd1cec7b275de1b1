"""product: its events taken, account closures and their deadlines, customers' last activity

Revision ID: 0151_product_events
Revises: 0091_merge
Create Date: 2026-12-06 11:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0151_product_events'
down_revision = '0091_merge'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('product_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('webhook_id', sa.String(length=255), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_events')),
    sa.UniqueConstraint('webhook_id', name=op.f('uq_product_events_webhook_id'))
    )
    op.create_index(op.f('ix_product_events_received_at'), 'product_events', ['received_at'], unique=False)
    op.create_table('account_closures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('active_due_on', sa.Date(), nullable=False),
    sa.Column('backups_due_on', sa.Date(), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('erased', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['rights_requests.id'],
                            name=op.f('fk_account_closures_request_id_rights_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_closures')),
    sa.UniqueConstraint('request_id', name=op.f('uq_account_closures_request_id'))
    )
    op.create_index(op.f('ix_account_closures_active_due_on'), 'account_closures', ['active_due_on'], unique=False)
    op.create_table('client_activity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('last_activity_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lapsed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_activity')),
    sa.UniqueConstraint('email', name=op.f('uq_client_activity_email'))
    )
    op.create_index(op.f('ix_client_activity_last_activity_at'), 'client_activity', ['last_activity_at'],
                    unique=False)


def downgrade():
    op.drop_index(op.f('ix_client_activity_last_activity_at'), table_name='client_activity')
    op.drop_table('client_activity')
    op.drop_index(op.f('ix_account_closures_active_due_on'), table_name='account_closures')
    op.drop_table('account_closures')
    op.drop_index(op.f('ix_product_events_received_at'), table_name='product_events')
    op.drop_table('product_events')
