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
    samples, segments, totals = result.to_pandas()
    doc = json.loads(result.to_json())
    [video] = doc["videos"]
    assert len(samples) == 30 and samples.index.names == ["video", "time_s"]
    assert samples[["jerry", "neither", "tom"]].sum(axis=1).round(6).eq(1).all()
    assert list(samples["label"]) == [s["label"] for s in video["samples"]]
    assert len(segments) == len(video["segments"]) and segments["duration_s"].sum() == pytest.approx(30.0)
    for label, seconds in video["screen_time_s"].items():
        assert totals.loc["held out.avi", label] == pytest.approx(seconds, abs=1e-3)
        assert totals.loc["total", label] == pytest.approx(seconds, abs=1e-3)
        assert seconds == pytest.approx(truth["single"].count(label), abs=1.0)
    assert result.unlike_training == {"held out.avi": False}
    code, out, err = run(["score", d / "held out.avi", "--model", tmp_path / "m.skops", "--store", store, "--json", "-"], capsys)
    assert code == 0, err
    assert json.loads(out) == doc  # the same document as `score --json`
    written = result.write(report=tmp_path / "r.html", vtt=tmp_path / "r.vtt")
    assert written == [tmp_path / "r.html", tmp_path / "r.vtt"] and "held out.avi" in (tmp_path / "r.html").read_text()


def test_api_multi_label_frames_have_each_characters_probability(two_models):
    import screentime

    d, models, _ = two_models
    result = screentime.score([d / "held out ml.avi"], model=models["multi"], store=d / "f.h5")
    samples, segments, totals = result.to_pandas()
    assert {"labels", "jerry", "tom"} <= set(samples.columns) and set(segments["label"]) <= {"jerry", "tom"}
    row = totals.loc["held out ml.avi"]
    assert row["jerry"] + row["tom"] - row["together_s"] + row["none_s"] == pytest.approx(row["duration_s"], abs=1e-6)
