"""The leaderboard file of compare-models (--report): CSV, one row per model, or JSON with the folds and winner."""

from __future__ import annotations

import json
from pathlib import Path

from featurestore.errors import InvalidParameter
from featurestore.files import atomic_write
from featurestore.provenance import json_safe

from .cells import csv_frame

REPORT_SUFFIXES = (".csv", ".json")


def check_report_path(path: str | Path | None) -> None:
    """InvalidParameter unless `path` is None or ends in .csv or .json."""
    if path is not None and Path(path).suffix.lower() not in REPORT_SUFFIXES:
        raise InvalidParameter("report_path", f"{Path(path).name!r} does not end in .csv or .json")


def write_report(result, path: str | Path, *, suffix: str | None = None) -> Path:
    """Write the leaderboard to `path`: CSV (one row per model, text a spreadsheet would run escaped:
    `classifiers.output.cells`) or JSON (leaderboard, folds, scheme, winner).

    The format follows `suffix` ('.csv' or '.json'), by default `path`'s own.
    """
    path = Path(path)
    suffix = (suffix or path.suffix).lower()
    check_report_path(path.with_suffix(suffix))
    if suffix == ".csv":
        return atomic_write(path, csv_frame(result.leaderboard).to_csv(index=False))
    doc = {
        "metric": result.metric, "winner": result.best_name, "smoothing": result.best_smoother.name,
        "feature_norm": result.feature_norm, "context_s": result.context_s, "stage_scores": result.stage_scores,
        "choice": getattr(result, "choice", {}),
        "interval": result.interval,
        **({"multi_label": True, "thresholds": result.thresholds, "none_label": result.none_label}
           if getattr(result, "multi_label", False) else {}),
        "classes": result.classes, "cv": result.cv.to_dict(), "wall_s": result.wall_s,
        "model_path": str(result.model_path) if result.model_path else None,
        "leaderboard": result.leaderboard.to_dict(orient="records"),
    }
    return atomic_write(path, json.dumps(json_safe(doc), indent=2) + "\n")
