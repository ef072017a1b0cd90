"""Benchmark score: an already embedded 2-hour video (7,200 samples at 1/s) scored with each model.

    python bench/score.py [--hours 2] [--models logreg,mlp,gboost,lightgbm]

Target: under 2 seconds per video, everything included (model load, store read, prediction, smoothing,
screen time, CV+ intervals from the model's 4 fold models, the unlike-the-training-videos distance, JSON + CSV
+ plot): each model is saved as compare-models saves it, with fold models and a training reference. A 2-hour video file (64x48 px, 1 fps, MJPG) is written so that `score`
fingerprints a real file; its features are written into the store as `embed` stores them (random
512-d vectors with a class signal: VGG16 itself would take ~30 min here and is not what is measured).
The baseline, run in the same process, is the tutorial's way: predict every frame, count frames as
seconds -- no store, no smoothing, no outputs. Prints a table and one JSON line.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from classifiers.chain.persist import save_model  # noqa: E402
from featurestore.provenance import library_versions  # noqa: E402
from classifiers.selection.registry import build_model  # noqa: E402
from classifiers.output.results import write_csv, write_json  # noqa: E402
from classifiers.output.plot import plot_timelines  # noqa: E402
from classifiers.score import score_videos  # noqa: E402
from classifiers.chain.smoothing import Smoother  # noqa: E402
from classifiers.chain.familiarity import fit_reference  # noqa: E402
from classifiers.chain.intervals import error_spread  # noqa: E402
from featurestore import EmbeddingConfig, FeatureStore, fingerprint  # noqa: E402

CLASSES = ["jerry", "neither", "tom"]


def make_video(path: Path, n_seconds: int) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 1.0, (64, 48))
    frame = np.zeros((48, 64, 3), np.uint8)
    for i in range(n_seconds):
        frame[:] = i % 200
        writer.write(frame)
    writer.release()
    return path


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hours", type=float, default=2.0)
    p.add_argument("--models", default="logreg,mlp,gboost,lightgbm")
    args = p.parse_args(argv)
    n = int(args.hours * 3600)
    rng = np.random.default_rng(0)
    config = EmbeddingConfig(weights="random")
    rows = []
    with tempfile.TemporaryDirectory(prefix="screentime-bench-score-") as tmp:
        tmp = Path(tmp)
        video = make_video(tmp / "two hours.avi", n)
        labels = np.repeat(rng.integers(0, 3, n // 10 + 1), 10)[:n]
        means = rng.normal(0, 0.5, (3, 512))
        X = (rng.normal(0, 1, (n, 512)) + means[labels]).astype(np.float32)
        store = FeatureStore(tmp / "f.h5", mode="a", config=config.identity())
        store.put(video.name, requested_s=np.arange(n, dtype=float), actual_s=np.arange(n, dtype=float), features=X,
                  info={"sample_fps": 1.0, "duration_s": float(n), "fingerprint": fingerprint(video), "source_path": str(video)})
        y_train = np.array(CLASSES)[labels[:3000]]
        folds = np.arange(3000) // 750  # 4 "videos" of 750 labelled frames, one held out per fold
        spread = error_spread([{"video": f"v{k}", "fold": k + 1, "labelled_s": 750.0,
                                "predicted_s": {c: 250.0 + 10 * k for c in CLASSES}, "true_s": dict.fromkeys(CLASSES, 250.0)}
                               for k in range(4)], CLASSES, "grouped")
        reference = fit_reference(X[:3000]).with_threshold({f"v{k}": 1.0 for k in range(4)})
        for name in args.models.split(","):
            model = build_model(name).fit(X[:3000], y_train)
            fold_models = [build_model(name).fit(X[:3000][folds != k], y_train[folds != k]) for k in range(4)]
            model_path = save_model(tmp / f"{name}.joblib", pipeline=model, classes=list(model.classes_),
                                    embedding_config=config.identity(), smoother=Smoother("hmm", 20.0), model_name=name,
                                    interval=spread, fold_pipelines=fold_models, familiarity=reference)
            t0 = time.perf_counter()
            result = score_videos([video], model_path=model_path, store_path=tmp / "f.h5")
            t_score = time.perf_counter() - t0
            write_json(tmp / "r.json", result.videos, result.model_info)
            write_csv(tmp / "r.csv", result.videos)
            t_files = time.perf_counter() - t0 - t_score
            plot_timelines(tmp / "r.png", result.videos, classes=result.classes)
            t_all = time.perf_counter() - t0
            t0 = time.perf_counter()  # baseline: the tutorial's predict-and-count on features already in memory
            predicted = model.predict(X)
            {c: float(np.sum(predicted == c)) for c in CLASSES}
            t_base = time.perf_counter() - t0
            accuracy = float(np.mean(np.asarray(result.videos[0].labels) == np.array(CLASSES)[labels]))
            assert result.videos[0].screen_time_interval_s is not None and result.videos[0].training_distance is not None
            rows.append({"model": name, "score_s": t_score, "json_csv_s": t_files, "plot_s": t_all - t_score - t_files,
                         "total_s": t_all, "baseline_s": t_base, "ratio_to_baseline": t_all / t_base, "accuracy": accuracy})
    print(f"score benchmark: one already embedded {args.hours:g}-hour video, {n} samples x 512 features, hmm smoothing")
    print(f"{'model':10} {'score s':>8} {'json+csv s':>10} {'plot s':>7} {'total s':>8} {'baseline s':>10} {'ratio':>6} {'acc':>6}")
    for r in rows:
        print(f"{r['model']:10} {r['score_s']:8.3f} {r['json_csv_s']:10.3f} {r['plot_s']:7.3f} {r['total_s']:8.3f} "
              f"{r['baseline_s']:10.3f} {r['ratio_to_baseline']:6.1f} {r['accuracy']:6.3f}")
    worst = max(r["total_s"] for r in rows)
    print(f"{'PASS' if worst < 2.0 else 'FAIL'}  slowest total {worst:.3f} s < 2 s per 2-hour video")
    report = {"bench": "score", "n_samples": n, "rows": rows, "worst_total_s": worst, "target_pass": worst < 2.0,
              "machine": {"python": platform.python_version(), "platform": platform.platform()}, "versions": library_versions()}
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main()
