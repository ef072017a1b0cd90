"""Everything the commands print as results (embed, compare-models, score, suggest-labels, check-store, demo).

Functions return rich renderables or lines; `cli.py` prints them. Nothing here computes a result.
Tables are narrow by design: readable in an 80-column terminal.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from classifiers.chain.smoothing import Smoother
from classifiers.chain.timeline import total_interval

from .notes import likely_range_words
from .numbers import number_cell, screen_time_cell

from .face_console import face_board_table, face_label_lines, face_screen_time_tables

if TYPE_CHECKING:  # scikit-learn's import costs `embed` ~2 s of start-up (issue 27)
    from classifiers.selection.cv import CVPlan


def folds_table(plan: CVPlan) -> Group:
    """One column per fold; rows: training and test frames and videos, frames dropped by the gap, test frames per class.

    Folds are few (--folds) while classes may be many, so classes are rows: the table stays narrow.
    """
    summary = plan.summary
    names = {"train_frames": "train frames", "test_frames": "test frames", "train_videos": "train videos",
             "test_videos": "test videos", "gap_dropped_frames": "dropped by gap"}

    def label(column: str) -> str:
        for prefix, text in (("test_n_", "test "), ("train_n_", "train ")):
            if column.startswith(prefix):
                return text + column.removeprefix(prefix)
        return names.get(column, column.replace("_", " "))

    folds = summary["fold"].tolist() if "fold" in summary else list(range(1, len(summary) + 1))
    rows = [[label(col), *(str(v) for v in summary[col].tolist())] for col in summary.columns if col != "fold"]
    return _compact_table(plan.description, ["fold", *map(str, folds)], rows, n_left=1)


def leaderboard_table(result) -> Group:
    """The leaderboard of a `ComparisonResult`, best first, the winner starred, failed models last.

    Scores use each model's best smoother; "F1 raw" is macro F1 without smoothing (multi-label: the error on
    time together, % of the labelled seconds with two or more characters, instead). Per-class numbers
    are in `class_table`, failure reasons in `failure_lines`; every column is in the CSV/JSON report.
    """
    cv = result.cv
    multi = getattr(result, "multi_label", False)
    # multi-label: the error on time together replaces F1 without smoothing (in the report), to fit 80 columns
    headers = ["model", "smoothing", "macro F1 ±SE", "bal acc", "log loss", *([] if multi else ["F1 raw"]), "time err %",
               *(["together err %"] if multi else []), "fit s", "predict s"]
    sorted_by = {"macro_f1": "macro F1 ±SE", "balanced_accuracy": "bal acc", "log_loss": "log loss", "screen_time_error_pct": "time err %"}
    rows = []
    for row in result.leaderboard.to_dict(orient="records"):
        if row["status"] != "ok":
            rows.append([row["model"], "failed"] + [""] * (len(headers) - 2))
            continue
        rows.append([
            f"★ {row['model']}" if row["winner"] else row["model"], row["smoothing"], _pm(row, "macro_f1"),
            number_cell(row["balanced_accuracy"], 3), number_cell(row["log_loss"], 3), *([] if multi else [number_cell(row["macro_f1_unsmoothed"], 3)]),
            number_cell(row["screen_time_error_pct"], 1), *([number_cell(row["together_error_pct"], 1)] if multi else []),
            number_cell(row["fit_s"], 2), number_cell(row.get("predict_s"), 2),  # both per fold: comparable (issue 26)
        ])
    kind = ", per character (multi-label)" if multi else ""
    return _compact_table(f"models by {result.metric}, mean over {cv.n_splits} folds ({cv.scheme} split){kind}",
                          [("▶" if sorted_by[result.metric] == h else "") + h for h in headers], rows, n_left=2)


def class_table(result) -> Group:
    """Per class (rows) and model (columns): recall, and screen-time error as % of the class's labelled seconds."""
    board = [row for row in result.leaderboard.to_dict(orient="records") if row["status"] == "ok"]
    if getattr(result, "multi_label", False):
        return _character_table(result, board)
    rows = [[str(c), *(f"{number_cell(row[f'recall_{c}'], 2)} / {number_cell(row[f'screen_time_error_pct_{c}'], 1)}" for row in board)]
            for c in result.classes]
    table = _compact_table("per class: recall / screen-time error %", ["class", *(row["model"] for row in board)], rows,
                           n_left=1)
    return Group(table, face_board_table(result)) if getattr(result, "faces", False) else table  # issue 24


