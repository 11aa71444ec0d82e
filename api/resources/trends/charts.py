"""The geometry of a trend chart for the printable report: the total over time on the
instrument's full scale, severity bands shaded, the baseline, numbered infusion markers and the
phases. Pure arithmetic; the template draws it as inline SVG."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from api.domain.trends import Trend

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 26, 34
# Light shades from the best band to the worst.
BAND_SHADES = ("#e8f5e9", "#f1f8e9", "#fffde7", "#fff3e0", "#fbe9e7", "#ffebee")


@dataclass(frozen=True)
class Band:
    y: float
    height: float
    label: str
    shade: str


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    total: int
    flagged: bool


@dataclass(frozen=True)
class Marker:
    x: float
    label: str
    phase: str


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    bands: list[Band]
    line: str
    dots: list[Dot]
    baseline_y: float | None
    infusions: list[Marker]
    phases: list[Marker]
    x_ticks: list[Tick]
    y_ticks: list[Tick]


def _span(trend: Trend, as_of: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    moments = [p.check_in.completed_at for p in trend.points]
    moments += [i.infusion.administered_at for i in trend.infusions]
    first = min(moments, default=as_of - dt.timedelta(days=28))
    last = max([*moments, first + dt.timedelta(days=7)])
    return first - dt.timedelta(days=1), last + dt.timedelta(days=1)


@dataclass(frozen=True)
class Scale:
    """Time to x and score to y, inside the plot area."""

    start: dt.datetime
    end: dt.datetime
    low: int
    high: int

    def x(self, at: dt.datetime) -> float:
        share = (at - self.start).total_seconds() / (self.end - self.start).total_seconds()
        return round(LEFT + share * (WIDTH - RIGHT - LEFT), 1)

    def y(self, value: float) -> float:
        bottom = HEIGHT - BOTTOM
        return round(bottom - (value - self.low) / (self.high - self.low) * (bottom - TOP), 1)


def bands_of(trend: Trend, scale: Scale) -> list[Band]:
    bands = []
    count = len(trend.definition.bands)
    for n, band in enumerate(trend.definition.bands):
        # Whole-number scores: a band covers its values ± half a point, within the scale.
        upper = scale.y(min(scale.high, band.max + 0.5))
        lower = scale.y(max(scale.low, band.min - 0.5))
        bands.append(
            Band(
                upper,
                round(lower - upper, 1),
                band.label,
                BAND_SHADES[n * len(BAND_SHADES) // count],
            )
        )
    return bands


def ticks(trend: Trend, scale: Scale) -> tuple[list[Tick], list[Tick]]:
    days = max(1, (scale.end - scale.start).days)
    step = max(1, days // 6)
    moments = [scale.start + dt.timedelta(days=d) for d in range(1, days, step)]
    x_ticks = [Tick(scale.x(m), m.strftime("%d %b")) for m in moments]
    y_ticks = [Tick(scale.y(band.min), str(band.min)) for band in trend.definition.bands]
    return x_ticks, [*y_ticks, Tick(scale.y(scale.high), str(scale.high))]


def chart(trend: Trend, as_of: dt.datetime) -> Chart:
    definition = trend.definition
    start, end = _span(trend, as_of)
    scale = Scale(start, end, definition.score_min, definition.score_max)
    dots = [
        Dot(
            scale.x(p.check_in.completed_at),
            scale.y(p.check_in.total),
            p.check_in.total,
            bool(p.check_in.flags),
        )
        for p in trend.points
    ]
    # Check-ins with no course have no phase to label.
    phases = [
        Marker(scale.x(p.start + (p.end - p.start) / 2), p.phase.replace("_", " "), p.phase)
        for p in trend.phases
        if p.phase is not None
    ]
    x_ticks, y_ticks = ticks(trend, scale)
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        right=WIDTH - RIGHT,
        top=TOP,
        bottom=HEIGHT - BOTTOM,
        bands=bands_of(trend, scale),
        line=" ".join(f"{d.x},{d.y}" for d in dots),
        dots=dots,
        baseline_y=scale.y(trend.baseline.check_in.total) if trend.baseline else None,
        infusions=[
            Marker(scale.x(i.infusion.administered_at), str(i.infusion.number), i.phase)
            for i in trend.infusions
        ],
        phases=phases,
        x_ticks=x_ticks,
        y_ticks=y_ticks,
    )
