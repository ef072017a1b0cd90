"""Benchmark the face side after embedding as a season grows (issue 24): `compare-models --faces`, `score --faces`,
`cluster --faces` and `suggest-labels` on SYNTHETIC face tables (`cartoons.synthetic_faces`: no video, no detector)
put into a real FeatureStore, at growing sizes. Each size is N labelled videos of M minutes plus N/2 to score
(1 sample/s, 0..3 faces a sample). Prints seconds per step and size, and the growth: each step's time ratio to the
previous size over the ratio of faces (1.0: linear in faces; 2.0 at a doubling: quadratic).

    .venv/bin/python bench/faces_scale.py                         # 2x5, 5x10, 10x20, 20x20 (N x minutes)
    .venv/bin/python bench/faces_scale.py --sizes 2x5,4x5 --steps compare,score
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cartoons.synthetic_faces import FaceWorld, make_face_videos, write_interval_labels  # noqa: E402
from classifiers.cluster import cluster_store  # noqa: E402
from classifiers.compare_faces import compare_face_models  # noqa: E402
from classifiers.score_faces import score_face_videos  # noqa: E402
from classifiers.suggest_faces import suggest_tracks  # noqa: E402
from featurestore.store.store import FeatureStore  # noqa: E402
from _common import log  # noqa: E402

STEPS = ("compare", "score", "cluster", "suggest")


def one_size(work: Path, n_videos: int, minutes: float, steps, seed: int) -> dict:
    """Seconds of each step on `n_videos` labelled videos of `minutes` (and n_videos // 2 to score) in `work`."""
    duration_s = 60.0 * minutes
    world = FaceWorld.make(seed=seed)
    train = make_face_videos(world, n_videos, seed=seed + 5, duration_s=duration_s)
    test = make_face_videos(world, max(1, n_videos // 2), seed=seed + 6, prefix="test", duration_s=duration_s)
    store_path = work / "faces.h5"
    t0 = time.perf_counter()
    store = FeatureStore(store_path, mode="a", config={"model": "stand-in", "n_features": 4})
    for v in train + test:
        t = v.table.sample_times_s
        store.put(v.video_id, requested_s=t, actual_s=t, features=np.zeros((len(t), 4), np.float32),
                  info={"sample_fps": 1.0, "duration_s": duration_s, "fps": 25.0})
        store.put_faces(v.video_id, v.table)
    row = {"size": f"{n_videos}x{minutes:g}", "faces": int(sum(len(v.table) for v in train + test)),
           "train_faces": int(sum(len(v.table) for v in train)), "store": time.perf_counter() - t0}
    labels = write_interval_labels(work / "labels.csv", train)
    model = work / "faces.skops"
    runs = {
        "compare": lambda: compare_face_models(store_path, labels, out_path=model, models=["logreg"], n_splits=3,
                                               n_jobs=1),
        "score": lambda: score_face_videos([v.video_id for v in test], model_path=model, store_path=store_path),
        "cluster": lambda: cluster_store(store_path, work / "clusters.csv", faces=True),
        "suggest": lambda: suggest_tracks(store_path, model, 600.0),
    }
    for step in STEPS:
        if step in steps or (step == "compare" and {"score", "suggest"} & set(steps)):  # they need its model
            t0 = time.perf_counter()
            runs[step]()
            row[step] = time.perf_counter() - t0
    return row


def table(rows: list[dict], steps) -> str:
    cols = ["store"] + [s for s in STEPS if any(s in r for r in rows)]
    lines = ["| size (videos x min) | faces | " + " | ".join(f"{c} s (growth)" for c in cols) + " |",
             "|---|---|" + "---|" * len(cols)]
    for k, r in enumerate(rows):
        cells = []
        for c in cols:
            growth = ""
            if k and c in rows[k - 1] and rows[k - 1][c] > 0:
                growth = f" ({(r[c] / rows[k - 1][c]) / (r['faces'] / rows[k - 1]['faces']):.2f})"
            cells.append(f"{r[c]:.2f}{growth}" if c in r else "")
        lines.append(f"| {r['size']} | {r['faces']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="2x5,5x10,10x20,20x20", help="N x minutes, comma separated")
    ap.add_argument("--steps", default=",".join(STEPS))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", type=Path, help="also write the rows here")
    args = ap.parse_args(argv)
    steps = [s for s in args.steps.split(",") if s]
    rows = []
    for size in args.sizes.split(","):
        n, minutes = size.lower().split("x")
        with tempfile.TemporaryDirectory() as tmp:
            rows.append(one_size(Path(tmp), int(n), float(minutes), steps, args.seed))
        log(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in rows[-1].items()}))
    print("growth: time ratio to the previous size / faces ratio (1.0 linear in faces, 2.0 quadratic at a doubling)")
    print(table(rows, steps))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
