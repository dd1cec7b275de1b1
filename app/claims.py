"""One claim loop for the outboxes (mail, SMS, connected systems), the same on SQLite and PostgreSQL.

A worker leases a few due rows with one conditional UPDATE, committed at once: on SQLite (one writer) and on
PostgreSQL (which checks the WHERE clause again on a row another transaction has just updated) a row goes to one
worker only, and no lock is held while a message is sent. A heartbeat renews the worker's leases while it works, so a
worker that dies leaves its rows due again within LEASE. Each row's outcome is committed alone, right after the
provider answered: a crash sends again at most the message in flight.
"""

import contextlib
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app.database import is_fault, utcnow
from app.extensions import db

LEASE = timedelta(seconds=45)  # a dead worker's rows are due again after this (the promise: within a minute)
HEARTBEAT = LEASE / 3  # two renewals may be missed before a live worker's lease runs out
BATCH = 20  # rows leased at a time: few, since each one is committed alone


def new_owner() -> str:
    """This pass's name in the lease columns: host, process and a random part (two passes never share one)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def due(table: sa.Table, now) -> sa.ColumnElement[bool]:
    """Pending, due, and leased by nobody (or by a worker whose lease ran out)."""
    return sa.and_(table.c.status == "pending", table.c.next_attempt_at <= now,
                   sa.or_(table.c.lease_until.is_(None), table.c.lease_until < now))


def claim(table: sa.Table, owner: str, size: int) -> list[int]:
    """Lease up to `size` due rows to `owner` and commit; their ids, oldest due first. The UPDATE checks again that
    each row is still due: of the rows read, only those no other worker leased meanwhile are ours."""
    while True:
        now = utcnow()
        query = sa.select(table.c.id).where(due(table, now)).order_by(table.c.next_attempt_at, table.c.id).limit(size)
        if db.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)  # spares workers waiting on each other's rows
        ids = db.session.scalars(query).all()
        if not ids:
            db.session.rollback()
            return []
        leased = set(db.session.scalars(sa.update(table).where(table.c.id.in_(ids), due(table, now))
                                        .values(lease_owner=owner, lease_until=now + LEASE).returning(table.c.id)))
        db.session.commit()
        if leased:  # else another worker took them all first: read the next ones
            return [row_id for row_id in ids if row_id in leased]


def released() -> dict:
    """The values that end a row's lease, written with its outcome."""
    return {"lease_owner": None, "lease_until": None}


class Heartbeat(threading.Thread):
    """Renews a pass's leases every HEARTBEAT on its own connection, until stopped."""

    def __init__(self, engine: sa.Engine, table: sa.Table, owner: str, logger) -> None:
        super().__init__(name=f"heartbeat-{table.name}", daemon=True)
        self.engine, self.table, self.owner, self.logger = engine, table, owner, logger
        self.stopped = threading.Event()

    def run(self) -> None:
        """Renew until stopped."""
        while not self.stopped.wait(HEARTBEAT.total_seconds()):
            self.renew()

    def renew(self) -> None:
        """Push the pass's leases LEASE ahead; a renewal the database refuses is logged and tried at the next beat."""
        try:
            with self.engine.begin() as connection:
                connection.execute(sa.update(self.table).where(self.table.c.lease_owner == self.owner)
                                   .values(lease_until=utcnow() + LEASE))
        except sa.exc.DBAPIError as error:
            self.logger.warning("%s: leases not renewed (%s)", self.table.name, type(error).__name__)

    def stop(self) -> None:
        """Stop beating and wait for the thread."""
        self.stopped.set()
        self.join()


def send_each(table: sa.Table, send: Callable[[int], None], limit: int | None = None) -> None:
    """Call `send` with the id of each due row, leased a few at a time to this pass and kept leased by a heartbeat
    while it works; when the pass ends (or stops on an error), rows it leased but did not finish are due again."""
    owner, taken = new_owner(), 0
    heartbeat = Heartbeat(db.engine, table, owner, current_app.logger)
    heartbeat.start()
    try:
        while limit is None or taken < limit:
            ids = claim(table, owner, BATCH if limit is None else min(BATCH, limit - taken))
            if not ids:
                return
            for row_id in ids:
                taken += 1
                send(row_id)
    finally:
        heartbeat.stop()
        release(table, owner)


def release(table: sa.Table, owner: str) -> None:
    """End the pass's remaining leases (a database that is away leaves them to run out)."""
    with contextlib.suppress(sa.exc.DBAPIError):
        db.session.rollback()
        db.session.execute(sa.update(table).where(table.c.lease_owner == owner).values(**released()))
        db.session.commit()


def commit_outcome(write: Callable[[], None]) -> None:
    """Write one row's outcome and commit it; a connection lost on the way is replaced once, since the provider may
    have taken the message already (its outcome must be recorded, never turned into a failure). A second loss
    raises: the pass stops and the row, still leased, is due again once its lease runs out."""
    for attempt in (1, 2):
        try:
            write()
            db.session.commit()
            return
        except sa.exc.DBAPIError as error:
            db.session.rollback()
            if attempt == 2 or not is_fault(error):
                raise
