"""Model files edited or damaged by hand (issue 23): a field that holds what no screentime writes is refused when the
file is loaded, as one `ModelInvalid` naming the file and the field, and by `score` as one `error:` line; and a
model saved for CV+ intervals whose fold models were removed says that it scores by conformal prediction.

The model is a logistic regression on 6 made-up features with classes jerry, neither, tom, three fold models and
CV+ errors of three held-out videos; the store holds made-up features of 'ep.mp4' (40 samples at 1 per second).
"""

from __future__ import annotations

import hashlib
import json
import warnings

import numpy as np
import pytest

from classifiers.chain import modelfile
from classifiers.chain.intervals import screen_time_interval
from classifiers.chain.modelfile import dump_model_file, load_model_file
from classifiers.chain.persist import load_model, save_model
from classifiers.chain.smoothing import Smoother
from classifiers.score import score_videos
from classifiers.selection.registry import build_model
from featurestore.errors import ModelFileRefused, ModelInvalid
from featurestore.store.store import FeatureStore

CONFIG = {"model": "vgg16", "weights": "random:numpy-seed=0", "pooling": "avg", "image_size_px": 224, "n_features": 6}
CLASSES = ["jerry", "neither", "tom"]
SPREAD = {"n_videos": 3, "videos": ["a.mp4", "b.mp4", "c.mp4"], "note": "", "method": "cv-plus", "folds": [0, 1, 2],
          "error_share": {"jerry": [0.05, -0.1, 0.02], "neither": [0.0, 0.1, -0.03], "tom": [-0.05, 0.0, 0.01]}}


