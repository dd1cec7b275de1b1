"""newsletter: a campaign's bodies stored once; outbox rows that point to a shared body, or went to an unverified address

Revision ID: 0050_campaign_bodies
Revises: 0007_outbox_list_slug
Create Date: 2026-12-01 10:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "0050_campaign_bodies"
down_revision = "0007_outbox_list_slug"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("newsletter_campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("slot", sa.String(length=40), nullable=False, server_default=""))
    op.create_table(
        "newsletter_campaign_bodies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["newsletter_campaigns.id"],
                                name=op.f("fk_newsletter_campaign_bodies_campaign_id_newsletter_campaigns"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_newsletter_campaign_bodies")),
        sa.UniqueConstraint("campaign_id", "language", name="uq_newsletter_campaign_bodies_language"),
    )
    # Rows queued before this revision keep their full bodies: both columns stay empty for them.
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("template_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("template_fill", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("to_unverified", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    # The former code would send these rows' empty bodies: they are given up on, with the reason, instead.
    op.execute("UPDATE outbox SET status = 'failed', last_error = 'downgrade: the campaign body of this message "
               "was removed' WHERE template_id IS NOT NULL AND status = 'pending'")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("to_unverified")
        batch_op.drop_column("template_fill")
        batch_op.drop_column("template_id")
    op.drop_table("newsletter_campaign_bodies")
    with op.batch_alter_table("newsletter_campaigns", schema=None) as batch_op:
        batch_op.drop_column("slot")
