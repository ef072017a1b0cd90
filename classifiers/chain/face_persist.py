"""Saving and loading a `FaceModel`, and checking stored faces against the face config it was trained on.

A face model file is a skops archive like a frame model's (`classifiers.chain.modelfile`: loading cannot run code),
a dict tagged ``format="screentime-model"`` and ``kind="faces"``: the fitted face classifier, the actors, the unknown
threshold and smoothing, the small-face rule (absent: none), the open-set reference (training descriptors per actor
and the distance; absent: no check), the familiarity record (held-out videos' face distances and the threshold
beyond which a video is unlike the training videos, `classifiers.chain.face_familiarity`; absent: no check), the
face config identity and the frame embedding config of the training store, the held-out errors behind the
intervals and the fold models (CV+), CV scheme and scores, how the training faces got their labels, library
versions and creation time. `classifiers.chain.persist.load_model` refuses it (score it with
``score --faces``), and `load_face_model` refuses a frame model.
"""

from __future__ import annotations

import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from featurestore.errors import ModelFileRefused, StoreMismatch, arg, command
from featurestore.provenance import library_versions
from featurestore.store.faces import config_differences

from .face_familiarity import FaceFamiliarity
from .face_model import FaceModel
from .face_open_set import FaceReference
from .modelfile import dump_model_file, load_model_file
from .persist import FORMAT, FORMAT_VERSION, MODEL_LIBRARIES, check_format_version, warn_versions

KIND = "faces"


def save_face_model(path: str | Path, model: FaceModel) -> Path:
    """Write `model` to `path` atomically; returns the path."""
    payload = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "kind": KIND, "pipeline": model.pipeline,
        "actors": [str(a) for a in model.actors], "threshold": float(model.threshold), "smoothing": model.smoothing,
        "face_config": dict(model.face_config), "embedding_config": dict(model.embedding_config),
        "model_name": model.model_name, "cv": model.cv, "scores": model.scores,
        "training_videos": list(model.training_videos), "versions": library_versions(MODEL_LIBRARIES),
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "interval": model.interval,
        "min_quality": float(model.min_quality), "label_counts": dict(model.label_counts),
    }
    if model.reference is not None:
        payload["reference"] = {"X": model.reference.X, "actor": model.reference.actor,
                                "max_distance": float(model.reference.max_distance)}
    if model.familiarity is not None:
        payload["familiarity"] = model.familiarity.to_dict()
    if model.small_face is not None:
        payload["small_face"] = [float(x) for x in model.small_face]
    if model.fold_pipelines:
        payload["fold_pipelines"] = list(model.fold_pipelines)
        payload["fold_thresholds"] = [float(x) for x in model.fold_thresholds]
    return dump_model_file(payload, Path(path))


def load_face_model(path: str | Path, payload: dict | None = None) -> FaceModel:
    """Load a face model written by `save_face_model`, building only trusted types (`payload`: the file's content,
    already read by `classifiers.chain.persist.load_model`, which refused it as `FaceModelGiven`).

    Raises
    ------
    ModelFileRefused
        The file is missing or unreadable, not a screentime model, or a model of whole frames.
    """
    path = Path(path)
    if payload is None and not path.is_file():
        raise ModelFileRefused(f"model file {path} does not exist; train one with "
                               f"`{command(f'compare-models --faces --out {arg(path)}')}`")
    if payload is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            payload = load_model_file(path)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelFileRefused(f"model file {path} is not a screentime model; use a file written by "
                               f"`{command('compare-models --faces --out')}`")
    if payload.get("kind") != KIND:
        raise ModelFileRefused(f"model file {path} classifies whole frames, not faces; score it without --faces, or "
                               f"train a face model with `{command('compare-models --faces')}`")
    check_format_version(path, payload, "compare-models --faces")
    try:
        model = FaceModel(
            pipeline=payload["pipeline"], actors=list(payload["actors"]), threshold=float(payload["threshold"]),
            smoothing=str(payload.get("smoothing", "none")), face_config=dict(payload["face_config"]),
            embedding_config=dict(payload.get("embedding_config", {})), model_name=payload.get("model_name", ""),
            cv=payload.get("cv", {}), scores=payload.get("scores", {}), training_videos=payload.get("training_videos", []),
            versions=payload.get("versions", {}), created_at=payload.get("created_at", ""), path=path,
            interval=dict(payload.get("interval", {})), fold_pipelines=list(payload.get("fold_pipelines", [])),
            fold_thresholds=[float(x) for x in payload.get("fold_thresholds", [])],
            min_quality=float(payload.get("min_quality", 0.0)), label_counts=dict(payload.get("label_counts", {})),
            reference=_reference(payload.get("reference")), small_face=_small_face(payload.get("small_face")),
            familiarity=_familiarity(payload.get("familiarity")),
        )
        _check_widths(model)
    except (KeyError, TypeError, ValueError) as err:
        raise ModelFileRefused(f"model file {path} is a screentime face model with missing or broken fields ({err}); "
                               "retrain it with compare-models --faces") from None
    warn_versions(path, model.versions)
    return model


