"""one head: foundation, consent, newsletter, rights

Revision ID: 0005_merge
Revises: 0002_consent, 0003_newsletter, 0004_rights
Create Date: 2026-11-29 08:29:28.565024

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005_merge'
down_revision = ('0002_consent', '0003_newsletter', '0004_rights')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
