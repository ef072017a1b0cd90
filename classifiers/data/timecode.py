"""Times as people write them: seconds (12.5, 12.5s), mm:ss(.fff), hh:mm:ss(.fff), and SMPTE hh:mm:ss:ff.

Seconds and clock times are seconds at once. A SMPTE timecode counts frames, so it is a `FrameTime`, resolved
to seconds only when the video's frame rate is known (at the join, from the store: `classifiers.data.resolve`).
Frame numbers of Label Studio ranges and CVAT tracks are `FrameTime` too.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

# ASCII digits only, and few of them: '8_4' is not 84, '١٢' not 12, and no time overflows a float.
_CLOCK = re.compile(r"^(?:([0-9]{1,6}):)?([0-9]{1,6}):([0-9]{1,2}(?:\.[0-9]{0,15})?)$")  # [hh:]mm:ss[.fff]
_SMPTE = re.compile(r"^([0-9]{1,6}):([0-9]{1,2}):([0-9]{1,2})[:;]([0-9]{1,6})$")  # hh:mm:ss:ff (';' is drop-frame, refused)
_SECONDS = re.compile(r"^[+-]?(?:[0-9]{1,12}(?:\.[0-9]{0,15})?|\.[0-9]{1,15})(?:[eE][+-]?[0-9]{1,3})?$")
MAX_TIME_S = 1e7  # 115 days: no video is longer


@dataclass(frozen=True)
class FrameTime:
    """A time counted in frames of a video: `seconds` whole seconds (SMPTE's hh:mm:ss, else 0), then `frames` frames.

    SMPTE non-drop-frame timecode counts frames at the nominal rate (30 for 29.97 fps video), so the time is
    ``(seconds * round(fps) + frames) / fps``; for whole rates that is ``seconds + frames / fps``.
    """

    seconds: int
    frames: int
    text: str = ""  # as written, for messages
    is_smpte: bool = False  # hh:mm:ss:ff, whose ff must be a frame of one second

    def to_seconds(self, fps: float) -> float:
        """Seconds from the start of a video of `fps` frames per second."""
        return (self.seconds * max(round(fps), 1) + self.frames) / fps

    def fits(self, fps: float) -> bool:
        """False for an hh:mm:ss:ff whose ff is not a frame of one second at `fps` (ff >= round(fps))."""
        return not self.is_smpte or self.frames < max(round(fps), 1)


def parse_time(text: str) -> float | FrameTime:
    """A labels file's time: seconds (float) from ``12.5`` (or ``12.5s``), ``1:05.5`` or ``0:01:05.5``; a `FrameTime` from
    SMPTE ``00:01:05:12`` (12 frames after 1:05).

    Raises
    ------
    ValueError
        With what is wrong and how to write it, when `text` is none of these (digits other than ASCII, '8_4'),
        negative, not finite, or over `MAX_TIME_S`.
    """
    text = text.strip()
    if len(text) > 40:
        raise ValueError(f"is {len(text)} characters long, too long for a time; write seconds (12.5) or a timecode (1:05.5)")
    smpte = _SMPTE.match(text)
    if smpte:
        hours, minutes, seconds, frames = (int(g) for g in smpte.groups())
        if ";" in text:
            raise ValueError("is a drop-frame timecode (hh:mm:ss;ff), which is not supported; "
                             "write non-drop-frame hh:mm:ss:ff or seconds")
        _check_clock(minutes, seconds)
        return FrameTime(_bounded((hours * 60 + minutes) * 60 + seconds), frames, text, is_smpte=True)
    clock = _CLOCK.match(text)
    if clock:
        hours, minutes = int(clock.group(1) or 0), int(clock.group(2))
        seconds = float(clock.group(3))
        _check_clock(minutes if clock.group(1) else 0, seconds)
        return _bounded((hours * 60 + minutes) * 60 + seconds)
    number = text[:-1].rstrip() if text[-1:] in ("s", "S") else text  # '65s', '12.5 s': seconds with their unit
    value = float(number) if _SECONDS.match(number) else float("nan")
    if not math.isfinite(value):
        hint = " (with a decimal point, not a comma)" if "," in text else ""
        raise ValueError(f"is not a number of seconds; write it like 12.5{hint}, or as a timecode: 1:05.5 (mm:ss), "
                         "0:01:05.5 (hh:mm:ss) or 00:01:05:12 (hh:mm:ss:ff)")
    if value < 0:
        raise ValueError("is negative; times count from the start of the video")
    return _bounded(value)


def _bounded(seconds):
    if seconds > MAX_TIME_S:
        raise ValueError(f"is more than {MAX_TIME_S:g} s ({MAX_TIME_S / 86400:.0f} days); no video is that long")
    return seconds


def _check_clock(minutes: int, seconds: float) -> None:
    if minutes >= 60 or seconds >= 60:
        raise ValueError("has minutes or seconds of 60 or more; write mm:ss with ss under 60 (1:05, not 0:65)")

