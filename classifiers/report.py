"""Render a compare-models result: rich tables for the terminal, CSV or JSON files for the record."""

from __future__ import annotations

import json
import math
from pathlib import Path

from rich.table import Table

from classifiers.cv import CVPlan

REPORT_SUFFIXES = (".csv", ".json")


def folds_table(plan: CVPlan) -> Table:
    """Per fold: training and test frames and videos, frames dropped by the gap, test frames per class."""
    table = Table(title=plan.description, title_justify="left")
    columns = list(plan.summary.columns)
    for col in columns:
        table.add_column(col.replace("_", " "), justify="right")
    for row in plan.summary.itertuples(index=False):
        table.add_row(*(str(v) for v in row))
    return table


def leaderboard_table(result) -> Table:
    """The leaderboard of a `ComparisonResult`, best first, the winner starred, failed models last."""
    board = result.leaderboard
    metric = result.metric
    table = Table(title=f"models compared by {metric} (mean ± std over {result.cv.n_splits} folds, {result.cv.scheme} split)",
                  title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("model")
    table.add_column("smoothing")
    for name in ("macro_f1", "balanced_accuracy"):
        table.add_column(("▶ " if name == metric else "") + name.replace("_", " "), justify="right")
        table.add_column(f"{name.replace('_', ' ')} unsmoothed", justify="right")
    table.add_column(("▶ " if metric == "log_loss" else "") + "log loss", justify="right")
    table.add_column(("▶ " if metric == "screen_time_error_pct" else "") + "screen-time error %", justify="right")
    for c in result.classes:
        table.add_column(f"recall {c}", justify="right")
    for c in result.classes:
        table.add_column(f"time err % {c}", justify="right")
    table.add_column("fit s/fold", justify="right")
    table.add_column("predict s/1k", justify="right")
    n_cols = len(table.columns)
    for row in board.to_dict(orient="records"):
        name = f"★ {row['model']}" if row["winner"] else row["model"]
        if row["status"] != "ok":
            table.add_row(str(row["rank"]), f"[red]{row['model']}[/red]", f"[red]failed: {row['error']}[/red]", *[""] * (n_cols - 3))
            continue
        cells = [str(row["rank"]), f"[bold green]{name}[/bold green]" if row["winner"] else name, row["smoothing"]]
        for m in ("macro_f1", "balanced_accuracy"):
            cells += [f"{row[m]:.3f} ± {row[m + '_std']:.3f}", _num(row[m + "_unsmoothed"], 3)]
        cells += [f"{row['log_loss']:.3f} ± {row['log_loss_std']:.3f}", _num(row["screen_time_error_pct"], 1)]
        cells += [_num(row[f"recall_{c}"], 3) for c in result.classes]
        cells += [_num(row[f"screen_time_error_pct_{c}"], 1) for c in result.classes]
        cells += [_num(row["fit_s"], 2), _num(row["predict_s_per_1000"], 3)]
        table.add_row(*cells)
    return table


def write_report(result, path: str | Path) -> Path:
    """Write the leaderboard to `path`: CSV (one row per model) or JSON (leaderboard, folds, scheme, winner)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in REPORT_SUFFIXES:
        raise ValueError(f"report path must end in {' or '.join(REPORT_SUFFIXES)}, got {path.name!r}")
    if suffix == ".csv":
        result.leaderboard.to_csv(path, index=False)
        return path
    doc = {
        "metric": result.metric, "winner": result.best_name, "smoothing": result.best_smoother.name,
        "classes": result.classes, "cv": result.cv.to_dict(), "wall_s": result.wall_s,
        "model_path": str(result.model_path) if result.model_path else None,
        "leaderboard": [{k: _json(v) for k, v in row.items()} for row in result.leaderboard.to_dict(orient="records")],
    }
    path.write_text(json.dumps(doc, indent=2, default=_json) + "\n")
    return path


def _num(value, digits: int) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _json(value):
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
