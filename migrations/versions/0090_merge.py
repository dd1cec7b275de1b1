"""one head again: connectors and audiences, campaign bodies

Revision ID: 0090_merge
Revises: 0009_audiences, 0050_campaign_bodies
Create Date: 2026-11-30 12:10:00

"""

revision = "0090_merge"
down_revision = ("0009_audiences", "0050_campaign_bodies")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
