"""compare-models' options checked at the door: the models asked for (and the estimators they name), the context
window, the none label."""

from __future__ import annotations

from typing import Mapping

from classifiers.chain.estimators import MultiLabelClassifier
from classifiers.data.table import NONE_LABEL
from featurestore.errors import InvalidParameter

from .registry import MODELS, build_model


def parse_context(context_s) -> float | str:
    """'auto', or the window in seconds (>= 0) from a number or its text; InvalidParameter otherwise."""
    if isinstance(context_s, str) and context_s.strip().lower() == "auto":
        return "auto"
    try:
        value = float(context_s)
    except (TypeError, ValueError):
        value = -1.0
    if not value >= 0:
        raise InvalidParameter("context_s", f"{context_s!r} is not auto or a number of seconds >= 0")
    return value


def check_models(models):
    """The registry names asked for (a comma-separated string or a sequence), a mapping of estimators as given,
    or None for all; InvalidParameter for unknown names or none at all."""
    if isinstance(models, Mapping) and not models:
        raise InvalidParameter("models", "an empty mapping names no model; give at least one name: estimator")
    if models is None or isinstance(models, Mapping):
        return models
    names = [m.strip() for m in (models.split(",") if isinstance(models, str) else models) if m.strip()]
    unknown = [m for m in names if m not in MODELS]
    if unknown or not names:
        raise InvalidParameter("models", f"{','.join(unknown) or 'nothing'} is not in {','.join(MODELS)}")
    return names


def build_estimators(models, random_state: int, multi_label: bool = False) -> dict:
    """name -> unfitted estimator for the models asked for (as `check_models` returns them): a mapping's estimators as
    given, registry names built with `random_state`, every registry model for None. Frames and faces both take these.
    `multi_label`: each wrapped into one binary problem per character (`classifiers.chain.estimators`)."""
    if models is None:
        models = list(MODELS)
    if isinstance(models, Mapping):
        estimators = dict(models)
    else:
        estimators = {name: build_model(name, random_state=random_state) for name in models}
    if multi_label:  # one binary problem per character, each with the model's own class weights
        return {name: MultiLabelClassifier(estimator=e) for name, e in estimators.items()}
    return estimators


def check_none_label(none_label: str | None, multi_label: bool) -> str:
    """The none label to use (default 'neither'); InvalidParameter if given without `multi_label`, or empty."""
    if none_label is None:
        return NONE_LABEL
    if not multi_label:
        raise InvalidParameter("none_label", "only means something with --multi-label; add it, or drop --none-label")
    if not none_label.strip():
        raise InvalidParameter("none_label", "the none label cannot be empty")
    return none_label.strip()
