"""score's outputs at the sizes and with the names real users have: casts of 12 to 30 characters with long,
unicode and right-to-left names, a season of episodes, a video where nobody is ever on screen, one the model was
unsure about throughout. Results are made directly (`summarize_video`, `summarize_presence`) so each case is exact;
the page in a real browser is in test_report_browser.py."""

from __future__ import annotations

import html
import re

import numpy as np
import pytest

from classifiers.chain.presence import summarize_presence
from classifiers.chain.timeline import summarize_video

CAST = ["Sir Patrick Stewart as Captain Jean-Luc Picard", "Zoë", "李小龙", "Ægir", "العربية", "<b>bold</b>", "Tom & Jerry",
        'He said "hi", then left', "a, b", "x --> y", "{\\an8}top", "=SUM(1)"]


def cast(n: int) -> list[str]:
    return (CAST + [f"Character number {i} with a long name" for i in range(n)])[:n]


def cast_video(video_id: str, classes: list[str], n_samples: int, *, multi_label=False, seed=0, nobody=False,
               unsure=False):
    """`n_samples` samples at 1/s; each class on screen in 10 s blocks (multi-label: each character a quarter of the
    blocks at 0.9, else 0.1; `nobody`: never). `unsure`: every class equally likely at every sample."""
    rng = np.random.default_rng(seed)
    t = np.arange(float(n_samples))
    n, blocks = len(classes), -(-n_samples // 10)
    if multi_label:
        on = np.repeat(rng.random((blocks, n)) < 0.25, 10, axis=0)[:n_samples] & (not nobody)
        video = summarize_presence(video_id, t, 0.1 + 0.8 * on, classes, np.full(n, 0.5), float(n_samples), 1.0,
                                   none_label="nobody")
    else:
        proba = np.eye(n)[np.repeat(rng.integers(0, n, blocks), 10)[:n_samples]] * 0.8 + 0.2 / n
        video = summarize_video(video_id, t, np.full_like(proba, 1 / n) if unsure else proba, classes,
                                float(n_samples), 1.0)
    video.screen_time_interval_s = {c: (max(0.0, s - 5), s + 5) for c, s in video.screen_time_s.items()}
    video.interval_level = 0.8
    return video


def cast_result(videos, classes, multi_label=False):
    from classifiers.score import ScoreResult

    info = {"name": "logreg", "path": "best.skops", "smoothing": {"method": "none"}, "feature_norm": "center",
            "context_s": 0.0, "embedding_config": {"weights": "imagenet"}, "unlike_training": None,
            "training_videos": ["a.mp4"]}
    if multi_label:
        info.update(multi_label=True, thresholds={c: 0.5 for c in classes}, none_label="nobody")
    return ScoreResult(videos=list(videos), classes=list(classes), model_info=info, interval_level=0.8,
                       interval_note="80% intervals from 4 held-out videos")


def page(result) -> str:
    from classifiers.output.report import report_html

    return report_html(result, thumbnails=False)


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_report_of_a_video_where_nobody_is_ever_on_screen_says_so_in_words():
    classes = cast(6)
    html = page(cast_result([cast_video("nobody.mp4", classes, 120, multi_label=True, nobody=True)], classes, True))
    words = text_of(html)
    assert "No character was on screen at any of its 120 samples, so there is no segment to show." in words
    assert "Click a segment" not in words and "click a segment" not in words  # there is none to click
    assert 'class="segments"' not in html  # no empty table


@pytest.mark.parametrize("multi_label", [False, True])
def test_report_warns_about_a_video_the_model_was_unsure_about_throughout(multi_label):
    from classifiers.output.notes import unsure_share

    classes = cast(5)
    if multi_label:
        video = cast_video("unsure.mp4", classes, 300, multi_label=True)
        video.proba[:] = 0.45  # every character just under its threshold of 0.5
    else:
        video = cast_video("unsure.mp4", classes, 300, unsure=True)
    sure = cast_video("sure.mp4", classes, 300, multi_label=multi_label)
    assert unsure_share(video, {c: 0.5 for c in classes}) == 1.0
    assert unsure_share(sure, {c: 0.5 for c in classes}) == 0.0
    words = text_of(page(cast_result([video, sure], classes, multi_label)))
    assert "unsure.mp4: the model was unsure over 100% of it" in words and "label some of it and retrain" in words
    assert "sure.mp4: the model was unsure" not in words.replace("unsure.mp4: the model was unsure", "")


def test_report_isolates_names_that_run_inline_so_right_to_left_ones_keep_their_numbers():
    """'العربية 0.5, <b>bold</b> 0.5': without isolation the browser's bidi moves the threshold before the Arabic name."""
    classes = cast(6)
    html = page(cast_result([cast_video("ep.mp4", classes, 60, multi_label=True)], classes, True))
    assert "<bdi>العربية</bdi> 0.5" in html and "<bdi>&lt;b&gt;bold&lt;/b&gt;</bdi> 0.5" in html


def test_report_gives_each_of_30_classes_its_own_colour_as_the_png_does():
    from classifiers.output.plot import _class_colours

    classes = cast(30)
    html = page(cast_result([cast_video("ep.mp4", classes, 600)], classes))
    table = html.split('class="screen-time"')[1].split("</table>")[0]
    swatches = re.findall(r'class="swatch" style="background:(#[0-9a-f]{6})"', table)
    assert len(swatches) == 30 and len(set(swatches)) == 30
    png = {c: "#%02x%02x%02x" % tuple(round(255 * x) for x in rgba[:3]) for c, rgba in _class_colours(classes).items()}
    assert swatches == [png[c] for c in classes]


def test_report_of_a_season_links_every_episode_and_the_totals_from_the_top():
    classes = cast(12)
    videos = [cast_video(f"S01E{i:02d}.mp4", classes, 120, seed=i) for i in range(1, 11)]
    doc = page(cast_result(videos, classes))
    top = doc.split('class="video"')[0]
    links = re.findall(r'<a href="#([^"]+)">', top)
    assert links == [f"video-{i}" for i in range(10)] + ["totals", "per-video"]
    assert all(f'id="{anchor}"' in doc for anchor in links)
    assert all(f"S01E{i:02d}.mp4" in top for i in range(1, 11))
    table = doc.split('class="per-video"')[1].split("</table>")[0]  # a character's seconds in each episode
    rows = {html.unescape(text_of(r.split("</td>")[0])): re.findall(r"<td>([0-9]+)</td>", r)
            for r in table.split("<tr>")[2:]}
    assert list(rows)[:12] == classes
    for c in classes:
        assert rows[c] == [f"{v.screen_time_s[c]:.0f}" for v in videos]


@pytest.mark.parametrize("fmt", ["vtt", "srt"])
def test_subtitles_of_many_characters_at_once_stay_a_few_short_lines(fmt):
    """30 characters, a dozen on screen at once: each cue is at most 3 lines of about 42 characters (a name longer
    than a line keeps its own), the names it leaves out counted ('+ 4 more'), one cue per stretch as before."""
    import pysubs2

    from classifiers.output.subtitles import cues, subtitle_text

    classes = cast(30)
    video = cast_video("ep.mp4", classes, 300, multi_label=True)
    video.proba[100:110] = 0.9  # everybody on screen for 10 s
    events = pysubs2.SSAFile.from_string(subtitle_text(video, fmt), format_=fmt).events
    expected = cues(video)
    assert len(events) == len(expected)
    for event, (_, _, text) in zip(events, expected):
        lines = html.unescape(event.plaintext).replace("\u2060", "").split("\n")  # as a viewer reads it
        names = text.split(" + ")
        assert len(lines) <= 3
        assert all(len(line) <= 42 + 3 or " + " not in line.rstrip(" +") for line in lines[:-1])
        more = re.search(r"\+ (\d+) more$", lines[-1])
        listed = [n for line in lines for n in re.sub(r" \+ \d+ more$", "", line).rstrip(" +").split(" + ")]
        assert len(listed) + (int(more.group(1)) if more else 0) == len(names)
    everybody = next(e for e in events if e.start == 100_000)
    assert everybody.plaintext.endswith(" more") and len(everybody.plaintext.split("\n")) == 3


def test_total_table_of_a_multi_label_season_says_character_as_each_video_does():
    from rich.console import Console

    from classifiers.output.console import screen_time_tables

    classes = cast(15)
    result = cast_result([cast_video(f"S01E{i:02d}.mp4", classes, 60, multi_label=True, seed=i) for i in (1, 2)],
                         classes, True)
    console = Console(width=120, record=True, file=open("/dev/null", "w"))
    for table in screen_time_tables(result):
        console.print(table)
    text = console.export_text()
    headers = [line for line in text.splitlines() if "screen time" in line and "┃" in line]
    assert len(headers) == 3 and all("character" in h and "class" not in h for h in headers)
    assert "Sir Patrick Stewart as Captain Jean-Luc Picard" in text  # the total's names are whole


def with_source(result, tmp_path, n_frames: int):
    """`result` whose videos' frames decode from one generated file (1 frame/s, each a grey of its own)."""
    from types import SimpleNamespace

    from conftest import write_video

    colours = [(i % 250, (7 * i) % 250, (13 * i) % 250) for i in range(n_frames)]
    path = write_video(tmp_path / "src.avi", 1.0, n_frames, fourcc="MJPG", size=(64, 48), colours=colours)
    result.embed_reports = [SimpleNamespace(video_id=v.video_id, path=str(path)) for v in result.videos]
    return result


def test_report_holds_each_thumbnail_once_though_overlapping_segments_share_frames(tmp_path):
    """12 characters sharing the screen: their segments start, middle and end at the same samples. Each JPEG is in
    the page once (it was 2.5 times: a 2-hour report of 13.6 MB, 6.1 MB now); every other place names it by id."""
    from classifiers.output.report import report_html

    classes = cast(12)
    result = with_source(cast_result([cast_video("ep.mp4", classes, 120, multi_label=True)], classes, True),
                         tmp_path, 120)
    html = report_html(result)
    uris = re.findall(r'src="(data:image/jpeg;base64,[^"]+)"', html)
    assert uris and len(uris) == len(set(uris))
    again = re.findall(r'<img loading="lazy" alt="[^"]*" data-frame="(frame-\d+)">', html)
    assert len(again) > len(uris)  # most places show a frame another segment shows too
    ids = set(re.findall(r'<img loading="lazy" alt="[^"]*" id="(frame-\d+)" src=', html))
    assert len(ids) == len(uris) and set(again) <= ids


def test_report_probability_lines_keep_a_few_commands_a_unit_and_every_spike():
    """A 2-hour video (7,200 samples over 744 units of timeline): each class's line has at most ~4 commands a unit
    (it had 2 a sample), the steps of a short video are drawn exactly, and a one-sample spike still reaches its top."""
    from classifiers.output.report import BAND_H, PROBA_H, _step_path

    classes = cast(3)
    rng = np.random.default_rng(1)
    proba = rng.dirichlet(np.ones(3), size=7200)
    proba[3000] = [1.0, 0.0, 0.0]
    proba[3001:3003, 0] = 0.0
    long = summarize_video("long.mp4", np.arange(7200.0), proba, classes, 7200.0, 1.0)
    x = lambda t: round(100 + 744 * min(max(t, 0.0), 7200.0) / 7200.0, 2)  # noqa: E731 (the report's axis)
    path = _step_path(long, 0, x, BAND_H)
    assert len(re.findall("[MVH]", path)) <= 4 * 744 + 2
    assert f"V{BAND_H}" in path  # p = 1 at the top of the box: the spike is drawn
    short = summarize_video("short.mp4", np.arange(4.0), np.array([[0.2, 0.8, 0], [0.2, 0.8, 0], [0.6, 0.4, 0],
                                                                   [0.1, 0.9, 0]]), classes, 4.0, 1.0)
    xs = lambda t: round(100 + 744 * t / 4.0, 2)  # noqa: E731
    y = lambda p: round(BAND_H + PROBA_H * (1 - p), 1)  # noqa: E731
    assert _step_path(short, 0, xs, BAND_H) == f"M100.0,{y(0.2)}H472.0V{y(0.6)}H658.0V{y(0.1)}H844.0"


def test_report_of_two_hours_and_30_characters_stays_a_few_megabytes():
    """Without thumbnails: 3.0 MB for 7,200 samples of 30 characters (7.5 MB before: every probability to 3
    decimals, every sample's answer spelt out, two path commands a sample)."""
    from classifiers.output.report import report_html

    classes = cast(30)
    html = report_html(cast_result([cast_video("long.mp4", classes, 7200, multi_label=True)], classes, True),
                       thumbnails=False)
    assert len(html.encode()) < 3.5e6


def test_face_report_isolates_each_actor_in_their_appearances_line():
    """15 actors by their faces: 'العربية: 6 appearances' read '6 :العربية appearances' without isolation."""
    from cartoons.synthetic_faces import FaceWorld, make_face_video
    from classifiers.chain.face_time import summarize_faces
    from classifiers.score import ScoreResult

    actors = cast(15)
    world = FaceWorld.make(actors=tuple(actors), seed=0)
    faces = make_face_video("faces.mp4", world, seed=0, duration_s=300.0)
    index = {a: k for k, a in enumerate(actors)}
    actor = np.array([index.get(str(p), -1) for p in faces.person])
    p = np.full((len(actor), len(actors)), 0.02)
    p[actor >= 0, actor[actor >= 0]] = 0.95
    video = summarize_faces("faces.mp4", faces.table, actor, p, actors, 300.0, 1.0)
    info = {"name": "logreg", "smoothing": {"method": "track"}, "feature_norm": "none", "context_s": 0.0,
            "embedding_config": {}, "unlike_training": None, "multi_label": True, "none_label": "nobody",
            "faces": {"face_config": {"detector": "synthetic"}, "unknown_threshold": 0.5, "smoothing": "track"}}
    html = page(ScoreResult(videos=[video], classes=actors, model_info=info))
    lines = re.findall(r'<div class="actor" data-actor="[^"]*"><b>(.*?)</b>:', html)
    assert len(lines) == 15 and all(re.fullmatch(r'<span class="swatch"[^>]*></span><bdi>[^<]*</bdi>', x) for x in lines)


def test_report_of_a_one_second_video_reads_as_one_sample():
    classes = ["tom", "jerry", "neither"]
    words = text_of(page(cast_result([cast_video("one.mp4", classes, 1)], classes)))
    assert "0:01 (1.0 s), 1 sample at 1/s." in words


@pytest.mark.parametrize("classes", [["label", "tom"], ["video", "tom"], ["time_s", "tom"], ["tom", "p_tom"],
                                     ["actual_s", "x"]])
def test_to_pandas_never_overwrites_a_column_with_a_character_named_like_it(classes):
    """A character called 'label' replaced the label column with booleans; 'p_tom' beside 'tom' lost its on-screen
    column to tom's probability; 'video' broke the index. Now such a character's column is on_<name>, with a warning."""
    from screentime.results import Score

    video = cast_video("ep.mp4", classes, 40)
    with pytest.warns(UserWarning, match="on-screen column"):
        samples = Score(cast_result([video], classes)).to_pandas().samples.reset_index()
    assert list(samples["video"].unique()) == ["ep.mp4"] and samples["time_s"].tolist() == list(range(40))
    assert samples["label"].tolist() == [str(x) for x in video.labels]
    for j, c in enumerate(classes):
        on = samples[c if c not in ("label", "video", "time_s", "actual_s", "p_tom") else f"on_{c}"]
        assert on.dtype == bool and on.tolist() == [str(x) == c for x in video.labels]
        assert samples[f"p_{c}"].tolist() == video.proba[:, j].tolist()
