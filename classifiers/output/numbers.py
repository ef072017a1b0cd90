"""How numbers read in the tables the commands print: a screen time with its likely range, any figure to a few digits."""

from __future__ import annotations

import math


def screen_time_cell(seconds: float, interval) -> str:
    """'81.0 s (72–90)': screen time with its interval (one decimal when the interval is under 10 s wide)."""
    if interval is None:
        return f"{seconds:.1f} s"
    lo, hi = interval
    digits = 0 if hi - lo >= 10 else 1
    return f"{seconds:.1f} s ({lo:.{digits}f}–{hi:.{digits}f})"


def number_cell(value, digits: int) -> str:
    """`value` to `digits` decimals; '–' for None or NaN (a figure that cannot be had)."""
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def format_clock(value) -> str:
    """Seconds as m:ss (h:mm:ss past an hour), with tenths when not whole."""
    if value is None:
        return "–"
    value = float(value)
    whole = abs(value - round(value)) < 1e-6
    h, rest = divmod(round(value) if whole else value, 3600)
    m, s = divmod(rest, 60)
    sec = f"{int(s):02d}" if whole else f"{s:04.1f}"
    return f"{int(h)}:{int(m):02d}:{sec}" if h else f"{int(m)}:{sec}"


def clock_ticks(end_s: float, n: int = 8) -> list[float]:
    """About `n` tick times (seconds) over [0, `end_s`] at round steps: 1, 2, 5 x 10^k s, whole minutes past 30 s."""
    raw = end_s / n
    step = min((m * 10 ** math.floor(math.log10(raw)) for m in (1, 2, 5, 10) if m * 10 ** math.floor(math.log10(raw)) >= raw),
               default=raw) if raw > 0 else 1.0
    for nice in (60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0):  # minutes read better than 500 s
        if step > 30 and nice >= step:
            step = nice
            break
    return [i * step for i in range(int(end_s // step) + 1)]
