"""Benchmark `active`: labels chosen by suggest-labels against randomly placed labels, on held-out episodes.

The generated videos of `bench/accuracy.py` (same ``--work-dir`` layout, so its features are reused): a
model is trained on the training videos' labels (compare-models, ``--models``), then for each budget B
(seconds in all, over the held-out videos, in unseen rooms and motion):

- suggest: `suggest_labels` (the library call behind ``suggest-labels``) picks spans of the held-out
  videos; each span is labelled from the generated truth at each sampled second, split where the
  character changes (as a user would); compare-models retrains on the training labels plus these;
- least confident: the simple rule of issue 12 -- per held-out video B / n_videos seconds in 4 s spans
  at the lowest mean top smoothed probability;
- random: spans of the same lengths as those suggested, placed at random (not overlapping) over the
  held-out videos; the mean over ``--seeds`` draws (and their range);

and every model scores the held-out videos (the whole of them, labelled seconds included) with the
worst per-class screen-time error as % of their duration, and per-second accuracy. The first row is the
model with no label from the held-out videos.

    .venv/bin/python bench/active.py --work-dir /tmp/acc            # 4 x 90 s training, 6 x 90 s held out, B = 30 and 60 s
    .venv/bin/python bench/active.py --work-dir /tmp/acc --budgets 60,120 --seeds 10
    .venv/bin/python bench/active.py --quick
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from _common import (add_common_args, dataset, embed, evaluate, finish_common_args, label_at, log, machine,  # noqa: E402
                     run_tag)
from cartoons.synthetic import write_interval_labels  # noqa: E402
from classifiers.choices import DEFAULT_SELECTION, SELECTIONS  # noqa: E402
from classifiers.compare import compare_models  # noqa: E402
from classifiers.chain.persist import load_model  # noqa: E402
from classifiers.score import score_videos  # noqa: E402
from classifiers.suggest import suggest_labels  # noqa: E402
from featurestore import FeatureStore  # noqa: E402
from featurestore.provenance import library_versions  # noqa: E402

LEAST_CONFIDENT_SPAN_S = 4.0


def truth_rows(spans: list[tuple[str, float, float]], test_by_id: dict) -> list[tuple[str, float, float, str]]:
    """Label each (video, start_s, end_s) span from the generated truth at each 1/s sample, split where it changes."""
    rows = []
    for video_id, start_s, end_s in spans:
        t = np.arange(start_s, end_s - 1e-6, 1.0)
        labels = label_at(test_by_id[video_id], t)
        first = 0
        for k in range(1, len(t) + 1):
            if k == len(t) or labels[k] != labels[first]:
                rows.append((video_id, float(t[first]), float(t[k - 1] + 1.0), str(labels[first])))
                first = k
    return rows


def write_rows(path: Path, rows) -> Path:
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["video", "start", "end", "label"])
        out.writerows([r[0], f"{r[1]:g}", f"{r[2]:g}", r[3]] for r in rows)
    return path


def least_confident_spans(store_path: Path, model_path: Path, test, budget_s: float) -> list[tuple[str, float, float]]:
    """Issue 12's simple rule: per video budget / n_videos s in 4 s spans at the lowest mean top smoothed probability."""
    saved = load_model(model_path)
    store = FeatureStore(store_path)
    per_video_s = budget_s / len(test)
    spans = []
    for v in test:
        f = store.read(v.video_id)
        proba = saved.predict_video(f.requested_s, f.features, duration_s=float(f.info["duration_s"])).proba
        top = proba.max(axis=1)
        n = int(LEAST_CONFIDENT_SPAN_S)
        free = np.ones(len(top), dtype=bool)
        left = per_video_s
        while left >= n - 1e-9:
            scores = np.array([top[i:i + n].mean() if free[i:i + n].all() else np.inf for i in range(len(top) - n + 1)])
            if not np.isfinite(scores).any():
                break
            i = int(np.argmin(scores))
            free[i:i + n] = False
            spans.append((v.video_id, float(f.requested_s[i]), float(f.requested_s[i]) + n))
            left -= n
    return spans


