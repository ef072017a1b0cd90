"""Saving and loading a `SavedModel`, and checking it against the features it is asked to score.

A model file is a skops archive (see `classifiers.chain.modelfile`): loading one builds only trusted types and
cannot run code, so model files can be shared. It holds a plain dict tagged ``format="screentime-model"``:
the fitted classifier pipeline (the only non-JSON value), class names, the embedding config of the training
features, the per-video stages, the chosen smoother, the held-out errors behind the intervals, CV scheme and
scores, training videos, library versions and creation time; for a multi-label model (issue 11), the
per-character thresholds and the none label; since issue 18, ``familiarity``: the training samples as new
videos are compared to them (`classifiers.chain.familiarity`, NumPy arrays and floats). Files without a key
added later load with its default (no familiarity: no "unlike the training videos" check).
"""

from __future__ import annotations

import warnings
from datetime import datetime, timezone
from pathlib import Path

from featurestore.embedding.config import identity_differences
from featurestore.errors import FaceModelGiven, ModelFileRefused, StoreMismatch, arg, command, quoted
from featurestore.provenance import library_versions

from .familiarity import TrainingReference
from .fields import saved_model_from
from .model import SavedModel
from .modelfile import dump_model_file, load_model_file
from .smoothing import Smoother

FORMAT = "screentime-model"
FORMAT_VERSION = 2  # 2: skops archive (1 was a joblib pickle, refused since)
MODEL_LIBRARIES = ("scikit-learn", "lightgbm", "numpy", "skops")  # whose objects are stored in a model file
_CHECKED = ("scikit-learn", "lightgbm")  # fitted state of these may change across minor versions


def save_model(
    path: str | Path,
    *,
    pipeline,
    classes: list[str],
    embedding_config: dict,
    smoother: Smoother,
    model_name: str = "",
    cv: dict | None = None,
    scores: dict | None = None,
    training_videos: list[str] | None = None,
    feature_norm: str = "none",
    context_s: float = 0.0,
    interval: dict | None = None,
    multi_label: bool = False,
    thresholds: dict | None = None,
    none_label: str = "neither",
    weights_path: str | None = None,
    fold_pipelines: list | None = None,
    familiarity: TrainingReference | None = None,
) -> Path:
    """Write a fitted model and its metadata to `path` atomically (write a temporary file, rename).

    `multi_label`, `thresholds` and `none_label` as in `SavedModel` (written only for a multi-label model);
    `weights_path` (the weights file of the training store, if any), `fold_pipelines` (the cross-validation
    fold models, for CV+ intervals) and `familiarity` only when given.

    Returns the path written.
    """
    path = Path(path)
    payload = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "pipeline": pipeline, "classes": [str(c) for c in classes],
        "embedding_config": dict(embedding_config), "smoother": smoother.to_dict(), "model_name": model_name,
        "cv": cv or {}, "scores": scores or {}, "training_videos": list(training_videos or []),
        "versions": library_versions(MODEL_LIBRARIES), "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "feature_norm": feature_norm, "context_s": float(context_s), "interval": interval or {},
    }
    if weights_path:
        payload["weights_path"] = str(weights_path)
    if fold_pipelines:
        payload["fold_pipelines"] = list(fold_pipelines)
    if familiarity is not None:
        payload["familiarity"] = familiarity.to_dict()
    if multi_label:
        payload.update({"multi_label": True, "thresholds": {str(c): float(v) for c, v in (thresholds or {}).items()},
                        "none_label": str(none_label)})
    return dump_model_file(payload, path)


def load_model(path: str | Path) -> SavedModel:
    """Load a model file written by `save_model`; loading builds only trusted types, never runs code from it.

    Warns if it was saved with another major.minor version of scikit-learn or LightGBM.

    Raises
    ------
    ModelFileRefused
        The file is missing, unreadable, a pickle, names an untrusted type, or is not a screentime model.
    ModelInvalid (a ModelFileRefused)
        A field holds what no screentime writes (`classifiers.chain.fields`), naming the file and the field.
    """
    path = Path(path)
    if path.is_dir():
        raise ModelFileRefused(f"model file {path} is a folder; give the file written by `{command('compare-models --out')}`")
    if not path.is_file():
        raise ModelFileRefused(f"model file {path} does not exist; train one with `{command(f'compare-models --out {arg(path)}')}`")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn's per-estimator version warnings; ours below is one line
        payload = load_model_file(path)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelFileRefused(
            f"model file {path} holds a {type(payload).__name__}, not a screentime model; "
            f"use a file written by `{command('compare-models --out')}`"
        )
    if payload.get("kind") == "faces":  # classifiers.chain.face_persist (issue 24)
        raise FaceModelGiven(f"model file {path} classifies faces (compare-models --faces); score with `{command('score --faces')}`",
                             payload)
    check_format_version(path, payload, "compare-models")
    saved = saved_model_from(payload, path)
    warn_versions(path, saved.versions)
    return saved


def check_config(saved: SavedModel, store_config: dict, *, store_path: str | Path | None = None) -> None:
    """Refuse features embedded differently from those the model was trained on.

    Compares every identity key (`featurestore.embedding.config.config_identity`: model, weights, pooling,
    image size, feature length, preprocessing, precision), with the defaults older files lack.

    Raises
    ------
    StoreMismatch
        Naming each differing setting and how to fix it.
    """
    diff = identity_differences(saved.embedding_config, store_config)
    if diff:
        model = saved.path.name if saved.path else "the model"
        store = Path(store_path).name if store_path else "the store"
        raise StoreMismatch(
            f"{model} was trained on features unlike those in {store} (model vs store: {', '.join(diff)}); "
            "re-embed the videos with the model's settings into a new store, or retrain with compare-models on this store"
        )


def check_format_version(path: Path, payload: dict, retrain: str) -> None:
    """ModelFileRefused unless the model file's payload is of the `FORMAT_VERSION` this screentime reads (frame and
    face models alike; `retrain`: the command that writes a new one)."""
    if payload.get("format_version") != FORMAT_VERSION:
        raise ModelFileRefused(f"model file {path} has format version {quoted(payload.get('format_version'))}, this "
                               f"screentime reads {FORMAT_VERSION}; retrain it with {retrain}")


def warn_versions(path: Path, saved_versions: dict) -> None:
    now = library_versions(MODEL_LIBRARIES)
    for name in _CHECKED:
        then = saved_versions.get(name)
        if then and now.get(name) and then.split(".")[:2] != now[name].split(".")[:2]:
            warnings.warn(
                f"model file {path.name} was saved with {name} {then}, this is {now[name]}; "
                "its predictions may differ or fail, retrain with compare-models if in doubt",
                stacklevel=3,
            )
