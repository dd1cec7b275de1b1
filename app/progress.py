"""Progress of long commands: a bar with counts and rate on a terminal, nothing at all otherwise.

A command opens `reported(label)` around its work; the services inside call `tracked(...)` or `advance(n)` and
never know whether anyone is watching (outside `reported`, both cost nothing).
"""

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import click


class Reporter:
    """One progress bar on standard error, opened once the total is known."""

    def __init__(self, label: str, stream) -> None:
        self.label, self.stream, self.bar, self.started = label, stream, None, time.monotonic()

    def start(self, total: int) -> None:
        """Open the bar for `total` units (or grow it, when a task announces more work)."""
        if self.bar is not None:
            self.bar.length += total
            return
        self.bar = click.progressbar(length=total, label=self.label, file=self.stream, show_pos=True,
                                     show_eta=False, item_show_func=self.rate)
        self.bar.__enter__()

    def rate(self, _item=None) -> str:
        """Units per second so far."""
        done, elapsed = (self.bar.pos if self.bar else 0), max(time.monotonic() - self.started, 1e-6)
        return f"{done / elapsed:,.0f}/s"

    def advance(self, count: int) -> None:
        """Move the bar on."""
        if self.bar is not None:
            self.bar.update(count)

    def close(self) -> None:
        """Finish the bar's line."""
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


_reporter: ContextVar[Reporter | None] = ContextVar("progress_reporter", default=None)


@contextmanager
def reported(label: str, stream=None):
    """Show a bar on a terminal for the work done inside; stay silent when standard error is not a terminal."""
    stream = stream or sys.stderr
    reporter = Reporter(label, stream) if stream.isatty() else None
    token = _reporter.set(reporter)
    try:
        yield
    finally:
        _reporter.reset(token)
        if reporter:
            reporter.close()


def watched() -> bool:
    """Whether a bar is shown (so that counting the total is worth a query)."""
    return _reporter.get() is not None


def expect(total: int) -> None:
    """Announce how many units of work are coming."""
    if (reporter := _reporter.get()) is not None:
        reporter.start(total)


def advance(count: int = 1) -> None:
    """Count units done."""
    if (reporter := _reporter.get()) is not None:
        reporter.advance(count)


def tracked(items: Iterable, total: int | Callable[[], int] | None = None, every: int = 100) -> Iterator:
    """Yield the items, counted on the bar; `total` (default len(items)) may be a callable, called only if shown."""
    if not watched():
        yield from items
        return
    expect(total() if callable(total) else total if total is not None else len(items))
    pending = 0
    for item in items:
        yield item
        pending += 1
        if pending == every:
            advance(pending)
            pending = 0
    advance(pending)
