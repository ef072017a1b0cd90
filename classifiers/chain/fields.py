"""The fields of a loaded model file, each checked before a `SavedModel` is built from them.

A model file travels (it is shared, edited, damaged): a field that holds what no screentime writes would fail
later, deep inside scoring ('jerry' is not in list, a fold model that is a dict, an interval without n_videos).
`saved_model_from` refuses such a file at once as `ModelInvalid`, naming the file, the field and the rule. Fields
added by later versions are optional, with the defaults files without them load with (`classifiers.chain.persist`).
"""

from __future__ import annotations

import math
import unicodedata
from numbers import Integral, Real
from pathlib import Path

import numpy as np

from classifiers.choices import FEATURE_NORMS
from featurestore.embedding.config import POOLINGS, PRECISIONS
from featurestore.errors import ModelInvalid, quoted

from .familiarity import TrainingReference
from .intervals import METHODS
from .model import SavedModel
from .smoothing import METHODS as SMOOTHING_METHODS
from .smoothing import Smoother

MAX_CLASSES = 1000
MAX_NAME_CHARS = 200
MAX_CONTEXT_S = 3600.0
MAX_WINDOW_S = 86400.0
MAX_FEATURES = 10**7
MAX_VIDEOS = 10**6


class _Refuse:
    """Raises `ModelInvalid` for one file: 'model file <path>: field <field> <rule>; retrain it with compare-models'."""

    def __init__(self, path: Path):
        self.path = path

    def __call__(self, field: str, rule: str):
        raise ModelInvalid(f"model file {self.path}: field {field} {rule}; it was edited or damaged, so it is not used "
                           "(retrain it with compare-models)", field=field)


def saved_model_from(payload: dict, path: Path) -> SavedModel:
    """The `SavedModel` a model file's payload describes, every field checked.

    Raises
    ------
    ModelInvalid
        Naming the file, the field (``classes``, ``pipeline``, ``fold_pipelines[2]``, ``interval.n_videos``, ...) and
        the rule it breaks.
    """
    refuse = _Refuse(path)
    multi_label = _flag(refuse, "multi_label", payload.get("multi_label", False))
    classes = _names(refuse, "classes", payload.get("classes"), at_least=1 if multi_label else 2)
    config = _embedding_config(refuse, payload.get("embedding_config"))
    feature_norm = payload.get("feature_norm", "none")
    if not _one_of(feature_norm, FEATURE_NORMS):
        refuse("feature_norm", f"is {quoted(feature_norm)}, not one of {', '.join(FEATURE_NORMS)}")
    context_s = _number(refuse, "context_s", payload.get("context_s", 0.0), 0.0, MAX_CONTEXT_S)
    width = config["n_features"] * (3 if context_s > 0 else 1)  # classifiers.chain.stages.TemporalContext
    pipeline = _classifier(refuse, "pipeline", payload.get("pipeline"), classes, multi_label, width, whole=True)
    folds = payload.get("fold_pipelines", [])
    if not isinstance(folds, (list, tuple)):
        refuse("fold_pipelines", f"is {quoted(folds)}, not a list of fitted classifiers")
    folds = [_classifier(refuse, f"fold_pipelines[{k}]", f, classes, multi_label, width, whole=False)
             for k, f in enumerate(folds)]
    none_label = _name(refuse, "none_label", payload.get("none_label", "neither"))
    thresholds = {}
    if multi_label:
        if none_label in classes:
            refuse("none_label", f"{none_label!r} is also one of the classes")
        thresholds = _thresholds(refuse, payload.get("thresholds", {}), classes)
    return SavedModel(
        pipeline=pipeline, classes=classes, embedding_config=dict(config), smoother=_smoother(refuse, payload.get("smoother")),
        model_name=_text(refuse, "model_name", payload.get("model_name", "")),
        cv=_cv(refuse, payload.get("cv", {})), scores=_scores(refuse, payload.get("scores", {})),
        training_videos=_texts(refuse, "training_videos", payload.get("training_videos", [])),
        versions=_versions(refuse, payload.get("versions", {})),
        created_at=_text(refuse, "created_at", payload.get("created_at", "")), path=path,
        feature_norm=feature_norm, context_s=context_s,
        interval=_interval(refuse, payload.get("interval", {}), classes, len(folds)),
        multi_label=multi_label, thresholds=thresholds, none_label=none_label,
        weights_path=None if payload.get("weights_path") is None else _text(refuse, "weights_path", payload["weights_path"]),
        fold_pipelines=folds, familiarity=_familiarity(refuse, payload.get("familiarity"), width),
    )


