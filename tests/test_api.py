"""The Python API (issue 18): `import screentime; screentime.embed / compare_models / score`, on the functions
the command line calls, with `.to_pandas()` and `.to_json()`; quiet by default; cheap to import."""

import json
import subprocess
import sys

import pytest

from conftest import ROOT, run_cli as run


def test_import_screentime_loads_no_heavy_library():
    code = ("import sys, screentime\n"
            "heavy = [m for m in ('pandas', 'sklearn', 'h5py', 'keras', 'tensorflow', 'cv2') if m in sys.modules]\n"
            "assert not heavy, heavy\n"
            "assert {'embed', 'compare_models', 'score'} <= set(dir(screentime))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_api_embeds_compares_and_scores_as_the_command_line_does(two_models, tmp_path, capsys):
    import screentime

    d, _, truth = two_models
    store = tmp_path / "api.h5"
    embedded = screentime.embed([d / f"ep{i}.avi" for i in range(3)], store=store, weights="random", image_size_px=32)
    table = embedded.to_pandas()
    assert list(table.index) == ["ep0.avi", "ep1.avi", "ep2.avi"] and set(table["status"]) == {"new"}
    assert json.loads(embedded.to_json())["videos"][0]["n_samples"] == 30
    best = screentime.compare_models(store, d / "single.csv", out=tmp_path / "m.skops", models="logreg", folds=3)
    assert best.best_name == "logreg" and best.model_path == tmp_path / "m.skops"
    assert list(best.to_pandas()["model"]) == ["logreg"] and json.loads(best.to_json())["best"] == "logreg"
    result = screentime.score(d / "held out.avi", model=tmp_path / "m.skops", store=store)
    assert capsys.readouterr().err == ""  # no progress bar unless asked for
    samples, segments, characters, videos, totals = result.to_pandas()
    doc = json.loads(result.to_json())
    [video] = doc["videos"]
    check_tidy_frames(result, doc)
    assert list(samples["label"]) == [s["label"] for s in video["samples"]]
    for label, seconds in video["screen_time_s"].items():
        assert seconds == pytest.approx(truth["single"].count(label), abs=1.0)
    assert result.unlike_training == {"held out.avi": False}
    assert repr(result).startswith("<Score of 1 video: ") and len(repr(result)) < 200 and "array" not in repr(result)
    code, out, err = run(["score", d / "held out.avi", "--model", tmp_path / "m.skops", "--store", store, "--json", "-"], capsys)
    assert code == 0, err
    assert json.loads(out) == doc  # the same document as `score --json`
    written = result.write(report=tmp_path / "r.html", vtt=tmp_path / "r.vtt")
    assert written == [tmp_path / "r.html", tmp_path / "r.vtt"] and "held out.avi" in (tmp_path / "r.html").read_text()


def test_api_multi_label_frames_have_each_characters_probability(two_models):
    import screentime

    d, models, _ = two_models
    result = screentime.score([d / "held out ml.avi"], model=models["multi"], store=d / "f.h5")
    samples, segments, characters, videos, totals = result.to_pandas()
    check_tidy_frames(result, json.loads(result.to_json()))
    assert "labels" not in samples and "label" not in samples and set(segments["label"]) <= {"jerry", "tom"}
    assert samples["jerry"].dtype == bool and samples["tom"].dtype == bool
    assert ((samples["p_jerry"] >= 0.5) == samples["jerry"]).mean() > 0.5  # booleans by threshold, not by 0.5 exactly
    seconds = characters.set_index("character")["screen_time_s"]
    row = videos.loc["held out ml.avi"]
    assert seconds["jerry"] + seconds["tom"] - row["together_s"] + row["none_s"] == pytest.approx(row["duration_s"], abs=1e-6)
    together = (samples["jerry"] & samples["tom"]).to_numpy()
    assert together.sum() == pytest.approx(row["together_s"], abs=1e-6)  # 1 sample a second


def check_tidy_frames(result, doc):
    """Every column of the five frames of `Score.to_pandas()` against the `score --json` document (issue 26)."""
    import numpy as np

    samples, segments, characters, videos, totals = result.to_pandas()
    frames = result.to_pandas()
    assert frames.characters.equals(characters) and frames.totals.equals(totals)  # names as well as unpacking
    ids = [v["video"] for v in doc["videos"]]
    classes = list(doc["videos"][0]["screen_time_s"])
    assert samples.index.names == ["video", "time_s"] and len(samples) == sum(len(v["samples"]) for v in doc["videos"])
    for c in classes:
        assert samples[c].dtype == bool
        assert np.allclose(samples[f"p_{c}"], [s["proba"][c] for v in doc["videos"] for s in v["samples"]], atol=1e-4)
    if not result.result.multi_label:
        assert (samples[classes].sum(axis=1) == 1).all()  # one class per sample
        assert all(samples.loc[samples[c], "label"].eq(c).all() for c in classes)
    assert list(segments.columns) == ["video", "start", "end", "label", "confidence"]
    assert list(segments["label"]) == [s["label"] for v in doc["videos"] for s in v["segments"]]
    assert np.allclose(segments[["start", "end"]].to_numpy(float),
                       [[s["start"], s["end"]] for v in doc["videos"] for s in v["segments"]], atol=1e-3)
    assert list(characters.columns) == ["video", "character", "screen_time_s", "low_s", "high_s", "share", "appearances",
                                        "first_s", "last_s"]
    assert len(characters) == len(ids) * len(classes)
    for _, row in characters.iterrows():
        v = doc["videos"][ids.index(row["video"])]
        c = row["character"]
        assert row["screen_time_s"] == pytest.approx(v["screen_time_s"][c], abs=1e-3)
        assert row["share"] == pytest.approx(v["share"][c], abs=1e-4)
        assert row["appearances"] == v["n_appearances"][c]
        for key in ("first_s", "last_s"):
            assert (np.isnan(row[key]) if v[key][c] is None else row[key] == pytest.approx(v[key][c], abs=1e-3))
        lo, hi = v["screen_time_interval_s"][c]
        assert (row["low_s"], row["high_s"]) == (pytest.approx(lo, abs=1e-3), pytest.approx(hi, abs=1e-3))
        assert row["low_s"] <= row["screen_time_s"] <= row["high_s"]
    assert list(videos.index) == ids
    assert {"duration_s", "sample_fps", "n_samples", "interval_level", "unlike_training", "training_distance",
            "raw_training_distance"} <= set(videos.columns)
    assert list(videos["n_samples"]) == [len(v["samples"]) for v in doc["videos"]]
    assert list(totals.columns) == ["character", "screen_time_s", "low_s", "high_s", "share", "appearances"]
    assert "total" not in set(characters["video"]) and "total" not in set(videos.index)
    by = characters.groupby("character")
    for _, row in totals.iterrows():
        c = row["character"]
        assert row["screen_time_s"] == pytest.approx(by.get_group(c)["screen_time_s"].sum())
        assert row["screen_time_s"] == pytest.approx(doc["total_screen_time_s"][c], abs=1e-3)
        assert row["low_s"] == pytest.approx(by.get_group(c)["low_s"].sum()) and row["high_s"] >= row["screen_time_s"]
        assert row["share"] == pytest.approx(row["screen_time_s"] / videos["duration_s"].sum())
        assert row["appearances"] == by.get_group(c)["appearances"].sum()
