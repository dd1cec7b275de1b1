"""staff accounts: session token, failed-login lock, TOTP second factor, hashed recovery codes

Revision ID: 0010_staff_security
Revises: 0007_outbox_list_slug
Create Date: 2026-11-30 12:00:00

"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = "0010_staff_security"
down_revision = "0007_outbox_list_slug"
branch_labels = None
depends_on = None

STAFF = sa.table("staff_users", sa.column("id", sa.Integer), sa.column("session_token", sa.String))


def upgrade():
    with op.batch_alter_table("staff_users") as batch:
        batch.add_column(sa.Column("session_token", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("totp_enrolled_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_totp_step", sa.BigInteger(), nullable=True))
    connection = op.get_bind()
    for (user_id,) in connection.execute(sa.select(STAFF.c.id)).all():
        connection.execute(STAFF.update().where(STAFF.c.id == user_id).values(session_token=secrets.token_urlsafe(32)))
    with op.batch_alter_table("staff_users") as batch:
        batch.alter_column("session_token", existing_type=sa.String(length=64), nullable=False)
    op.create_table(
        "staff_recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=300), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["staff_users.id"],
                                name=op.f("fk_staff_recovery_codes_user_id_staff_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_recovery_codes")),
    )
    with op.batch_alter_table("staff_recovery_codes") as batch:
        batch.create_index(batch.f("ix_staff_recovery_codes_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("staff_recovery_codes") as batch:
        batch.drop_index(batch.f("ix_staff_recovery_codes_user_id"))
    op.drop_table("staff_recovery_codes")
    with op.batch_alter_table("staff_users") as batch:
        for column in ("last_totp_step", "totp_enrolled_at", "totp_secret", "locked_until", "failed_logins",
                       "session_token"):
            batch.drop_column(column)
