"""Error bars on screen time, from how wrong whole held-out videos were in cross-validation.

For every video that cross-validation held out whole, and every class, the signed error of the
predicted screen time is recorded as a share of the video's labelled seconds:
``e = (predicted_s - true_s) / labelled_s``. These shares are saved with the model. For a new video of
`duration_s` seconds with predicted screen time ``p`` of a class, the interval at `level` is

    p -+ max(t_df((1 + level) / 2) * rms(e) * duration_s, one sampling interval),   clipped to [0, duration_s],

with ``rms(e)`` over every (video, class) error and ``df = n_videos``: the prediction interval for one
more error drawn like the recorded ones (zero-centred normal errors of unknown spread). The spread is
pooled over classes because a handful of videos per class cannot estimate one each: with 4 videos one
class's errors can all be small by luck, and its interval would be too narrow for the next video
(bench/accuracy.py, issue 7). The degrees of freedom are the videos, not the (video, class) pairs: a
video's errors share its difficulty (a hard episode is off in every class, and a single-label model's
errors in one video sum to 0), so they are not independent draws, and counting each pair made the
intervals too narrow on new episodes (72% and 83% coverage at 90% on two bench datasets). The mean error
is taken as 0, so no degree is spent on it. With fewer than `MIN_VIDEOS_FOR_INTERVAL` held-out videos no
interval is given at all, and the reason is said instead. A multi-label model's characters are handled
the same way.

The errors come from videos like the labelled ones. A new episode unlike all of them (another
camera style, lighting, character size) can be further off than the interval says.
"""

from __future__ import annotations

import numpy as np

INTERVAL_LEVEL = 0.9
#: Fewer held-out videos than this give no interval (two errors say little about a third).
MIN_VIDEOS_FOR_INTERVAL = 3
WHOLE_VIDEO_SCHEMES = ("grouped", "leave-one-video-out")


def error_spread(records: list[dict], classes: list[str], scheme: str, *, multi_label: bool = False) -> dict:
    """What the saved model keeps to give intervals later: per-class error shares of held-out videos.

    Parameters
    ----------
    records : list of dict
        One per held-out video: ``{"video": str, "labelled_s": float, "true_s": {class: s}, "predicted_s": {class: s}}``.
    classes : list of str
    scheme : str
        The cross-validation scheme; only whole-video schemes give usable errors.
    multi_label : bool
        The classes are characters that can share the screen (recorded as ``"multi_label": true``).

    Returns
    -------
    dict, JSON-able: ``{"n_videos": int, "videos": [str], "error_share": {class: [float per video]}, "note": str}``
    (and ``"multi_label": true`` for characters); `note` is non-empty when no interval can be given, and says why.
    """
    if scheme not in WHOLE_VIDEO_SCHEMES:
        return {"n_videos": 0, "videos": [], "error_share": {},
                "note": f"no interval: cross-validation held out no whole video ({scheme} split); "
                        f"label at least {MIN_VIDEOS_FOR_INTERVAL} videos"}
    records = [r for r in records if r["labelled_s"] > 0]
    shares = {c: [float((r["predicted_s"].get(c, 0.0) - r["true_s"].get(c, 0.0)) / r["labelled_s"]) for r in records]
              for c in classes}
    note = ""
    if len(records) < MIN_VIDEOS_FOR_INTERVAL:
        note = (f"no interval: only {len(records)} labelled videos were held out in cross-validation, "
                f"at least {MIN_VIDEOS_FOR_INTERVAL} are needed to estimate one; label more videos")
    spread = {"n_videos": len(records), "videos": [str(r["video"]) for r in records], "error_share": shares, "note": note}
    return {**spread, "multi_label": True} if multi_label else spread


def half_width_share(spread: dict, level: float = INTERVAL_LEVEL) -> dict[str, float] | None:
    """Half-width of the interval per class, as a share of a video's duration; None without an interval."""
    _check_level(level)
    if not spread or spread.get("note") or spread.get("n_videos", 0) < MIN_VIDEOS_FOR_INTERVAL:
        return None
    from scipy.stats import t as student_t

    errors = np.concatenate([np.asarray(e, dtype=np.float64) for e in spread["error_share"].values()])
    df = int(spread["n_videos"])  # the videos are the independent draws (module docstring)
    half = float(student_t.ppf((1.0 + level) / 2.0, df=df)) * float(np.sqrt(np.mean(np.square(errors))))
    return {c: half for c in spread["error_share"]}


def screen_time_interval(screen_time_s: dict[str, float], duration_s: float, spread: dict,
                         level: float = INTERVAL_LEVEL, *, min_half_width_s: float = 0.0) -> dict[str, tuple[float, float]] | None:
    """Interval on each class's screen time in one video, in seconds; None when the model has none.

    Parameters
    ----------
    screen_time_s : dict of class -> predicted seconds
    duration_s : float
        Length of the video, in seconds.
    spread : dict
        As returned by `error_spread` (saved with the model).
    level : float
        Share of new videos whose true screen time the interval is meant to contain, in (0, 1).
    min_half_width_s : float
        Narrowest half-width, in seconds (one sampling interval: no count of samples is more exact).
    """
    half = half_width_share(spread, level)
    if half is None:
        return None
    out = {}
    for c, p in screen_time_s.items():
        h = max(half.get(c, 0.0) * duration_s, min_half_width_s)
        out[c] = (float(max(0.0, p - h)), float(min(duration_s, p + h)))
    return out


def interval_note(spread: dict) -> str:
    """One line on where the intervals come from, or why there are none."""
    if not spread:
        return "no interval: this model was saved without cross-validation errors; retrain it with compare-models"
    if spread.get("note"):
        return spread["note"]
    return (f"intervals from the screen-time errors of {spread['n_videos']} whole videos held out in cross-validation")


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise ValueError(f"interval level must be between 0 and 1 (e.g. 0.9), got {level}")
