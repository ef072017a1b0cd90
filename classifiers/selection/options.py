"""compare-models' options checked at the door: the models asked for, the context window, the none label."""

from __future__ import annotations

from typing import Mapping

from classifiers.data.table import NONE_LABEL
from featurestore.errors import InvalidParameter

from .registry import MODELS


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
    if models is None or isinstance(models, Mapping):
        return models
    names = [m.strip() for m in (models.split(",") if isinstance(models, str) else models) if m.strip()]
    unknown = [m for m in names if m not in MODELS]
    if unknown or not names:
        raise InvalidParameter("models", f"{','.join(unknown) or 'nothing'} is not in {','.join(MODELS)}")
    return names


def check_none_label(none_label: str | None, multi_label: bool) -> str:
    """The none label to use (default 'neither'); InvalidParameter if given without `multi_label`, or empty."""
    if none_label is None:
        return NONE_LABEL
    if not multi_label:
        raise InvalidParameter("none_label", "only means something with --multi-label; add it, or drop --none-label")
    if not none_label.strip():
        raise InvalidParameter("none_label", "the none label cannot be empty")
    return none_label.strip()
