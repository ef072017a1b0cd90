"""What crosses into other formats is escaped (issue 23): class names and video ids that try to add subtitle cues,
run spreadsheet formulas or scripts in the report stay text.

Subtitles parse back with exactly one cue per segment in pysubs2 (and in Chromium: test_report_browser.py); no CSV
cell we write starts with = + - @ (a tab or CR) unescaped; the report's script runs by its hash, not 'unsafe-inline'.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re

import numpy as np
import pandas as pd
import pysubs2
import pytest

from classifiers.chain.timeline import summarize_video
from classifiers.output.cells import FORMULA_STARTS, csv_cell
from classifiers.output.subtitles import subtitle_text

INJECTION = "tom\n\n00:00:00.000 --> 00:00:20.000\nINJECTED CUE"
HOSTILE = [INJECTION, "a --> b", "{\\an8}{\\c&H0000FF&}red", "<b>bold</b> & <v Jerry>", "x\\Ny\r\n2\n00:00:01,000 --> 00:00:09,000"]
FORMULAS = ['=HYPERLINK("http://evil.example","click")', "@SUM(1+1)", "+cmd|' /C calc'!A0", "-2+3", "\tx", "\rx",
            "  =1+1"]


def hostile_video(classes, video_id="ep1.mp4"):
    """One segment of 3 s per class in order, then the first class again: len(classes) + 1 segments."""
    order = list(range(len(classes))) + [0]
    proba = np.zeros((3 * len(order), len(classes)))
    for k, c in enumerate(order):
        proba[3 * k:3 * k + 3, c] = 1.0
    return summarize_video(video_id, np.arange(len(proba), dtype=float), proba, classes, float(len(proba)), 1.0)


def shown(text: str) -> str:
    """A name as a viewer reads it: whitespace runs as one space, no word joiner."""
    return " ".join(text.split()).replace("\u2060", "")


@pytest.mark.parametrize("fmt", ["vtt", "srt"])
def test_subtitles_keep_one_cue_per_segment_whatever_the_class_names(fmt):
    video = hostile_video(HOSTILE)
    text = subtitle_text(video, fmt)
    events = pysubs2.SSAFile.from_string(text, format_=fmt).events
    assert [(e.start, e.end) for e in events] == [(round(s.start_s * 1000), round(s.end_s * 1000)) for s in video.segments]
    assert len(events) == len(HOSTILE) + 1
    assert text.count("-->") == len(events)  # only timing lines hold an arrow
    assert "\\N" not in text and "\\h" not in text
    if fmt == "srt":  # no HTML tag and no ASS override left for a player to run
        assert not re.search(r"<[a-z/]|\{\\", text)
        assert shown(events[0].text) == "tom 00:00:00.000 --› 00:00:20.000 INJECTED CUE"
    else:  # character references: the text shows exactly
        assert "<b>" not in text and "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;v Jerry&gt;" in text
        assert shown(events[0].text) == "tom 00:00:00.000 --&gt; 00:00:20.000 INJECTED CUE"


def test_csv_cells_a_spreadsheet_would_run_get_a_quote():
    for value in FORMULAS:
        assert csv_cell(value) == "'" + value
    for value in ("tom", "jerry + tom", "a=b", "ep-1.mp4", 3, -1.5, None):
        assert csv_cell(value) == value


def assert_no_formula(text: str) -> int:
    """Every cell of CSV `text` that is not a number starts with no formula character; returns the cells seen."""
    n = 0
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            n += 1
            try:
                float(cell)
            except ValueError:
                assert not cell.lstrip(" ").startswith(FORMULA_STARTS), cell
    return n


def test_segments_csv_escapes_video_ids_and_class_names(tmp_path):
    from classifiers.output.results import write_csv

    videos = [hostile_video(FORMULAS, video_id=vid) for vid in ("=1+1.mp4", "@x.mp4")]
    write_csv(tmp_path / "s.csv", videos)
    with open(tmp_path / "s.csv", newline="", encoding="utf-8") as fh:  # a CR inside a cell stays a CR
        text = fh.read()
    assert assert_no_formula(text) > 5 * len(FORMULAS)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["video"] for r in rows} == {"'=1+1.mp4", "'@x.mp4"}
    assert {r["label"] for r in rows} == {"'" + f for f in FORMULAS}


def test_todo_csv_and_leaderboard_csv_escape_text(tmp_path):
    from types import SimpleNamespace

    from classifiers.output.leaderboard import write_report
    from classifiers.suggest import SuggestedSpan, Suggestions, todo_csv_text

    span = SuggestedSpan("=cmd|calc.mp4", 2.0, 4.0, 0.5, 0.5, 0.0, 0.0, np.zeros(2), np.zeros(2), np.zeros((2, 1)), ["tom"] * 2)
    todo = todo_csv_text(Suggestions([span], 10.0, ["tom"], ["=cmd|calc.mp4"], 10.0, ""))
    assert assert_no_formula(todo) == 8 and "'=cmd|calc.mp4,2,4," in todo
    board = pd.DataFrame({"model": ["@evil", "logreg"], "status": ["ok", "ok"], "error": ["-bad", ""],
                          "log_loss": [-0.5, 0.25]})
    write_report(SimpleNamespace(leaderboard=board), tmp_path / "lb.csv")
    text = (tmp_path / "lb.csv").read_text()
    assert assert_no_formula(text) == 12 and "'@evil" in text and "'-bad" in text and ",-0.5" in text


def test_report_script_runs_by_its_hash_not_unsafe_inline(tmp_path, capsys, monkeypatch):
    """The CSP names the page's one inline script by its SHA-256 and allows no other (the browser test loads it)."""
    from classifiers.output.report import report_html
    from classifiers.score import ScoreResult

    video = hostile_video(["<script>alert(1)</script>", "tom"])
    result = ScoreResult(videos=[video], classes=list(video.classes), model_info={
        "smoothing": {"method": "none"}, "feature_norm": "none", "context_s": 0.0, "embedding_config": {},
        "unlike_training": None, "path": "m.skops"})
    html = report_html(result, thumbnails=False)
    [policy] = re.findall(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html)
    script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src")).split()[1:]
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src and len(script_src) == 1
    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert len(scripts) == 1 and "<script>alert" not in html
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode("utf-8")).digest()).decode()
    assert script_src == [f"'sha256-{digest}'"]


def test_an_escaped_cell_reads_back_as_the_name_it_escaped(tmp_path):
    """A todo or segments CSV quotes a video id a spreadsheet would run ('=ep1); read back as labels, the id is
    the stored video's again."""
    from classifiers.data.labels import parse_labels

    path = tmp_path / "todo.csv"
    path.write_text("video,start,end,label\n'=ep1,0,2,tom\n'+x,0,1,'@jerry\n", encoding="utf-8")
    rows = parse_labels(path).rows
    assert [(r.video, r.label) for r in rows] == [("=ep1", "tom"), ("+x", "@jerry")]