def random_spans(lengths_s: list[float], test, rng) -> list[tuple[str, float, float]]:
    """Spans of the given lengths at random places over the held-out videos (uniform over their time), never overlapping."""
    taken = {v.video_id: [] for v in test}
    total_s = sum(v.duration_s for v in test)
    spans = []
    for length in lengths_s:
        for _ in range(1000):
            x = rng.uniform(0, total_s)
            for v in test:
                if x < v.duration_s:
                    break
                x -= v.duration_s
            start = float(np.floor(min(x, v.duration_s - length)))
            if start >= 0 and all(start + length <= a or start >= b for a, b in taken[v.video_id]):
                taken[v.video_id].append((start, start + length))
                spans.append((v.video_id, start, start + length))
                break
    return spans


def tag(args) -> str:
    """`run_tag`, and the selection rule when it is not the default: runs with other rules keep their own models."""
    return run_tag(args) + ("" if args.selection == DEFAULT_SELECTION else f"-{args.selection}")


def retrain_and_score(name: str, spans, store_path: Path, train_labels: Path, test, work: Path, args) -> dict:
    """compare-models on the training labels plus `spans` labelled from the truth, then score the held-out videos."""
    test_by_id = {v.video_id: v for v in test}
    extra = write_rows(work / f"active-{name}-{tag(args)}.csv", truth_rows(spans, test_by_id))
    model_path = work / f"active-{name}-{tag(args)}.skops"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare_models(store_path, [train_labels, extra] if spans else train_labels, out_path=model_path,
                       models=args.models, n_splits=args.folds, n_jobs=args.jobs, selection=args.selection)
        scored = score_videos([v.path for v in test], model_path=model_path, store_path=store_path)
    result = evaluate(scored, test)
    return {"worst_error_pct": result["worst_error_pct"], "per_second_accuracy": result["per_second_accuracy"],
            "error_pct_of_duration": result["error_pct_of_duration"], "labelled_s": float(sum(b - a for _, a, b in spans)),
            "n_spans": len(spans), "spans": [list(s) for s in spans]}


def run(work: Path, store_path: Path, train_labels: Path, test, args) -> dict:
    """The whole table: no new labels, then per budget suggest / least confident / random (several seeds)."""
    t0 = time.perf_counter()
    base_model = work / f"active-base-{tag(args)}.skops"
    log("active: no labels from the held-out videos")
    base = retrain_and_score("base", [], store_path, train_labels, test, work, args)
    rows = {"none": base}
    for budget_s in args.budgets:
        log(f"active: budget {budget_s:g} s")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            suggested = suggest_labels(store_path, base_model, budget_s, labels_paths=[train_labels],
                                       videos=[v.video_id for v in test], n_jobs=args.jobs)
        spans = [(s.video_id, s.start_s, s.end_s) for s in suggested.spans]
        rows[f"suggest:{budget_s:g}"] = retrain_and_score(f"suggest-{budget_s:g}", spans, store_path, train_labels, test, work, args)
        rows[f"suggest:{budget_s:g}"]["committee"] = suggested.committee_note
        least = least_confident_spans(store_path, base_model, test, budget_s)
        rows[f"least:{budget_s:g}"] = retrain_and_score(f"least-{budget_s:g}", least, store_path, train_labels, test, work, args)
        draws = []
        for seed in range(args.seeds):
            spans_r = random_spans([s[2] - s[1] for s in spans], test, np.random.default_rng(1000 + seed))
            draws.append(retrain_and_score(f"random-{budget_s:g}-{seed}", spans_r, store_path, train_labels, test, work, args))
        worst = [d["worst_error_pct"] for d in draws]
        rows[f"random:{budget_s:g}"] = {
            "worst_error_pct": float(np.mean(worst)), "worst_error_pct_min": float(np.min(worst)),
            "worst_error_pct_max": float(np.max(worst)), "per_second_accuracy": float(np.mean([d["per_second_accuracy"] for d in draws])),
            "labelled_s": float(np.mean([d["labelled_s"] for d in draws])), "n_spans": draws[0]["n_spans"] if draws else 0,
            "draws": draws,
        }
        for key in (f"suggest:{budget_s:g}", f"least:{budget_s:g}", f"random:{budget_s:g}"):
            log(f"  {key}: worst error {rows[key]['worst_error_pct']:.1f}%, accuracy {rows[key]['per_second_accuracy']:.3f}")
    return {"rows": rows, "budgets_s": list(args.budgets), "seeds": args.seeds, "models": args.models,
            "wall_s": time.perf_counter() - t0}


