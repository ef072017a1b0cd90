"""Subtitles of score results: who the model thinks is on screen, as cues to watch in VLC or mpv (issue 18).

One cue per stretch of time with the same answer: the class ("tom") for a single-label model; for a
multi-label model the characters on screen together ("jerry + tom"), and no cue where none is; a face model adds
"unknown" where a face of nobody labelled is seen ("obama + unknown"). Written by
pysubs2 as WebVTT (``--vtt``) or SubRip (``--srt``). A FILE takes one video; a folder gets one file per video
named after it (``ep3.mp4`` -> ``ep3.vtt``), so a player beside the video loads it by itself. A video unlike the
training videos starts with a cue that says so (and a NOTE in the WebVTT header).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from classifiers.chain.face_decide import UNKNOWN
from classifiers.chain.timeline import VideoScreenTime
from featurestore.errors import InvalidParameter

from .notes import unlike_note

FORMATS = {"vtt": "vtt", "srt": "srt"}  # our format name -> pysubs2's
WARNING_CUE_S = 5.0  # how long a flagged video's warning shows at its start, seconds
#: Line breaks and other control characters (C0, DEL, C1, line and paragraph separators) inside cue text.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
DIGIT_COLON = re.compile(r"(?<=\d):(?=\d)")
SRT_LOOKALIKES = str.maketrans({"<": "\u2039", ">": "\u203a", "{": "\uff5b", "}": "\uff5d"})
#: A cue of many names: lines of about this many characters (as subtitles are written), at most this many lines.
LINE_CHARS, MAX_LINES = 42, 3


def cues(video: VideoScreenTime) -> list[tuple[float, float, str]]:
    """(start_s, end_s, text) in time order; consecutive samples with the same answer make one cue."""
    return [(start, end, " + ".join(names)) for start, end, names in _runs(video)]


def _runs(video: VideoScreenTime) -> list[tuple[float, float, tuple[str, ...]]]:
    """(start_s, end_s, the names on screen) in time order, as `cues`."""
    if not video.multi_label:
        return [(s.start_s, s.end_s, (s.label,)) for s in video.segments if s.end_s > s.start_s]
    unknown = getattr(video, "unknown_on", None)  # a face model's: samples with a face of nobody labelled
    unknown = np.zeros(len(video.labels), bool) if unknown is None else np.asarray(unknown, dtype=bool)
    texts = [tuple((*x, UNKNOWN) if u else x) for x, u in zip(video.labels, unknown)]
    starts = np.array(video.sample_s, dtype=np.float64)
    if len(starts):
        starts[0] = min(0.0, starts[0])  # the first sample also covers [0, t0) (`classifiers.chain.timeline`)
    ends = starts + video.sample_duration_s
    out: list[tuple[float, float, tuple[str, ...]]] = []
    for i, text in enumerate(texts):
        if i and text == texts[i - 1] and out and out[-1][2] == text:
            out[-1] = (out[-1][0], float(ends[i]), text)
        elif text and ends[i] > starts[i]:
            out.append((float(starts[i]), float(ends[i]), text))
    return out


def subtitle_text(video: VideoScreenTime, fmt: str) -> str:
    """The subtitle file of one video in `fmt` ('vtt' or 'srt'), as text: one cue per `cues` entry, whatever the
    class names hold (`escape_cue`)."""
    import pysubs2

    subs = pysubs2.SSAFile()
    note = unlike_note(video)
    if note:  # a flagged video says so on screen for its first seconds (issue 26), and in WebVTT's header
        end_s = min(WARNING_CUE_S, video.duration_s) or WARNING_CUE_S
        subs.append(pysubs2.SSAEvent(start=0, end=int(round(end_s * 1000)), text=escape_cue(f"[{note}]", fmt)))
    for start, end, names in _runs(video):
        subs.append(pysubs2.SSAEvent(start=int(round(start * 1000)), end=int(round(end * 1000)), text=cue_text(names, fmt)))
    text = subs.to_string(FORMATS[fmt], keep_ssa_tags=True)  # the text as escaped: pysubs2 reads no tag in it
    if note and fmt == "vtt" and text.startswith("WEBVTT"):
        head, _, rest = text.partition("\n")
        text = f"{head}\n\nNOTE {escape_cue(f'screentime: {video.video_id} is {note}', fmt)}\n{rest}"
    return text


def cue_text(names: tuple[str, ...], fmt: str) -> str:
    """The text of a cue naming `names` ("jerry + tom"), each escaped (`escape_cue`); when many are on screen at once
    (a cast of 30), lines of about `LINE_CHARS` characters, each but the last ending in "+", at most `MAX_LINES`, the
    last then saying how many more ("+ 4 more"), so that a cue does not cover the picture."""
    shown = [" ".join(CONTROL.sub(" ", n).split()) or "?" for n in names]
    lines: list[list[int]] = [[]]
    for i, name in enumerate(shown):
        width = sum(len(shown[k]) + 3 for k in lines[-1]) + len(name)
        if lines[-1] and width > LINE_CHARS:
            lines.append([])
        lines[-1].append(i)
    more = sum(len(line) for line in lines[MAX_LINES:])
    text = [" + ".join(escape_cue(names[k], fmt) for k in line) for line in lines[:MAX_LINES]]
    if more:
        text[-1] += f" + {more} more"
    return " +\\N".join(text)  # pysubs2's line break: a name cannot hold one (escape_cue)


def escape_cue(text: str, fmt: str) -> str:
    """Cue text that shows `text` and can do nothing else (issue 23: class names travel in shared model files).

    Line breaks and other control characters become spaces, so a name cannot end its cue or start another.
    WebVTT: ``& < >`` as character references (so ``-->`` and tags are text); SubRip, which has none: ``< > { }``
    as the look-alikes ``‹ › ｛ ｝`` (players read ``<b>`` and ASS overrides such as ``{\\an8}`` there). A word
    joiner (U+2060, invisible) follows each backslash, so that no ``\\N`` or ``\\h`` forms, and each colon
    between digits, so that no timestamp does (lenient readers, pysubs2 among them, take any line with two
    timestamps for a cue's timing line).
    """
    text = " ".join(CONTROL.sub(" ", text).split()) or "?"
    text = DIGIT_COLON.sub(":\u2060", text.replace("\\", "\\\u2060"))
    if fmt == "vtt":
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.translate(SRT_LOOKALIKES)


def is_single_file(path: str | os.PathLike, fmt: str) -> bool:
    """Whether `path` names one subtitle file (it ends in .vtt / .srt), rather than a folder."""
    return Path(path).suffix.lower() == f".{fmt}" and not Path(path).is_dir()


def check_subtitle_path(path: str | os.PathLike | None, fmt: str, n_videos: int) -> None:
    """Refuse, before any work, a subtitle path that cannot take the videos: '-', or one FILE for several videos."""
    if path is None:
        return
    param = f"{fmt}_path"
    if str(path) == "-":
        raise InvalidParameter(param, f"give a .{fmt} file or a folder, not -")
    if is_single_file(path, fmt) and n_videos > 1:
        raise InvalidParameter(param, f"{path} is one file and {n_videos} videos are scored; give a folder for one "
                                      f".{fmt} file per video")


def subtitle_paths(path: str | os.PathLike, fmt: str, video_ids: list[str]) -> dict[str, Path]:
    """video_id -> the file its subtitles go to: `path` itself, or `path`/<video name>.<fmt> for a folder (its stem
    where no other video has it, else its file name, else its id with '_' for '/': season1_ep1.mp4.vtt)."""
    path = Path(path)
    if is_single_file(path, fmt):
        return {video_ids[0]: path} if video_ids else {}
    stems = [Path(v).stem or v for v in video_ids]
    names = [s if stems.count(s) == 1 else Path(v).name for s, v in zip(stems, video_ids)]  # ep.mp4, ep.mkv: keep both
    names = [n if names.count(n) == 1 else v.replace("/", "_") for n, v in zip(names, video_ids)]  # s1/ep.mp4, s2/ep.mp4
    return {v: path / f"{n}.{fmt}" for v, n in zip(video_ids, names)}