def fitted(seed: int):
    rng = np.random.default_rng(seed)
    return build_model("logreg").fit(rng.normal(size=(60, 6)), np.array(CLASSES * 20))


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A model file with fold models ('best.skops'), and a store of made-up features of 'ep.mp4'."""
    d = tmp_path_factory.mktemp("models")
    save_model(d / "best.skops", pipeline=fitted(0), classes=CLASSES, embedding_config=CONFIG, smoother=Smoother("none"),
               model_name="logreg", cv={"scheme": "grouped", "n_splits": 3}, scores={"macro_f1": 0.5},
               training_videos=["a.mp4", "b.mp4", "c.mp4"], interval=SPREAD, fold_pipelines=[fitted(k) for k in (1, 2, 3)])
    fs = FeatureStore(d / "features.h5", mode="a", config=CONFIG)
    t = np.arange(40.0)
    fs.put("ep.mp4", requested_s=t, actual_s=t, features=np.random.default_rng(9).normal(size=(40, 6)).astype(np.float32),
           info={"sample_fps": 1.0, "duration_s": 40.0, "fps": 25.0})
    return d


def edited(model_dir, tmp_path, change) -> "Path":
    """best.skops with `change(payload)` made to its dict, written as tmp_path/edited.skops."""
    payload = load_model_file(model_dir / "best.skops")
    change(payload)
    return dump_model_file(payload, tmp_path / "edited.skops")


def put(key, value):
    def change(payload):
        payload[key] = value
    return change


def put_in(key, inner, value):
    def change(payload):
        payload[key] = {**payload[key], inner: value}
    return change


def drop_in(key, inner):
    def change(payload):
        payload[key] = {k: v for k, v in payload[key].items() if k != inner}
    return change


def multi(payload):
    from classifiers.chain.estimators import MultiLabelClassifier

    Y = np.eye(3, dtype=int)[np.arange(60) % 3]
    payload.update(pipeline=MultiLabelClassifier(estimator=build_model("logreg")).fit(np.random.default_rng(0).normal(size=(60, 6)), Y),
                   multi_label=True, thresholds={"jerry": 2.0}, none_label="nobody", fold_pipelines=[], interval={})


CASES = [
    ("classes", put("classes", ["spike", "neither", "tom"]), r"field classes are \['spike', 'neither', 'tom'\], but pipeline "
                                                              r"predicts \['jerry', 'neither', 'tom'\]"),
    ("classes", put("classes", 5), r"field classes is 5, not a list of 2 to 1000 names"),
    ("classes", put("classes", ["jerry", "tom", "tom"]), r"field classes names 'tom' twice"),
    ("classes[2]", put("classes", ["jerry", "neither", "tom\n\n00:00:00.000 --> 00:00:20.000"]),
     r"field classes\[2\] 'tom\\n\\n00:00:00.000 --> 00:00:20.000' holds a control character"),
    ("fold_pipelines[1]", lambda p: p["fold_pipelines"].__setitem__(1, {"coef": [1.0]}),
     r"field fold_pipelines\[1\] is a dict, not a fitted classifier with predict_proba"),
    ("fold_pipelines", put("fold_pipelines", "three"), r"field fold_pipelines is 'three', not a list"),
    ("pipeline", put("pipeline", "logreg"), r"field pipeline is a str, not a fitted classifier"),
    ("interval.n_videos", drop_in("interval", "n_videos"), r"field interval.n_videos is missing"),
    ("interval.n_videos", put_in("interval", "n_videos", "3"), r"field interval.n_videos is '3', not a whole number"),
    ("interval.error_share['tom']", put_in("interval", "error_share", {**SPREAD["error_share"], "tom": [0.1, float("nan"), 0.0]}),
     r"field interval.error_share\['tom'\] is not 3 finite numbers"),
    ("interval.error_share", put_in("interval", "error_share", {"spike": [0.1, 0.1, 0.1]}), r"field interval.error_share is"),
    ("interval.folds[2]", put_in("interval", "folds", [0, 1, 7]), r"field interval.folds\[2\] is 7, not a whole number from 0 to 2"),
    ("interval.method", put_in("interval", "method", "magic"), r"field interval.method is 'magic', not one of"),
    ("interval", put("interval", [1, 2]), r"field interval is \[1, 2\], not the held-out errors"),
    ("smoother", put("smoother", {"method": "magic", "window_s": 1.0}), r"field smoother is .*, not \{'method': one of"),
    ("smoother.window_s", put("smoother", {"method": "median", "window_s": float("inf")}), r"smoother.window_s is inf, not a number"),
    ("context_s", put("context_s", "2"), r"field context_s is '2', not a number from 0 to 3600"),
    ("feature_norm", put("feature_norm", "zscore"), r"field feature_norm is 'zscore', not one of none, center"),
    ("embedding_config.n_features", put_in("embedding_config", "n_features", "lots"),
     r"field embedding_config.n_features is 'lots', not a whole number"),
    ("pipeline", put_in("embedding_config", "n_features", 7), r"field pipeline takes 6 features, but embedding_config.n_features "
                                                              r"and context_s give 7"),
    ("embedding_config", put("embedding_config", None), r"field embedding_config is None, not the embedding settings"),
    ("multi_label", put("multi_label", "yes"), r"field multi_label is 'yes', not true or false"),
    ("thresholds['jerry']", multi, r"field thresholds\['jerry'\] is 2.0, not a number from 0 to 1"),
    ("versions", put("versions", {"scikit-learn": 1}), r"field versions is .*, not a mapping of library names to versions"),
    ("scores.macro_f1", put("scores", {"macro_f1": float("inf")}), r"field scores.macro_f1 is inf, not a number"),
    ("cv.caveat", put_in("cv", "caveat", "fine\nINJECTED"), r"field cv.caveat 'fine\\nINJECTED' holds a control character"),
    ("familiarity", put("familiarity", {"mean": np.zeros(5), "components": np.zeros((2, 6)), "references": np.zeros((3, 2)),
                                        "scale": 1.0}), r"field familiarity arrays of shapes \(5,\), \(2, 6\), \(3, 2\) do not fit 6"),
    ("training_videos", put("training_videos", [1, 2]), r"field training_videos is \[1, 2\], not a list of text"),
]


@pytest.mark.parametrize("field, change, match", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_an_edited_field_is_one_model_invalid_naming_file_and_field(model_dir, tmp_path, field, change, match):
    path = edited(model_dir, tmp_path, change)
    with pytest.raises(ModelInvalid, match=match) as err:
        load_model(path)
    assert err.value.field == field and isinstance(err.value, ModelFileRefused)
    assert str(err.value).startswith(f"model file {path}: field {field}") and "\n" not in str(err.value)


def snapshot(folder) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("field, change, match", CASES[:9], ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES[:9])])
def test_score_prints_an_edited_model_as_one_error_line_and_writes_nothing(model_dir, tmp_path, capsys, monkeypatch,
                                                                           field, change, match):
    from conftest import error_lines, run_cli

    path = edited(model_dir, tmp_path, change)
    (tmp_path / "features.h5").write_bytes((model_dir / "features.h5").read_bytes())
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    code, out, err = run_cli(["score", "ep.mp4", "-m", path.name, "-s", "features.h5", "--json", "out.json",
                              "--report", "r.html"], capsys)
    errors = error_lines(err)
    assert code == 1 and len(errors) == 1 and "edited.skops: field " + field in errors[0], err
    assert "Traceback" not in err and snapshot(tmp_path) == before


def test_archives_that_unpack_too_large_are_refused_before_reading(model_dir, monkeypatch):
    monkeypatch.setattr(modelfile, "MAX_UNPACKED_BYTES", 1000)
    with pytest.raises(ModelFileRefused, match=r"best.skops unpacks to 0.0 GiB, more than a model file holds"):
        load_model(model_dir / "best.skops")


@pytest.mark.parametrize("content, match", [(b"", "not a skops archive"), (b"\xef\xbb\xbf{}", "not a skops archive"),
                                            (b"PK\x05\x06" + b"\x00" * 18, "cannot be read")])
def test_empty_and_foreign_files_are_refused_in_one_line(tmp_path, content, match):
    (tmp_path / "m.skops").write_bytes(content)
    with pytest.raises(ModelFileRefused, match=match) as err:
        load_model(tmp_path / "m.skops")
    assert "\n" not in str(err.value)


def score_json(model_dir, model_path) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ep.mp4 is scored from the store without its file
        result = score_videos(["ep.mp4"], model_path=model_path, store_path=model_dir / "features.h5")
    from classifiers.output.results import results_to_dict

    return json.loads(json.dumps(results_to_dict(result.videos, result.model_info, interval_note=result.interval_note))), result


def test_a_model_without_its_fold_models_says_it_scores_by_conformal(model_dir, tmp_path):
    doc, with_folds = score_json(model_dir, model_dir / "best.skops")
    assert doc["model"]["intervals"]["method"] == "cv-plus" and "by CV+ over their fold models" in doc["interval_note"]
    path = edited(model_dir, tmp_path, lambda p: p.pop("fold_pipelines"))
    doc, result = score_json(model_dir, path)
    assert doc["model"]["intervals"]["method"] == "conformal"
    note = doc["interval_note"]
    assert "by split conformal prediction over videos" in note and "keeps no fold models" in note and "CV+ over" not in note
    video = result.videos[0]
    conformal = {**SPREAD, "method": "conformal"}
    assert video.screen_time_interval_s == screen_time_interval(video.screen_time_s, video.duration_s, conformal,
                                                                min_half_width_s=1.0)
    assert video.screen_time_interval_s != with_folds.videos[0].screen_time_interval_s
