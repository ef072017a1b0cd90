"""Plain words for what `score`'s outputs say (issue 26): a video unlike the training videos (the JSON, the report's
banner, the timeline PNG and the subtitles say it in the same words), and "likely range" for an interval, with its
level as people say it ("3 in 4"); the statistics stay in a details line."""

from __future__ import annotations

from classifiers.chain.face_familiarity import QUALITY_PARTS as _POORER
from classifiers.chain.timeline import VideoScreenTime

#: What a flagged video's outputs say, in a few words (the report and the warning say what to do next).
UNLIKE = "unlike the training videos: its screen time may be far off"
#: Why a face model flags a video, in plain words (the warning, the console and the report say it; issue 24).
FACES_UNLIKE = ("its faces are further from the labelled faces than any held-out video was: the error bars may be "
                "too narrow")
#: What faces too degraded to be named do to a face model's screen times (`FaceFamiliarity.faults`).
FACES_DEGRADED = "actors' time may be under-counted, unknown people's over-counted"


def faces_degraded(video) -> str:
    """What is off with a face-scored video's faces, in plain words: 'its faces are blurrier than 19 in 20 training
    faces' (a quality part fired), or 'few of its faces look like an actor's labelled faces' (few near, not far); ''
    otherwise."""
    faults = list(getattr(video, "faults", None) or [])
    poorer = [_POORER[f] for f in faults if f in _POORER]
    if poorer:
        return f"its faces are {' and '.join(poorer)} than 19 in 20 training faces"
    if "few near" in faults and "far" not in faults:  # far as well: mostly other people, as `FACES_UNLIKE` says
        return ("few of its faces look like an actor's labelled faces (faces too compressed, blurred, dark or small "
                "look so)")
    return ""


def faces_unlike_words(video) -> str:
    """Why a flagged face-scored video is unlike the training videos and what that does, in plain words (the
    console's caption and the report say it)."""
    degraded = faces_degraded(video)
    return f"{degraded}: {FACES_DEGRADED}" if degraded else FACES_UNLIKE


def faces_consequence(video) -> str:
    """What a flagged face-scored video's screen times may be, in plain words: `FACES_DEGRADED` for degraded faces,
    else `FACES_UNLIKE`."""
    return FACES_DEGRADED if faces_degraded(video) else FACES_UNLIKE


def unlike_note(video: VideoScreenTime) -> str | None:
    """`UNLIKE` for a video further from the training samples than cross-validation's held-out videos were (for
    faces too degraded to be named, what is off and `FACES_DEGRADED`), else None (also when the model cannot tell)."""
    if not video.unlike_training:
        return None
    return f"unlike the training videos: {faces_unlike_words(video)}" if faces_degraded(video) else UNLIKE


def unlike_reason(video: VideoScreenTime, reference: dict | None) -> str:
    """Why a flagged video is unlike the training videos, in the features that flagged it (a few words), from the
    model's `TrainingReference.describe()` (or a face model's `FaceFamiliarity.describe()`); '' when nothing
    flagged it."""
    if (reference or {}).get("faces"):
        return "; ".join(_faces_reasons(video, reference))
    parts = []
    for what, distance, ref in (("its samples are", video.training_distance, reference),
                                ("its frames as embedded (before the per-video stages) are", video.raw_training_distance,
                                 (reference or {}).get("raw"))):
        if distance is not None and ref and ref.get("threshold") is not None and distance > ref["threshold"]:
            furthest = max(ref.get("held_out", {}).values(), default=float("nan"))
            parts.append(f"{what} {distance:.2f} from the training samples, held-out videos at most {furthest:.2f}")
    return "; ".join(parts)


