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
