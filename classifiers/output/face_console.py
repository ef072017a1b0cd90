"""What compare-models --faces and score --faces print beside the tables they share with frames (issue 24).

Functions return rich renderables or lines; `cli.py` prints them. Nothing here computes a result.
"""

from __future__ import annotations


from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from classifiers.chain.face_decide import UNKNOWN

from .notes import faces_unlike_words
from .numbers import number_cell, screen_time_cell


def face_label_lines(result) -> list[str]:
    """How the labelled faces got their labels and what was left out, in two lines."""
    c = result.label_counts
    settled = c.get("leftover", 0) + c.get("none", 0)
    unknown = max(c.get("unknown", settled), settled)  # named `unknown` too (track names, clusters); older counts lack it
    lines = [f"labelled faces: {c.get('faces', 0) - c.get('unlabelled', 0)} of {c.get('faces', 0)} -- "
             f"{c.get('single', 0)} alone with one actor, {c.get('track', 0)} by a track spanning an interval, "
             f"{c.get('assigned', 0)} assigned under a first model, {c.get('box', 0)} by boxes, "
             f"{c.get('named', 0)} by track names, {c.get('cluster', 0)} by named clusters; {unknown} of them unknown people "
             f"({c.get('leftover', 0)} left over, {c.get('none', 0)} where no actor is labelled, {unknown - settled} named "
             f"{UNKNOWN})",
             f"left out: {c.get('unlabelled', 0)} faces outside labelled samples, {c.get('low_quality', 0)} below quality "
             f"{result.min_quality:g}; {c.get('missed', 0)} labelled actor-samples had no face for the actor"]
    return lines


def face_board_table(result):
    """Per model: what faces add to the leaderboard (all in --report)."""
    headers = ["model", "worst %", "s acc", "tracked %", "as cast %", "face acc", "threshold"]
    rows = []
    for row in result.leaderboard.to_dict(orient="records"):
        if row["status"] != "ok":
            continue
        rows.append([f"★ {row['model']}" if row["winner"] else row["model"], number_cell(row["worst_error_pct_of_video"], 1),
                     number_cell(row["worst_second_accuracy"], 3), number_cell(row["tracked_error_pct"], 1),
                     number_cell(row["unknown_as_cast_pct"], 1), number_cell(row["face_accuracy"], 3), number_cell(row["unknown_threshold"], 2)])
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1, 0, 1), collapse_padding=True, pad_edge=False)
    for i, header in enumerate(headers):
        table.add_column(header, justify="left" if i == 0 else "right")
    for r in rows:
        table.add_row(*r, style="bold green" if r[0].startswith("★") else None)
    return Group(Text("faces, held out: worst % = the worst actor's screen-time error in a video, % of its labelled "
                      "seconds; s acc = the worst actor's per-second accuracy; tracked % = screen-time error of the "
                      "tracked figure; as cast % = faces of unknown people called an actor; face acc = faces named "
                      "right; the unknown threshold"), table)


def face_screen_time_tables(result) -> list[Table]:
    """One table per video scored from faces, and a total table when there are several; a video unlike the training
    videos says so in its caption (`classifiers.output.notes.faces_unlike_words`)."""
    tables = []
    level = getattr(result, "interval_level", None)
    for v in result.videos:
        note = result.interval_note
        if v.screen_time_interval_s is not None and level is not None:
            note = f"(low–high): {note}"
        if v.unlike_training:
            note = f"unlike the training videos: {faces_unlike_words(v)}" + (f"\n{note}" if note else "")
        rate = f"{v.sample_fps:g} sample/s" if v.sample_fps == 1 else f"{v.sample_fps:g} samples/s"
        table = Table(title=f"{v.video_id}: {v.duration_s:.1f} s, {rate}, {len(v.faces.label)} faces, smoothing "
                            f"{result.model_info['faces']['smoothing']}", caption=note or None)
        for col in ("actor", "seen", "tracked", "share", "appearances", "first s", "last s"):
            table.add_column(col, justify="left" if col == "actor" else "right")
        for c in result.classes:
            interval = v.screen_time_interval_s[c] if v.screen_time_interval_s is not None else None
            table.add_row(c, screen_time_cell(v.screen_time_s[c], interval), f"{v.tracked_s[c]:.1f} s",
                          f"{100 * v.share[c]:.1f}%", str(v.n_appearances[c]), _opt(v.first_s[c]), _opt(v.last_s[c]))
        table.add_section()
        for name, seconds in (("together", v.together_s), ("no actor", v.none_s), ("unknown people", v.unknown_s)):
            share = seconds / v.duration_s if v.duration_s else 0.0
            table.add_row(name, f"{seconds:.1f} s", "", f"{100 * share:.1f}%", "", "", "")
        tables.append(table)
    if len(result.videos) > 1:
        duration_s = sum(v.duration_s for v in result.videos)
        total = result.total_screen_time_s
        table = Table(title=f"total over {len(result.videos)} videos, {duration_s:.1f} s")
        for col in ("actor", "seen s", "tracked s", "share"):
            table.add_column(col, justify="left" if col == "actor" else "right")
        for c in result.classes:
            table.add_row(c, f"{total[c]:.1f}", f"{sum(v.tracked_s[c] for v in result.videos):.1f}",
                          f"{100 * total[c] / duration_s if duration_s else 0:.1f}%")
        table.add_section()
        unknown = sum(v.unknown_s for v in result.videos)
        table.add_row("unknown people", f"{unknown:.1f}", "", f"{100 * unknown / duration_s if duration_s else 0:.1f}%")
        tables.append(table)
    return tables


def _opt(x) -> str:
    return "-" if x is None else f"{x:.1f}"


