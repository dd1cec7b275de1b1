"""The geometry of the dashboard's SVG charts; `backoffice/_charts.html` draws them, without script or style."""

from collections.abc import Callable
from dataclasses import dataclass, field

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 8, 12, 36  # room for the axis labels
TICKS = 4
MAX_LABELS = 6  # period labels under the axis, so that none overlaps its neighbour


@dataclass(frozen=True)
class Bar:
    """One rectangle: a column's value in one period (stacked on the columns before it)."""

    x: float
    y: float
    width: float
    height: float
    column: int
    value: float


@dataclass(frozen=True)
class Line:
    """One series as a polyline, with a dot at each point."""

    column: int
    points: tuple[tuple[float, float], ...]

    @property
    def path(self) -> str:
        """The `points` attribute of the polyline."""
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in self.points)


@dataclass
class Chart:
    """Everything the template needs: the frame, ticks on the value axis, period labels, bars or lines."""

    ticks: list[tuple[float, str]] = field(default_factory=list)
    labels: list[tuple[float, str]] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    bottom: float = HEIGHT - BOTTOM
    right: float = WIDTH - RIGHT


def nice_maximum(value: float) -> float:
    """A round top for the value axis (1, 2, 2.5 or 5 times a power of ten, at least 4)."""
    if value <= TICKS:
        return TICKS
    power = 10 ** (len(str(int(value))) - 1)
    for factor in (1, 2, 2.5, 5, 10):
        if value <= factor * power:
            return factor * power
    return 10 * power


def scale(top: float):
    """A function turning a value into its y coordinate."""
    span = HEIGHT - BOTTOM - TOP
    return lambda value: HEIGHT - BOTTOM - span * value / top


def frame(labels: list[str], top: float, number: Callable[[float], str]) -> Chart:
    """The axes: ticks from 0 to the top, written by `number`, and one label per period, spaced evenly."""
    to_y = scale(top)
    band = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    chart = Chart(ticks=[(to_y(top * n / TICKS), number(top * n / TICKS)) for n in range(TICKS + 1)])
    step = -(-len(labels) // MAX_LABELS)  # every label when they fit, else every second (the table has them all)
    chart.labels = [(LEFT + band * (index + 0.5), label) for index, label in enumerate(labels)
                    if (len(labels) - 1 - index) % step == 0]
    return chart


def stacked_bars(labels: list[str], rows: list[list[float]], number: Callable[[float], str]) -> Chart:
    """One stacked bar per period: rows[period][column]."""
    top = nice_maximum(max((sum(row) for row in rows), default=0))
    chart, to_y = frame(labels, top, number), scale(top)
    band = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    for index, row in enumerate(rows):
        base = 0.0
        for column, value in enumerate(row):
            if value:
                chart.bars.append(Bar(LEFT + band * (index + 0.15), to_y(base + value), band * 0.7,
                                      to_y(base) - to_y(base + value), column, value))
            base += value
    return chart


def percent_lines(labels: list[str], series: list[list[float | None]], number: Callable[[float], str]) -> Chart:
    """One line per column of shares (0 to 1); a period without data (None) is skipped."""
    chart, to_y = frame(labels, 1, number), scale(1)
    band = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    for column, values in enumerate(series):
        points = tuple((LEFT + band * (index + 0.5), to_y(value)) for index, value in enumerate(values)
                       if value is not None)
        chart.lines.append(Line(column, points))
    return chart