def _faces_reasons(video, reference: dict) -> list[str]:
    """Each check that flagged a face-scored video, in a few words with its numbers (`FaceFamiliarity.describe()`)."""
    out, faults = [], list(getattr(video, "faults", None) or [])
    degraded = faces_degraded(video)
    if degraded:
        out.append(degraded)
    distance, threshold = video.training_distance, reference.get("threshold")
    if distance is not None and threshold is not None and distance > threshold:
        furthest = max(reference.get("held_out", {}).values(), default=float("nan"))
        out.append(f"its faces are {distance:.2f} from the labelled faces, held-out videos at most {furthest:.2f}, "
                   f"threshold {threshold:.2f}")
    if "few near" in faults:
        lowest = min(reference.get("held_out_near", {}).values(), default=None)
        held = "" if lowest is None else f", held-out videos at least {100 * lowest:.0f}%"
        out.append(f"{100 * video.near_share:.0f}% of its faces lie within {reference.get('near_distance', 0):g} of an "
                   f"actor's labelled face{held}, threshold {100 * (reference.get('near_threshold') or 0):.0f}%")
    for part in faults:
        if part in _POORER and video.poorer and (reference.get("low") or {}).get(part) is not None:
            low = reference["low"][part]
            cut = (reference.get("cut") or {}).get(part, low)
            where = ("1 in 20 training faces has" if cut >= low
                     else f"where faces lose detail; 19 in 20 training faces have over {low:.3g}")
            out.append(f"{100 * video.poorer[part]:.0f}% of its faces have a {part.replace('_px', ' (px)')} under "
                       f"{cut:.3g} ({where})")
    return out


def level_in_words(level: float | None) -> str:
    """A level as people say it: 0.75 -> '3 in 4', 0.8 -> '4 in 5', 0.9 -> '9 in 10', 0.95 -> '19 in 20'."""
    from fractions import Fraction

    if level is None:
        return ""
    f = Fraction(float(level)).limit_denominator(20)
    return f"{f.numerator} in {f.denominator}"


def likely_range_words(level: float | None) -> str:
    """What a likely range promises, in words ('' without one): the statistics stay in the method's details line."""
    if level is None:
        return ""
    return (f"the true screen time falls inside the likely range for about {level_in_words(level)} videos like the "
            "ones held out in cross-validation")


#: A sample is unsure when the likeliest class has less than even odds (single-label), or when a character's
#: probability lies this close to its threshold (multi-label): the answer there could as well have been another.
UNSURE_P, UNSURE_MARGIN = 0.5, 0.1
#: The report warns about a video unsure over at least this share of its duration.
UNSURE_WARN_SHARE = 0.5


def unsure_share(video: VideoScreenTime, thresholds: dict | None = None) -> float | None:
    """The share of `video`'s duration (0-1) where the model was unsure (`UNSURE_P`, `UNSURE_MARGIN`); None for a
    face model's video (its probabilities are per face) or a video with no sample."""
    import numpy as np

    if getattr(video, "faces", None) is not None or not len(video.sample_s) or not video.duration_s:
        return None
    proba = np.asarray(video.proba, dtype=float)
    if video.multi_label:
        th = np.array([float((thresholds or {}).get(c, 0.5)) for c in video.classes])
        unsure = (np.abs(proba - th) < UNSURE_MARGIN).any(axis=1)
    else:
        unsure = proba.max(axis=1) < UNSURE_P
    durations = np.asarray(video.sample_duration_s, dtype=float)
    return float(min(1.0, durations[unsure].sum() / max(durations.sum(), 1e-12)))


def unsure_how(video: VideoScreenTime) -> str:
    """What unsure means for `video`'s model, in a few words."""
    return (f"some character's probability within {UNSURE_MARGIN:g} of its threshold" if video.multi_label
            else f"no class reached a probability of {UNSURE_P:g}")


def unsure_words(video: VideoScreenTime, share: float) -> str:
    """A warning about a video the model was unsure over `share` of (0-1), in plain words."""
    return (f"{video.video_id}: the model was unsure over {100 * share:.0f}% of it ({unsure_how(video)}): its screen "
            "times there are guesses; label some of it and retrain.")