def print_table(result: dict, info: dict) -> None:
    print(f"\nActive labelling: {info['n_test']} held-out videos x {info['duration_s']:g} s in unseen rooms "
          f"{', '.join(info['test_styles'])}; model trained on {info['n_train']} other videos; models "
          f"{','.join(result['models'])}; random = mean of {result['seeds']} draws (range)\n")
    head = f"{'labels from the held-out videos':44} {'labelled s':>10} {'spans':>6} {'worst err %':>16} {'acc/s':>6}"
    print(head)
    print("-" * len(head))
    rows = result["rows"]

    def line(text, r):
        err = f"{r['worst_error_pct']:.1f}"
        if "worst_error_pct_min" in r:
            err += f" ({r['worst_error_pct_min']:.0f}-{r['worst_error_pct_max']:.0f})"
        print(f"{text:44} {r['labelled_s']:10.0f} {r['n_spans']:6d} {err:>16} {r['per_second_accuracy']:6.3f}")

    line("none", rows["none"])
    for b in result["budgets_s"]:
        line(f"B = {b:g} s chosen by suggest-labels", rows[f"suggest:{b:g}"])
        line(f"B = {b:g} s least confident, 4 s spans", rows[f"least:{b:g}"])
        line(f"B = {b:g} s same spans placed at random", rows[f"random:{b:g}"])
    print()
    none = rows["none"]["worst_error_pct"]
    for b in result["budgets_s"]:
        s, r, lc = (rows[f"{k}:{b:g}"]["worst_error_pct"] for k in ("suggest", "random", "least"))
        verdict = "PASS" if s < r < none else "FAIL"
        print(f"target B = {b:g} s: suggest {s:.1f}% < random {r:.1f}% < none {none:.1f}%: {verdict} "
              f"(least confident {lc:.1f}%)")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(p, models="logreg", quick_help="3 x 40 s training, 3 x 40 s held out, B = 12 and 24 s, 3 draws")
    p.add_argument("--dense-fps", type=float, default=2.0, help="as bench/accuracy.py (its stores are shared; this bench uses the 1/s one)")
    p.add_argument("--budgets", default="30,60", help="comma-separated budgets B, seconds over all held-out videos")
    p.add_argument("--seeds", type=int, default=8, help="random draws per budget")
    p.add_argument("--selection", default=DEFAULT_SELECTION, choices=SELECTIONS, help="compare-models --selection of "
                   "every model trained here (issue 26 compares them)")
    args = p.parse_args(argv)
    finish_common_args(args)
    if args.quick:
        args.budgets, args.seeds = "12,24", 3
    args.budgets = [float(b) for b in str(args.budgets).split(",") if b.strip()]
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="screentime-active-") as tmp:
        work = args.work_dir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        train, test = dataset(work, args)
        stores = embed(work, train, test, args)
        labels = write_interval_labels(work / "train_labels.csv", train)
        result = run(work, stores["1"], labels, test, args)
    info = {"n_train": len(train), "n_test": len(test), "duration_s": args.duration_s, "weights": args.weights,
            "train_styles": sorted({v.style for v in train}), "test_styles": sorted({v.style for v in test})}
    print_table(result, info)
    report = {"bench": "active", **info, "seed": args.seed, "selection": args.selection, "features": args.features, "wall_s": time.perf_counter() - start,
              "machine": machine(),
              "versions": library_versions(("numpy", "scikit-learn", "lightgbm", "tensorflow")), **result}
    print(json.dumps(report, default=float))
    return report


if __name__ == "__main__":
    main()