def _character_table(result, board: list[dict]) -> Group:
    """Multi-label: per character F1 / screen-time error % @ threshold; then time together and with none, and exact sets."""
    rows = [[str(c), *(f"{number_cell(row[f'f1_{c}'], 2)} / {number_cell(row[f'screen_time_error_pct_{c}'], 1)} @{row[f'threshold_{c}']:.1f}"
                       for row in board)] for c in result.classes]
    rows.append(["together", *(f"– / {number_cell(row['together_error_pct'], 1)}" for row in board)])
    rows.append([result.none_label, *(f"– / {number_cell(row['none_error_pct'], 1)}" for row in board)])
    rows.append(["exact set", *(f"{number_cell(row['exact_set_accuracy'], 2)}" for row in board)])
    return _compact_table("per character: F1 / screen-time error % @ threshold (chosen by CV); together, none: error %; "
                          "exact set: share of frames whose set of characters is right",
                          ["character", *(row["model"] for row in board)], rows, n_left=1)


def _compact_table(title: str, headers: list[str], rows: list[list[str]], n_left: int,
                   flexible: int | tuple[int, ...] = ()) -> Group:
    """A borderless table whose cells never wrap (headers may), so that it fits 80 columns where it can.

    Columns `flexible` (e.g. video names) may fold onto more lines instead, when the terminal is too narrow.
    The title is a line of its own above the table, wrapped at the terminal's width, not at the table's.
    """
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1, 0, 1), collapse_padding=True, pad_edge=False)
    for i, header in enumerate(headers):
        width = max([len(r[i]) for r in rows] + [len(word) for word in header.split()])
        if i in ((flexible,) if isinstance(flexible, int) else flexible):
            table.add_column(header, justify="left" if i < n_left else "right", overflow="fold")
        else:
            table.add_column(header, justify="left" if i < n_left else "right", min_width=width, max_width=width)
    for r in rows:
        table.add_row(*r, style="bold green" if r[0].startswith("★") else ("red" if len(r) > 1 and r[1] == "failed" else None))
    return Group(Text(title), table)


def cv_notes(result) -> list[str]:
    """Lines under the leaderboard: why the winner won, what the scores estimate (when not new videos), and the
    intervals' source."""
    from classifiers.chain.intervals import interval_note

    why = [f"chosen {what}: {reason}" for what, reason in getattr(result, "choice", {}).items()]
    faces = face_label_lines(result) if getattr(result, "faces", False) else []  # issue 24
    return [line for line in (*why, result.cv.caveat, interval_note(result.interval), *faces) if line]


def failure_lines(result) -> list[str]:
    """One line per failed model: its name and why."""
    board = result.leaderboard
    return [f"{r.model} failed: {r.error}" for r in board[board["status"] != "ok"].itertuples()]


def _pm(row: dict, name: str) -> str:
    """'0.781±0.031': the mean over folds and its standard error (the spread over folds where no SE is known)."""
    spread = row.get(name + "_se")
    spread = row[name + "_std"] if spread is None or spread != spread else spread
    return f"{row[name]:.3f}±{spread:.3f}"


def embed_tables(reports, store: Path) -> list:
    """What `embed` did per video (status and decode mode, samples, speed, device, Keras backend or OpenVINO, and the
    precision when it is not float32; with --faces the faces stored), and a line when nothing had to be done."""
    rows = []
    with_faces = any(getattr(r, "n_faces", None) is not None for r in reports)
    for r in reports:
        status = {"stored": "stored before", "faces": "faces added"}.get(r.status, r.status)
        if r.warning:
            status += " (incomplete)"
        if getattr(r, "decode", "exact") not in ("", "exact"):
            status += f", {r.decode}"  # --decode fast or hw: the table says which videos were sampled so
        precision = r.precision if r.precision not in ("", "float32") else ""
        device = " · ".join(x for x in (r.device, r.backend, precision) if x) or "-"
        rows.append([r.video_id, status, str(r.n_samples), f"{r.duration_s:.1f}", str(r.n_embedded),
                     f"{r.frames_per_s:.1f}" if r.n_embedded else "-", device])
        if with_faces:
            rows[-1].insert(3, "-" if r.n_faces is None else str(r.n_faces))
    headers = ["video", "status", "samples", "duration s", "embedded now", "samples/s", "device"]
    if with_faces:
        headers.insert(3, "faces")
    out: list = [_compact_table(f"embedded into {store}", headers, rows, n_left=2, flexible=(0, len(headers) - 1))]
    n_stored = sum(r.status == "stored" for r in reports)
    if n_stored:
        which = "it was" if len(reports) == 1 else f"{n_stored} of {len(reports)} were"
        out.append(f"{which} already in {store} with the same content and settings: no decoding, no inference.")
    n_copied = sum(r.status == "copied" for r in reports)
    if n_copied:
        which = "it is" if len(reports) == 1 else f"{n_copied} of {len(reports)} are"
        what = "features and faces were" if with_faces else "features were"
        out.append(f"{which} byte-identical to videos already in {store}: their {what} copied, no decoding, "
                   "no inference.")
    return out


