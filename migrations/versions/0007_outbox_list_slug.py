"""outbox: the list of a marketing message in its own column

Revision ID: 0007_outbox_list_slug
Revises: 0006_mail_bounces
Create Date: 2026-11-30 11:20:00

"""
import json

import sqlalchemy as sa
from alembic import op

revision = "0007_outbox_list_slug"
down_revision = "0006_mail_bounces"
branch_labels = None
depends_on = None

OUTBOX = sa.table("outbox", sa.column("id", sa.Integer), sa.column("kind", sa.String),
                  sa.column("status", sa.String), sa.column("headers", sa.JSON), sa.column("list_slug", sa.String))


def slug_of(headers) -> str | None:
    """The list a queued message was sent to, read once from its stored List-Id (`… <slug.host>`)."""
    if isinstance(headers, str):
        headers = json.loads(headers)
    list_id = (headers or {}).get("List-Id", "")
    return list_id.rpartition("<")[2].split(".", 1)[0] or None


def upgrade():
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("list_slug", sa.String(length=40), nullable=True))
    connection = op.get_bind()
    waiting = connection.execute(sa.select(OUTBOX.c.id, OUTBOX.c.headers).where(
        OUTBOX.c.kind == "marketing", OUTBOX.c.status == "pending")).all()
    for row_id, headers in waiting:
        connection.execute(OUTBOX.update().where(OUTBOX.c.id == row_id).values(list_slug=slug_of(headers)))


def downgrade():
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("list_slug")