def _one_of(value, options) -> bool:
    return isinstance(value, str) and value in options


def _flag(refuse, field: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        refuse(field, f"is {quoted(value)}, not true or false")
    return bool(value)


def _within(value, low: float, high: float) -> bool:
    """Whether `value` is a real number (not a bool) in [low, high]."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
        return False
    try:
        return math.isfinite(value) and low <= value <= high
    except OverflowError:  # an int too large for a float
        return False


def _number(refuse, field: str, value, low: float, high: float) -> float:
    if not _within(value, low, high):
        refuse(field, f"is {quoted(value)}, not a number from {low:g} to {high:g}")
    return float(value)


def _whole(refuse, field: str, value, low: int, high: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral) or not low <= value <= high:
        refuse(field, f"is {quoted(value)}, not a whole number from {low} to {high}")
    return int(value)


def _text(refuse, field: str, value) -> str:
    if not isinstance(value, str):
        refuse(field, f"is {quoted(value)}, not text")
    return str(value)


def _texts(refuse, field: str, value) -> list[str]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        refuse(field, f"is {quoted(value)}, not a list of text")
    return [str(v) for v in value]


def _dict(refuse, field: str, value) -> dict:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        refuse(field, f"is {quoted(value)}, not a mapping of names")
    return dict(value)


def _cv(refuse, value) -> dict:
    """How the model was cross-validated: the words and numbers score's JSON and report repeat."""
    cv = _dict(refuse, "cv", value)
    for key in ("scheme", "description", "caveat"):
        if key in cv and cv[key] is not None:
            _one_line(refuse, f"cv.{key}", cv[key])
    if cv.get("n_splits") is not None:
        _whole(refuse, "cv.n_splits", cv["n_splits"], 1, MAX_VIDEOS)
    return cv


def _scores(refuse, value) -> dict:
    scores = _dict(refuse, "scores", value)
    for key, score in scores.items():
        if isinstance(score, Real) and not isinstance(score, (bool, np.bool_)):
            _number(refuse, f"scores.{key}", score, -1e12, 1e12)
    return scores


def _one_line(refuse, field: str, value) -> str:
    text = _text(refuse, field, value)
    if any(unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") for c in text):
        refuse(field, f"{quoted(text)} holds a control character; it is shown as one line")
    return text


def _name(refuse, field: str, value) -> str:
    """A class or label name: text, 1 to `MAX_NAME_CHARS` characters, no control characters."""
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_NAME_CHARS:
        refuse(field, f"is {quoted(value)}, not a name (text of 1 to {MAX_NAME_CHARS} characters)")
    if any(unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") for c in value):
        refuse(field, f"{quoted(value)} holds a control character; names are one line of printable text")
    return str(value)


def _names(refuse, field: str, value, at_least: int) -> list[str]:
    if not isinstance(value, (list, tuple)) or not at_least <= len(value) <= MAX_CLASSES:
        refuse(field, f"is {quoted(value)}, not a list of {at_least} to {MAX_CLASSES} names")
    names = [_name(refuse, f"{field}[{k}]", v) for k, v in enumerate(value)]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        refuse(field, f"names {twice[0]!r} twice")
    return names


def _versions(refuse, value) -> dict:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        refuse("versions", f"is {quoted(value)}, not a mapping of library names to versions")
    return dict(value)


def _embedding_config(refuse, config) -> dict:
    if not isinstance(config, dict):
        refuse("embedding_config", f"is {quoted(config)}, not the embedding settings of the training features")
    for key in ("model", "weights"):
        _text(refuse, f"embedding_config.{key}", config.get(key))
    if not _one_of(config.get("pooling"), POOLINGS):
        refuse("embedding_config.pooling", f"is {quoted(config.get('pooling'))}, not one of {', '.join(POOLINGS)}")
    if not _one_of(config.get("precision", "float32"), PRECISIONS):
        refuse("embedding_config.precision", f"is {quoted(config.get('precision'))}, not one of {', '.join(PRECISIONS)}")
    _whole(refuse, "embedding_config.image_size_px", config.get("image_size_px"), 32, 8192)
    _whole(refuse, "embedding_config.n_features", config.get("n_features"), 1, MAX_FEATURES)
    for key in ("preprocess", "calibration"):
        if config.get(key) is not None:
            _text(refuse, f"embedding_config.{key}", config[key])
    return {**config, "n_features": int(config["n_features"]), "image_size_px": int(config["image_size_px"])}


def _classifier(refuse, field: str, model, classes: list[str], multi_label: bool, width: int, whole: bool):
    """A fitted classifier whose probabilities fit `classes` (the whole model: all of them; a fold's: some) and whose
    input is `width` staged features wide."""
    try:
        return _checked_classifier(refuse, field, model, classes, multi_label, width, whole)
    except (TypeError, ValueError, AttributeError) as err:  # fitted state edited into what no estimator holds
        if isinstance(err, ModelInvalid):
            raise
        refuse(field, f"is a {type(model).__name__} whose fitted state is damaged ({type(err).__name__})")


def _checked_classifier(refuse, field: str, model, classes: list[str], multi_label: bool, width: int, whole: bool):
    if not callable(getattr(model, "predict_proba", None)):
        refuse(field, f"is a {type(model).__name__}, not a fitted classifier with predict_proba")
    if multi_label:
        n = getattr(model, "n_outputs_", None)
        parts = getattr(model, "estimators_", None)
        if not isinstance(n, Integral) or n != len(classes) or not isinstance(parts, list) or len(parts) != n \
                or len(getattr(model, "constant_proba_", [])) != n:
            refuse(field, f"gives {quoted(n)} characters' probabilities, the model's classes are {len(classes)}")
        inner = [p for p in parts if p is not None]
        for k, part in enumerate(inner):
            if not callable(getattr(part, "predict_proba", None)):
                refuse(f"{field}.estimators_[{k}]", f"is a {type(part).__name__}, not a fitted classifier")
    else:
        seen = getattr(model, "classes_", None)
        try:
            seen = [str(c) for c in seen]
        except TypeError:
            refuse(field, f"has no classes_ list (it is a {type(model).__name__})")
        unknown = [c for c in seen if c not in classes]
        if unknown or len(set(seen)) != len(seen) or not seen or (whole and sorted(seen) != sorted(classes)):
            if whole:  # most likely the classes were edited: name them first
                refuse("classes", f"are {quoted(classes)}, but {field} predicts {quoted(seen)}")
            refuse(field, f"predicts the classes {quoted(seen)}, but the model's classes are {quoted(classes)}")
        inner = [model]
    for part in inner:
        n_in = getattr(part, "n_features_in_", None)
        if n_in is not None and (not isinstance(n_in, Integral) or n_in != width):
            refuse(field, f"takes {quoted(n_in)} features, but embedding_config.n_features and context_s give {width}")
    return model


def _thresholds(refuse, value, classes: list[str]) -> dict[str, float]:
    if not isinstance(value, dict) or any(c not in classes for c in value):  # a class without one gets the default
        refuse("thresholds", f"is {quoted(value)}, not thresholds of the model's classes ({', '.join(classes)})")
    return {str(c): _number(refuse, f"thresholds[{c!r}]", v, 0.0, 1.0) for c, v in value.items()}


def _smoother(refuse, value) -> Smoother:
    if not isinstance(value, dict) or set(value) - {"method", "window_s"} or not _one_of(value.get("method"), SMOOTHING_METHODS):
        refuse("smoother", f"is {quoted(value)}, not {{'method': one of {', '.join(SMOOTHING_METHODS)}, 'window_s': seconds}}")
    window_s = _number(refuse, "smoother.window_s", value.get("window_s", 0.0), 0.0, MAX_WINDOW_S)
    try:
        return Smoother(str(value["method"]), window_s)
    except ValueError as err:
        refuse("smoother", f"is {quoted(value)}: {err}")


def _interval(refuse, spread, classes: list[str], n_folds: int) -> dict:
    """The held-out errors behind the intervals (`classifiers.chain.intervals.error_spread`), or {} for none."""
    if spread is None or isinstance(spread, dict) and not spread:
        return {}
    if not isinstance(spread, dict):
        refuse("interval", f"is {quoted(spread)}, not the held-out errors of cross-validation")
    if "n_videos" not in spread:
        refuse("interval.n_videos", "is missing (the number of held-out videos the errors come from)")
    n = _whole(refuse, "interval.n_videos", spread["n_videos"], 0, MAX_VIDEOS)
    note = _one_line(refuse, "interval.note", spread.get("note", ""))
    if not _one_of(spread.get("method", "t-rms"), METHODS):
        refuse("interval.method", f"is {quoted(spread.get('method'))}, not one of {', '.join(METHODS)}")
    folds = spread.get("folds", [])
    if not isinstance(folds, (list, tuple)):
        refuse("interval.folds", f"is {quoted(folds)}, not the fold of each held-out video")
    for k, f in enumerate(folds):
        _whole(refuse, f"interval.folds[{k}]", f, 0, max(n_folds - 1, 0) if n_folds else MAX_VIDEOS)
    if note or n == 0:
        return dict(spread)
    shares = spread.get("error_share")
    if not isinstance(shares, dict) or not shares or any(c not in classes for c in shares):
        refuse("interval.error_share", f"is {quoted(shares)}, not each class's errors per held-out video")
    for c, errors in shares.items():
        array = np.asarray(errors, dtype=object)
        if array.shape != (n,) or not all(_within(e, -1e6, 1e6) for e in array):
            refuse(f"interval.error_share[{c!r}]", f"is not {n} finite numbers (one per held-out video)")
    if "videos" in spread and len(_texts(refuse, "interval.videos", spread["videos"])) != n:
        refuse("interval.videos", f"names {len(spread['videos'])} videos, interval.n_videos says {n}")
    if (spread.get("method") == "cv-plus" or "folds" in spread) and len(folds) != n:
        refuse("interval.folds", f"is {quoted(folds)}, not the fold of each of the {n} held-out videos")
    return dict(spread)


def _familiarity(refuse, value, width: int) -> TrainingReference | None:
    if value is None or isinstance(value, dict) and not value:
        return None
    if not isinstance(value, dict):
        refuse("familiarity", f"is {quoted(value)}, not the training samples' reference")
    arrays = {}
    for key, ndim in (("mean", 1), ("components", 2), ("references", 2)):
        try:
            arrays[key] = np.asarray(value.get(key), dtype=np.float64)
        except (TypeError, ValueError):
            refuse(f"familiarity.{key}", "is not an array of numbers")
        if arrays[key].ndim != ndim or not np.isfinite(arrays[key]).all():
            refuse(f"familiarity.{key}", f"is not a {ndim}-d array of finite numbers")
    mean, components, references = arrays["mean"], arrays["components"], arrays["references"]
    if mean.shape != (width,) or components.shape[1:] != (width,) or references.shape[1:] != components.shape[:1] \
            or not len(references) or not len(components):
        refuse("familiarity", f"arrays of shapes {mean.shape}, {components.shape}, {references.shape} do not fit "
                              f"{width} staged features")
    _number(refuse, "familiarity.scale", value.get("scale"), 1e-30, 1e30)
    if value.get("threshold") is not None:
        _number(refuse, "familiarity.threshold", value["threshold"], 0.0, 1e30)
    held_out = value.get("held_out", {})
    if not isinstance(held_out, dict):
        refuse("familiarity.held_out", f"is {quoted(held_out)}, not each held-out video's distance")
    for k, v in held_out.items():
        _number(refuse, f"familiarity.held_out[{quoted(k)}]", v, 0.0, 1e30)
    return TrainingReference.from_dict(value)