def store_check_lines(check, *, repaired: bool = False) -> list[str]:
    """`check-store`: what a repair did, one line per damaged video, then notes and a summary line.

    `check` is a `featurestore.store.integrity.StoreCheck`.
    """
    lines = [f"repaired {check.path}: {action}" for action in check.actions] if repaired else []
    if check.index_problem:
        lines.append(f"{check.path}: {check.index_problem}; `check-store --repair` rebuilds it from "
                     f"the {len(check.videos)} shards found ({len(check.videos) - len(check.damaged)} intact)")
    for v in check.damaged:
        lines.append(f"damaged: {v.video_id or '(unknown video)'!r} (shard {v.shard}): {v.problem}")
    if check.index_problem:
        return lines
    if check.unindexed:
        lines.append(f"note: {len(check.unindexed)} intact videos are missing from the index "
                     f"({', '.join(repr(v.video_id) for v in check.unindexed[:3])}); --repair puts them back")
    if check.leftovers:
        n = len(check.leftovers)
        lines.append(f"note: {n} {'leftover' if n == 1 else 'leftovers'} of interrupted runs ({check.leftover_bytes / 1e6:.1f} MB); "
                     "--repair removes them")
    if check.stale_links:
        lines.append(f"note: the index's links name another folder than {check.path.name}.d/ (the store was moved): "
                     "screentime reads it as it is; --repair rewrites them for plain h5py")
    n = len(check.videos)
    intact = n - len(check.damaged)
    verdict = "all intact" if not check.damaged else f"{intact} intact, {len(check.damaged)} damaged"
    faces = f" ({check.n_with_faces} with faces)" if getattr(check, "n_with_faces", 0) else ""
    lines.append(f"{check.path}: {n} {'video' if n == 1 else 'videos'}{faces}, {verdict}")
    return lines


def feature_norm_line(result) -> str:
    """Which per-video stages (normalisation, temporal context) compare-models used, and why."""
    if getattr(result, "faces", False):
        return "face descriptors, one per face: no per-video stages"
    used = f"per-video features: normalisation {result.feature_norm}, context {_context(result.context_s)}"
    if not result.stage_scores:
        return used
    scores = ", ".join(f"{r['feature_norm']}/{_context(r['context_s'])} {r[result.metric]:.3f}" for r in result.stage_scores)
    return f"{used} (chosen by cross-validation, logreg {result.metric}: {scores})"


def _context_suffix(context_s: float) -> str:
    return f", context ±{context_s:g} s" if context_s else ""


def _context(context_s: float) -> str:
    return "none" if not context_s else f"±{context_s:g} s"


def screen_time_tables(result) -> list:
    """One table per scored video (with its likely ranges' note under it), and a total table when there are several."""
    if result.model_info.get("faces"):  # issue 24
        return face_screen_time_tables(result)

    def fmt(x):
        return "-" if x is None else f"{x:.1f}"

    tables = []
    smoothing = Smoother.from_dict(result.model_info["smoothing"]).name
    level = getattr(result, "interval_level", None)
    for v in result.videos:
        note = getattr(result, "interval_note", "")
        if v.screen_time_interval_s is not None:  # plain words first, the method after (issue 26)
            note = f"(low–high) is the likely range: {likely_range_words(level)}.\nHow: {note}."
        rate = f"{v.sample_fps:g} sample/s" if v.sample_fps == 1 else f"{v.sample_fps:g} samples/s"
        table = Table(title=f"{v.video_id}: {v.duration_s:.1f} s, {rate}, smoothing {smoothing}, "
                            f"features {result.model_info['feature_norm']}{_context_suffix(result.model_info.get('context_s', 0))}",
                      )
        first = "character" if v.multi_label else "class"
        for col in (first, "screen time", "share", "appearances", "first s", "last s"):
            table.add_column(col, justify="left" if col == first else "right")
        for c in result.classes:
            interval = v.screen_time_interval_s[c] if v.screen_time_interval_s is not None else None
            table.add_row(c, screen_time_cell(v.screen_time_s[c], interval), f"{100 * v.share[c]:.1f}%",
                          str(v.n_appearances[c]), fmt(v.first_s[c]), fmt(v.last_s[c]))
        if v.multi_label:  # characters share the screen: their times may add up to more than the video
            table.add_section()
            for name, seconds in (("together", v.together_s), (v.none_label, v.none_s)):
                share = seconds / v.duration_s if v.duration_s else 0.0
                table.add_row(name, f"{seconds:.1f} s", f"{100 * share:.1f}%", "", "", "")
        tables.append(Group(table, Text(note)) if note else table)  # notes wrap at the terminal
    if len(result.videos) > 1:
        total = result.total_screen_time_s
        duration_s = sum(v.duration_s for v in result.videos)
        ranges = total_interval(result.videos)
        table = Table(title=f"total over {len(result.videos)} videos, {duration_s:.1f} s",
                      caption="(low–high): the videos' likely ranges added up" if ranges else None)
        first = "character" if result.multi_label else "class"  # as the videos' tables say it
        for col in (first, "screen time", "share", "appearances"):
            table.add_column(col, justify="left" if col == first else "right")
        for c in result.classes:
            table.add_row(c, screen_time_cell(total[c], ranges[c] if ranges else None),
                          f"{100 * total[c] / duration_s if duration_s else 0:.1f}%",
                          str(sum(v.n_appearances[c] for v in result.videos)))
        if all(v.multi_label for v in result.videos):
            table.add_section()
            for name, seconds in (("together", sum(v.together_s for v in result.videos)),
                                  (result.videos[0].none_label, sum(v.none_s for v in result.videos))):
                table.add_row(name, f"{seconds:.1f} s", f"{100 * seconds / duration_s if duration_s else 0:.1f}%", "")
        tables.append(table)
    return tables