def _small_face(fields) -> tuple[float, float] | None:
    """The small-face rule of a payload (None: a model saved without one names faces of any size alike)."""
    if fields is None:
        return None
    px, p = (float(x) for x in fields)
    if not (px >= 0 and 0 <= p <= 1):
        raise ValueError(f"small_face: {px} px, {p} is not a height and a probability")
    return px, p


def _familiarity(fields) -> FaceFamiliarity | None:
    """The familiarity record of a payload (None: a model saved before it, which cannot tell unlike videos)."""
    return None if fields is None else FaceFamiliarity.from_dict(dict(fields))


def _check_widths(model: FaceModel) -> None:
    """ValueError when the faces a model file keeps are not as wide as the descriptors its classifier takes."""
    width = getattr(model.pipeline, "n_features_in_", None)
    for what, X in (("reference", None if model.reference is None else model.reference.X),
                    ("familiarity", None if model.familiarity is None else model.familiarity.X)):
        if width is not None and X is not None and len(X) and X.shape[1] != width:
            raise ValueError(f"{what}: {X.shape[1]}-d faces for a classifier of {width}-d descriptors")


def _reference(fields) -> FaceReference | None:
    """The open-set reference of a payload (None: a model saved without one, which makes no open-set check)."""
    if fields is None:
        return None
    X, actor = np.asarray(fields["X"], dtype=np.float32), np.asarray(fields["actor"], dtype=np.int32)
    if X.ndim != 2 or actor.shape != (len(X),):
        raise ValueError("reference: descriptors and actors of different lengths")
    return FaceReference(X, actor, float(fields["max_distance"]))


def face_config_differences(trained: dict, stored: dict) -> list[str]:
    """'key: model value vs store value' for every face config key that differs (missing keys included); of the
    libraries (and weight files), only those that differ: 'libraries: numpy 2.4.6 vs 2.5.0'."""
    return config_differences(trained, stored, sep=" vs ", show=str)


def _refuse(model: FaceModel, diff: list[str], said: str, advice: str) -> None:
    """StoreMismatch in one line where `diff` (model vs theirs) is not empty: '<model> <said> (...); <advice>'."""
    if diff:
        name = model.path.name if model.path else "the model"
        raise StoreMismatch(f"{name} {said}: {'; '.join(diff[:3])}{'; ...' if len(diff) > 3 else ''}); {advice}")


def check_face_config_here(model: FaceModel, identity: dict) -> None:
    """Refuse, before any work, to find faces for `model` where this machine finds them otherwise: `identity`, the
    model's face config here, differs in the libraries, weights or pipeline the model's faces were found with.

    Raises
    ------
    StoreMismatch
    """
    _refuse(model, face_config_differences(model.face_config, identity),
            "was trained on faces found otherwise than this installation finds them (model vs here",
            "install the model's versions, or retrain with compare-models --faces on faces found with these")


def check_face_config(model: FaceModel, table, *, store_name: str = "the store") -> None:
    """Refuse faces found under another face config than the model's, in one line.

    Raises
    ------
    StoreMismatch
    """
    _refuse(model, face_config_differences(model.face_config, dict(table.config)),
            f"was trained on faces unlike those of {table.video_id!r} in {store_name} (model vs store",
            "embed the video with the model's face settings into another store, or retrain with compare-models "
            "--faces on this one")


def check_store_face_config(model: FaceModel, store, *, store_name: str = "the store") -> None:
    """Refuse, before any work, to find new videos' faces for `model` in a store of another face config, in one line.

    Raises
    ------
    StoreMismatch
    """
    stored = store.face_config()
    _refuse(model, [] if stored is None else face_config_differences(model.face_config, stored),
            f"finds faces with other settings than those {store_name} holds (model vs store",
            f"score into another --store, or retrain with compare-models --faces on {store_name}")
