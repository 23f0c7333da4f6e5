"""The forecast chart of the staff partner page: plain SVG geometry computed on the server.

Three years of monthly sales (a line), then the 12 forecast months: the 95 % and 80 % bands
(shaded polygons), the statistical forecast (dashed) and the manager's adjusted line if any.
The template (``workspace/_forecast_chart.html``) writes the labels in the reader's language;
the box is a ``viewBox`` that CSS scales to the column's width (it stays readable at 390 px: the
labels grow on narrow screens and every other month label is hidden).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from portal.core.money import ZERO

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 70, 10, 12, 30


@dataclass(frozen=True)
class Band:
    month: date
    mean: Decimal
    lower_80: Decimal
    upper_80: Decimal
    lower_95: Decimal
    upper_95: Decimal


@dataclass(frozen=True)
class ForecastChart:
    width: int
    height: int
    left: int
    right: int
    bottom: float
    actual: str           # polyline points
    forecast: str
    adjusted: str
    band_80: str          # polygon points
    band_95: str
    divider: float | None  # x where the forecast starts
    gridlines: list[tuple[float, Decimal]]
    labels: list[tuple[float, date, bool]]  # x, month, major (January or the first month)
    points: int

    @property
    def empty(self) -> bool:
        return self.points == 0


def nice_ceiling(value: Decimal) -> Decimal:
    """The smallest 1, 2, 2.5 or 5 × 10ⁿ at or above ``value``."""
    if value <= 0:
        return Decimal(100)
    magnitude = Decimal(10) ** (len(str(int(value))) - 1)
    for step in (1, 2, Decimal("2.5"), 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def build(history: list[tuple[date, Decimal]], bands: list[Band],
          adjusted: list[tuple[date, Decimal]] | None = None) -> ForecastChart:
    """The chart's geometry; any of the parts may be empty (a new partner, no run yet)."""
    months = [m for m, _ in history] + [b.month for b in bands]
    n = len(months)
    base = HEIGHT - BOTTOM
    values = [v for _, v in history] + [b.upper_95 for b in bands] + [v for _, v in (adjusted or [])]
    top = nice_ceiling(max(values, default=ZERO))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(n - 1, 1)
    index = {m: i for i, m in enumerate(months)}

    def x(month: date) -> float:
        return round(LEFT + index[month] * step, 1) if n > 1 else LEFT + plot_w / 2

    def y(value: Decimal) -> float:
        return round(base - float(value / top) * plot_h, 1)

    def line(points) -> str:
        return " ".join(f"{x(m)},{y(v)}" for m, v in points)

    def polygon(lower, upper) -> str:
        if not bands:
            return ""
        up = [f"{x(b.month)},{y(getattr(b, upper))}" for b in bands]
        down = [f"{x(b.month)},{y(getattr(b, lower))}" for b in reversed(bands)]
        return " ".join(up + down)

    joined = ([history[-1]] if history else []) + [(b.month, b.mean) for b in bands]
    adjusted_line = ([history[-1]] if history and adjusted else []) + list(adjusted or [])
    gridlines = [(y(top * Decimal(share)), top * Decimal(share)) for share in ("0", "0.5", "1")]
    marks = [i for i, m in enumerate(months) if m.month in (1, 7)]
    if n and (not marks or marks[0] > 2):  # the first month, unless a mark is close by
        marks.insert(0, 0)
    labels = [(x(months[i]), months[i], months[i].month == 1 or i == 0) for i in marks]
    return ForecastChart(
        WIDTH, HEIGHT, LEFT, WIDTH - RIGHT, base, line(history), line(joined) if bands else "",
        line(adjusted_line), polygon("lower_80", "upper_80"), polygon("lower_95", "upper_95"),
        x(bands[0].month) if bands and history else None, gridlines, labels, n)
