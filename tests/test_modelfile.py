"""Model files cannot run code (issue 8 item 7): skops archives with trusted types only; pickles refused.

Every registry model round-trips with identical predict_proba; a pickle whose loading would run a shell
command, a skops file naming a function or a foreign class, are refused in one line and nothing runs.
"""

from __future__ import annotations

import os
import pickle

import joblib
import numpy as np
import pytest
import skops.io as sio

from classifiers.chain.modelfile import load_model_file, untrusted_types
from classifiers.chain.persist import load_model, save_model
from classifiers.selection.registry import MODELS, build_model
from classifiers.chain.smoothing import Smoother
from cli import main
from featurestore.errors import ModelFileRefused

CONFIG = {"model": "vgg16", "weights": "random:seed=0", "pooling": "avg", "image_size_px": 32, "n_features": 300}


@pytest.fixture(scope="module")
def data():
    """300 samples x 300 features (wider than every model's PCA, so ReduceDims really reduces), 3 classes."""
    rng = np.random.default_rng(0)
    y = np.array(["jerry", "neither", "tom"])[rng.integers(0, 3, 300)]
    X = (rng.normal(size=(300, 300)) + (y == "tom")[:, None] * 0.8).astype(np.float32)
    return X, y


@pytest.mark.parametrize("name", list(MODELS))
def test_every_registry_model_round_trips_with_identical_proba(tmp_path, data, name):
    X, y = data
    fewer_rounds = {"gboost": {"clf__estimator__max_iter": 10}, "lightgbm": {"clf__n_estimators": 10}}  # same types, faster
    pipeline = build_model(name).set_params(**fewer_rounds.get(name, {})).fit(X, y)
    path = save_model(tmp_path / "best.joblib", pipeline=pipeline, classes=list(pipeline.classes_), embedding_config=CONFIG,
                      smoother=Smoother("hmm", 3.0), model_name=name)
    assert untrusted_types(path) == []  # every type in the file is on screentime's list
    saved = load_model(path)
    np.testing.assert_array_equal(saved.pipeline.predict_proba(X), pipeline.predict_proba(X))
    assert saved.model_name == name and saved.smoother == Smoother("hmm", 3.0)


class RunsCode:
    """Unpickling it runs a shell command that creates a file (what a shared model file must never do)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


@pytest.mark.parametrize("how", ["pickle", "joblib", "joblib compressed"])
def test_crafted_pickle_is_refused_and_runs_nothing(tmp_path, how, capsys):
    marker = tmp_path / "pwned"
    model = tmp_path / "best.joblib"
    payload = {"format": "screentime-model", "pipeline": RunsCode(marker)}
    if how == "pickle":
        model.write_bytes(pickle.dumps(payload))
    else:
        joblib.dump(payload, model, compress=3 if how.endswith("compressed") else 0)
    with pytest.raises(ModelFileRefused, match="is a pickle"):
        load_model(model)
    try:
        main(["score", str(tmp_path / "v.mp4"), "--model", str(model), "--store", str(tmp_path / "f.h5")])
        code = 0
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1 and "is a pickle" in err
    assert not marker.exists()


class Foreign:
    """A class outside screentime's package: its state must never be set from a model file."""

    touched = False

    def __setstate__(self, state):
        Foreign.touched = True


@pytest.mark.parametrize("payload, named", [
    ({"format": "screentime-model", "pipeline": os.system}, "system"),
    ({"format": "screentime-model", "pipeline": Foreign()}, "test_modelfile.Foreign"),
    ({"format": "screentime-model", "pipeline": build_model}, "classifiers.selection.registry.build_model"),
])
def test_skops_file_with_untrusted_types_is_refused(tmp_path, payload, named):
    sio.dump(payload, tmp_path / "m.skops")
    with pytest.raises(ModelFileRefused, match=f"names types screentime does not trust \\(.*{named}"):
        load_model_file(tmp_path / "m.skops")
    assert not Foreign.touched


def test_damaged_model_file_is_refused_in_one_line(tmp_path, data):
    X, y = data
    pipeline = build_model("logreg").fit(X, y)
    path = save_model(tmp_path / "m.skops", pipeline=pipeline, classes=list(pipeline.classes_), embedding_config=CONFIG,
                      smoother=Smoother("none"))
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 3: len(raw) // 3 + 64] = bytes(64)
    path.write_bytes(bytes(raw))
    with pytest.raises(ModelFileRefused) as caught:
        load_model(path)
    assert "\n" not in str(caught.value) and "m.skops" in str(caught.value)


@pytest.mark.parametrize("name", list(MODELS))
def test_every_registry_model_multi_label_round_trips(tmp_path, data, name):
    """Issue 11: a multi-label model (one clone per character) is stored with trusted types only and predicts the same."""
    from classifiers.chain.estimators import MultiLabelClassifier

    X, y = data
    Y = np.column_stack([y == "tom", y == "jerry", np.zeros(len(y))]).astype(int)  # the last one never on screen
    fewer_rounds = {"gboost": {"estimator__clf__estimator__max_iter": 10}, "lightgbm": {"estimator__clf__n_estimators": 10}}
    model = MultiLabelClassifier(estimator=build_model(name)).set_params(**fewer_rounds.get(name, {})).fit(X, Y)
    path = save_model(tmp_path / "best.skops", pipeline=model, classes=["tom", "jerry", "spike"], embedding_config=CONFIG,
                      smoother=Smoother("none"), model_name=name, multi_label=True, thresholds={"tom": 0.4, "jerry": 0.6})
    assert untrusted_types(path) == []
    saved = load_model(path)
    np.testing.assert_array_equal(saved.pipeline.predict_proba(X), model.predict_proba(X))
    assert saved.multi_label and saved.thresholds == {"tom": 0.4, "jerry": 0.6}
