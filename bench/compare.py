"""Benchmark compare-models: 4 models x 5 folds on 20,000 frames x 512 synthetic features.

    python bench/compare.py [--frames 20000] [--features 512] [--videos 10] [--jobs -1]

Target: under 2 minutes on a 2-core machine. Builds a store in a temporary folder (10 videos at 1 frame
per second; segments of 5-60 s, 3 imbalanced classes; features = class mean + per-segment scene + noise),
runs `compare_models` through the public API, prints a table and one JSON line with units in the keys.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from classifiers.compare import compare_models  # noqa: E402
from featurestore.provenance import library_versions  # noqa: E402
from featurestore.store.store import FeatureStore  # noqa: E402


def make_store(folder: Path, n_frames: int, n_features: int, n_videos: int, seed: int = 0) -> tuple[Path, Path]:
    """Write a synthetic store and an interval labels CSV into `folder`; returns their paths."""
    rng = np.random.default_rng(seed)
    config = {"model": "vgg16", "weights": "synthetic", "pooling": "avg", "image_size_px": 224, "n_features": n_features}
    store = FeatureStore(folder / "features.h5", mode="a", config=config)
    class_means = rng.normal(0, 0.06, (3, n_features))
    lines = ["video,start,end,label"]
    per_video = n_frames // n_videos
    for v in range(n_videos):
        t = np.arange(per_video, dtype=np.float64)
        X = rng.normal(0, 1, (per_video, n_features)).astype(np.float32)
        start = 0
        while start < per_video:
            end = min(per_video, start + int(rng.integers(5, 61)))
            label = int(rng.choice(3, p=[0.6, 0.25, 0.15]))
            X[start:end] += class_means[label] + rng.normal(0, 0.3, n_features)
            lines.append(f"video{v}.mp4,{start},{end},{'neither jerry tom'.split()[label]}")
            start = end
        store.put(f"video{v}.mp4", requested_s=t, actual_s=t, features=X, info={"sample_fps": 1.0, "duration_s": float(per_video)})
    (folder / "labels.csv").write_text("\n".join(lines) + "\n")
    return folder / "features.h5", folder / "labels.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20_000)
    parser.add_argument("--features", type=int, default=512)
    parser.add_argument("--videos", type=int, default=10)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=-1)
    parser.add_argument("--models", default="logreg,mlp,gboost,lightgbm")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp:
        store, labels = make_store(Path(tmp), args.frames, args.features, args.videos)
        t0 = time.perf_counter()
        result = compare_models(store, labels, out_path=Path(tmp) / "best.joblib", models=args.models.split(","),
                                n_splits=args.folds, n_jobs=args.jobs)
        wall_s = time.perf_counter() - t0
    board = result.leaderboard
    print(f"{result.cv.description}; {args.frames} frames x {args.features} features, {args.videos} videos")
    print(f"{'model':<10} {'fit s/fold':>10} {'fit s total':>11} {'predict s/1k':>12} {'macro F1':>9} {'smoothing':>10}")
    for row in board.itertuples():
        if row.status == "ok":
            print(f"{row.model:<10} {row.fit_s:>10.2f} {row.fit_s * args.folds:>11.1f} {row.predict_s_per_1000:>12.4f} {row.macro_f1:>9.3f} {row.smoothing:>10}")
        else:
            print(f"{row.model:<10} failed: {row.error}")
    print(f"cross-validation wall s: {result.wall_s:.1f}; total wall s (CV, scoring, refit, save): {wall_s:.1f}; winner: {result.best_name}")
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(json.dumps({
        "n_frames": args.frames, "n_features": args.features, "n_videos": args.videos, "n_splits": args.folds, "scheme": result.cv.scheme,
        "wall_s": round(wall_s, 2), "cv_wall_s": round(result.wall_s, 2), "winner": result.best_name,
        "models": {r.model: {"status": r.status, "fit_s_per_fold": None if r.status != "ok" else round(r.fit_s, 3),
                             "predict_s_per_1000": None if r.status != "ok" else round(r.predict_s_per_1000, 4),
                             "macro_f1": None if r.status != "ok" else round(r.macro_f1, 4)} for r in board.itertuples()},
        "machine": {"cpus": cpus, "platform": platform.platform(), "processor": platform.processor()},
        "versions": library_versions(),
    }))


if __name__ == "__main__":
    main()
