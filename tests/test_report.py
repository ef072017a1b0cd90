"""score --report, --vtt and --srt (issue 18) on the single- and multi-label models of conftest's `two_models`:
what the page and the subtitles say, a video whose source is gone, and bad paths refused in one line."""

import json
import re
import shutil

import pysubs2
import pytest

from conftest import run_cli as run


def score(d, model, videos, *extra, capsys):
    return run(["score", *videos, "--model", model, "--store", d / "f.h5", *extra], capsys)


@pytest.mark.parametrize("kind", ["single", "multi"])
def test_report_shows_every_class_the_json_numbers_and_thumbnails(two_models, kind, capsys, tmp_path):
    d, models, _ = two_models
    video = d / ("held out.avi" if kind == "single" else "held out ml.avi")
    code, out, err = score(d, models[kind], [video], "--json", tmp_path / "r.json", "--report", tmp_path / "r.html",
                           "--vtt", tmp_path, "--srt", tmp_path / "subs", capsys=capsys)
    assert code == 0, err
    assert f"wrote {tmp_path / 'r.html'}" in err
    doc = json.loads((tmp_path / "r.json").read_text())
    html = (tmp_path / "r.html").read_text()
    [v] = doc["videos"]
    assert v["video"] in html
    for label, seconds in v["screen_time_s"].items():
        assert f">{label}</td>" in html or f"</span>{label}</td>" in html
        assert f"{seconds:.1f} s" in html
    for lo, hi in v["screen_time_interval_s"].values():
        assert f"{lo:.1f}–{hi:.1f} s" in html
    assert html.count('class="seg"') == len(v["segments"])
    n_thumbs = html.count('src="data:image/jpeg;base64,')
    assert n_thumbs >= len(v["segments"]) and n_thumbs <= 3 * len(v["segments"])
    assert not re.search(r"(src|href)=\"(https?:)?//", html)  # nothing to fetch: the page works offline
    assert "random weights" in html and "training videos" in html and "smoothing" in html
    if kind == "multi":
        assert "threshold" in html and "together" in html
    vtt = pysubs2.load(str(tmp_path / "held out ml.vtt" if kind == "multi" else tmp_path / "held out.vtt"))
    srt = pysubs2.load(str(tmp_path / "subs" / (video.stem + ".srt")))
    assert [(e.start, e.end, e.text) for e in vtt] == [(e.start, e.end, e.text) for e in srt] and len(vtt) > 0
    if kind == "single":
        assert [(e.start / 1000, e.end / 1000, e.text) for e in vtt] == [(s["start"], s["end"], s["label"]) for s in v["segments"]]
    else:
        assert {e.text for e in vtt} <= {"jerry", "tom", "jerry + tom"}
        for e in vtt:  # each cue says exactly who is on screen at its samples
            on = {tuple(s["labels"]) for s in v["samples"] if e.start / 1000 <= s["time"] < e.end / 1000}
            assert on == {tuple(e.text.split(" + "))}
        assert sum(e.end - e.start for e in vtt) / 1000 == pytest.approx(v["duration_s"] - v["none_s"], abs=1e-3)


def test_report_of_a_video_whose_source_is_gone_says_why_it_has_no_thumbnails(two_models, capsys, tmp_path):
    d, models, _ = two_models
    moved = tmp_path / "ep1.avi"
    shutil.move(d / "ep1.avi", moved)
    try:
        code, _, err = score(d, models["single"], [d / "ep1.avi"], "--report", tmp_path / "r.html", capsys=capsys)
    finally:
        shutil.move(moved, d / "ep1.avi")
    assert code == 0, err
    html = (tmp_path / "r.html").read_text()
    assert "data:image/jpeg" not in html
    assert re.search(r"no thumbnails: its source video [^<]*ep1.avi has moved, changed or been deleted", html)
    assert "ep1.avi" in html and 'class="seg"' in html


def test_bad_report_and_subtitle_paths_are_refused_before_any_work_in_one_line(two_models, capsys, tmp_path):
    d, models, _ = two_models
    video = d / "ep0.avi"
    code, _, err = score(d, models["single"], [video], "--json", tmp_path / "r.json", "--report", tmp_path / "no" / "r.html", capsys=capsys)
    assert code == 1 and err.count("\n") == 1 and err.startswith("error: ") and "r.html" in err and "does not exist" in err
    code, _, err = score(d, models["single"], [video], "--vtt", tmp_path / "no" / "subs", capsys=capsys)
    assert code == 1 and err.count("\n") == 1 and "cannot make this folder" in err
    code, _, err = score(d, models["single"], [video, d / "ep1.avi"], "--vtt", tmp_path / "one.vtt", capsys=capsys)
    assert code == 2 and "--vtt" in err and "give a folder" in " ".join(err.split())
    code, _, err = score(d, models["single"], [video], "--report", "-", capsys=capsys)
    assert code == 2 and "--report" in err
    assert list(tmp_path.iterdir()) == []


def test_outputs_are_written_together_or_not_at_all(two_models, capsys, tmp_path, monkeypatch):
    import classifiers.output.report as report

    d, models, _ = two_models
    (tmp_path / "r.json").write_text("old")

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(report, "report_html", full_disk)
    code, _, err = score(d, models["single"], [d / "ep0.avi"], "--json", tmp_path / "r.json", "--csv", tmp_path / "r.csv",
                         "--report", tmp_path / "r.html", "--vtt", tmp_path / "subs", capsys=capsys)
    assert code == 1 and err.count("\n") == 1 and "r.html: cannot write it (No space left on device)" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"] and (tmp_path / "r.json").read_text() == "old"


def test_report_keeps_to_its_thumbnail_budget_longest_segments_first(two_models):
    from classifiers.output.thumbnails import plan_thumbnails, segment_samples
    from classifiers.score import score_videos

    d, models, _ = two_models
    result = score_videos([d / "ep0.avi", d / "ep2.avi"], model_path=models["single"], store_path=d / "f.h5")
    plans = plan_thumbnails(result.videos, max_frames=9)
    assert sum(len({i for p in plan.values() for i in p}) for plan in plans) <= 9
    lengths = sorted((s.duration_s for v in result.videos for s in v.segments), reverse=True)
    chosen = sorted((result.videos[k].segments[i].duration_s for k, plan in enumerate(plans) for i in plan), reverse=True)
    assert chosen and chosen[0] == lengths[0]
    v = result.videos[0]
    for i, seg in enumerate(v.segments):
        first, *_, last = segment_samples(v, i) * 2
        assert seg.start_s <= v.sample_s[first] and v.sample_s[last] < seg.end_s


def test_subtitles_of_one_file_name_in_two_folders_get_two_files(tmp_path):
    """`score season1 season2 --ids path --vtt subs/`: both ids' file name is ep1.mp4, and the second was refused."""
    from classifiers.output.score_files import check_outputs
    from classifiers.output.subtitles import subtitle_paths

    ids = ["season1/ep1.mp4", "season2/ep1.mp4", "ep2.mp4", "ep2.mkv"]
    paths = subtitle_paths(tmp_path / "subs", "vtt", ids)
    assert [p.name for p in paths.values()] == ["season1_ep1.mp4.vtt", "season2_ep1.mp4.vtt", "ep2.mp4.vtt",
                                               "ep2.mkv.vtt"]
    check_outputs(vtt_path=tmp_path / "subs", n_videos=len(ids), video_ids=ids)
