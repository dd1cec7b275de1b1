"""one head again: SMS, staff security, retention and jobs, dashboard

Revision ID: 0091_merge
Revises: 0090_merge, 0020_sms, 0010_staff_reads, 0030_jobs, 0060_dashboard_consent_weeks
Create Date: 2026-11-30 12:30:00

"""

revision = "0091_merge"
down_revision = ("0090_merge", "0020_sms", "0010_staff_reads", "0030_jobs", "0060_dashboard_consent_weeks")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
