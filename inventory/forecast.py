"""Daily demand forecast with weekly seasonality: an exponentially smoothed level times
day-of-week factors (a Holt-Winters-like multiplicative model without trend).

Pure functions over lists of numbers: deterministic, no database. A series with an exact weekly
pattern is reproduced exactly (the factors are the pattern over its mean, the level its mean).
"""

import math
from dataclasses import dataclass
from datetime import date, timedelta

DEFAULT_ALPHA = 0.2


@dataclass(frozen=True)
class WeeklyForecast:
    level: float  # deseasonalised units a day at the end of the history
    factors: tuple[float, ...]  # seven day-of-week factors, Monday first, averaging 1
    sigma: float  # standard deviation of the one-day-ahead errors over the history
    days: int  # length of the history

    def for_weekday(self, weekday: int) -> float:
        return self.level * self.factors[weekday]

    def predict(self, start: date, days: int) -> list[float]:
        """Forecast for each day from ``start`` (the day after the history) on."""
        return [self.for_weekday((start + timedelta(days=i)).weekday()) for i in range(days)]

    @property
    def mean_daily(self) -> float:
        return self.level  # the factors average 1 over a week


def seasonal_factors(series: list[float], start_weekday: int) -> tuple[float, ...]:
    """Mean demand per weekday over the overall mean, normalised to average 1. A weekday with no
    observations gets 1; with no demand at all every factor is 1."""
    sums = [0.0] * 7
    counts = [0] * 7
    for i, y in enumerate(series):
        w = (start_weekday + i) % 7
        sums[w] += y
        counts[w] += 1
    means = [sums[w] / counts[w] if counts[w] else None for w in range(7)]
    seen = [m for m in means if m is not None]
    overall = sum(seen) / len(seen) if seen else 0.0
    if overall <= 0:
        return (1.0,) * 7
    raw = [m / overall if m is not None else 1.0 for m in means]
    scale = sum(raw) / 7
    return tuple(f / scale for f in raw)


def fit_weekly(series: list[float], *, start: date, alpha: float = DEFAULT_ALPHA) -> WeeklyForecast:
    """Fit level and day-of-week factors to a daily series that begins on ``start``."""
    if not 0 < alpha <= 1:
        raise ValueError("alpha must be in (0, 1]")
    series = [float(y) for y in series]
    n = len(series)
    if n == 0:
        return WeeklyForecast(0.0, (1.0,) * 7, 0.0, 0)
    first = start.weekday()
    factors = seasonal_factors(series, first)
    head = series[: min(7, n)]
    deseason = [y / factors[(first + i) % 7] for i, y in enumerate(head) if factors[(first + i) % 7] > 0]
    level = sum(deseason) / len(deseason) if deseason else 0.0
    squared = 0.0
    for i, y in enumerate(series):
        f = factors[(first + i) % 7]
        squared += (y - level * f) ** 2
        if f > 0:
            level = alpha * (y / f) + (1 - alpha) * level
    return WeeklyForecast(level, factors, math.sqrt(squared / n), n)


def naive_same_weekday(series: list[float], days: int) -> list[float]:
    """The baseline: each day of the horizon repeats the same weekday of the last observed week."""
    if len(series) < 7:
        return [0.0] * days
    last_week = series[-7:]
    return [float(last_week[i % 7]) for i in range(days)]


def mean_absolute_error(actual: list[float], predicted: list[float]) -> float:
    if not actual:
        return 0.0
    return sum(abs(a - p) for a, p in zip(actual, predicted, strict=True)) / len(actual)


def weighted_absolute_percentage_error(actual: list[float], predicted: list[float]) -> float:
    """sum |error| / sum actual (WAPE): robust to days with no demand."""
    total = sum(actual)
    if total == 0:
        return 0.0
    return sum(abs(a - p) for a, p in zip(actual, predicted, strict=True)) / total