def suggestion_table(suggestions) -> Group:
    """The spans of a `classifiers.suggest.Suggestions`, best first: where, the model's guess, and why.

    "unsure", "unstable" and "folds differ" are the span's mean uncertainty, instability and disagreement
    (each 0-1, see `classifiers.active.spans`); "value" is what they added up to when the span was picked.
    A face model's `classifiers.suggest_faces.TrackSuggestions`: its tracks.
    """
    if hasattr(suggestions, "tracks"):
        rows = [[str(i), t.video_id, str(t.track), f"{t.start_s:g}-{t.end_s:g}", t.guess, number_cell(t.value, 2),
                 number_cell(t.uncertainty, 2), number_cell(t.disagreement, 2)] for i, t in enumerate(suggestions.tracks, start=1)]
        title = (f"{len(suggestions.tracks)} tracks to name, {suggestions.total_s:g} s of the {suggestions.budget_s:g} s "
                 f"budget ({suggestions.available_s:g} s of unlabelled tracks in {len(suggestions.videos)} videos), best first")
        return _compact_table(title, ["#", "video", "track", "seconds", "model's guess", "value", "unsure", "folds differ"],
                              rows, n_left=5, flexible=1)
    rows = [[str(i), s.video_id, f"{s.start_s:g}-{s.end_s:g}", s.guess_summary(), number_cell(s.value, 2),
             number_cell(s.uncertainty, 2), number_cell(s.instability, 2), number_cell(s.disagreement, 2)]
            for i, s in enumerate(suggestions.spans, start=1)]
    title = (f"{len(suggestions.spans)} spans to label, {suggestions.total_s:g} s of the {suggestions.budget_s:g} s budget "
             f"({suggestions.available_s:g} s unlabelled in {len(suggestions.videos)} videos), best first")
    return _compact_table(title, ["#", "video", "seconds", "model's guess", "value", "unsure", "unstable", "folds differ"],
                          rows, n_left=4, flexible=1)


def label_studio_hint(tasks_path) -> str:
    """The one line that says how to open written Label Studio tasks (docs/labels.md has the loop)."""
    from classifiers.output.label_studio import config_path_for

    return (f"next: in Label Studio, create a project whose labelling config (Settings > Labeling Interface > Code) is "
            f"{config_path_for(tasks_path)}, import {tasks_path}, label, export as JSON and pass the export to "
            "compare-models --labels; videos under /data/local-files/ are served when Label Studio runs with "
            "LABEL_STUDIO_LOCAL_FILES_SERVING_ENABLED=true and the project has a Local storage on their folder")


def saved_lines(result, report_path=None) -> list[str]:
    """compare-models' last lines: the leaderboard file, the model saved, and (multi-label) each character's threshold."""
    lines = [f"leaderboard written to {report_path}"] if report_path is not None else []
    lines.append(f"saved {result.best_name} (smoothing {result.best_smoother.name}), refitted on all labelled frames, "
                 f"to {result.model_path}")
    if result.multi_label:
        lines.append("one classifier per character; on screen from these thresholds (chosen by cross-validation): "
                     + ", ".join(f"{c} {t:g}" for c, t in result.thresholds.items()))
    return lines


def suggest_next_line(out_path, labels_paths, suggestions=None) -> str:
    """What to do with suggest-labels' todo CSV (of spans, or of tracks for a face model)."""
    then = " ".join([*(f"-l {p}" for p in labels_paths), f"-l {out_path}"])
    if hasattr(suggestions, "tracks"):
        return (f"next: name each track of {out_path} in its label column (unknown: someone not in the cast; delete "
                f"the rows you skip), then compare-models --faces {then} --out NEW.skops")
    return (f"next: fill the label column of {out_path} (split a span where the label changes), then "
            f"compare-models {then} --out NEW.skops")
