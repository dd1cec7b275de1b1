"""one head again: staff security and rights form, SMS and mail limits, outbox leases, product events, policy publication and cookie scans

Revision ID: 0190_merge
Revises: 0103_request_without_captcha, 0113_form_reply_cap, 0131_outbox_leases, 0152_objection_postal_address, 0162_cookie_scans
Create Date: 2026-12-06 11:00:00

"""

revision = "0190_merge"
down_revision = ("0103_request_without_captcha", "0113_form_reply_cap", "0131_outbox_leases",
                 "0152_objection_postal_address", "0162_cookie_scans")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
