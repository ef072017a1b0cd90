"""The whole-frame side at a collection's size: store writing, check-store, fs.load of every video, to_pandas,
compare-models, score of many stored videos, suggest-labels and cluster on SYNTHETIC features in a real store.

    python bench/frames_scale.py                                    # 50 videos x 1 h, 512-d, 10 labelled (~6 min)
    python bench/frames_scale.py --videos 4 --hours 0.5 --features 25088 --labelled 3 --steps compare,pandas
    python bench/frames_scale.py --json out.json

Features: |normal| noise plus one of 3 class means per 5-60 s segment, 1 sample/s (VGG16 avg: 512; --pooling
flatten: 25 088). Each step runs as its own process: wall seconds and peak RSS (ru_maxrss of the child). Cluster
on such features splits nearly every sample into its own unit (they never merge): at 50 hours it is refused in one
line (`TooLargeToCluster`), which is what the step then measures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from featurestore.store.store import FeatureStore  # noqa: E402

STEPS = ("check", "load", "pandas", "compare", "score", "suggest", "cluster")


def make_store(folder: Path, n_videos: int, hours: float, n_features: int, n_labelled: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    config = {"model": "vgg16", "weights": "synthetic", "pooling": "avg", "image_size_px": 224, "n_features": n_features}
    store = FeatureStore(folder / "features.h5", mode="a", config=config)
    means = rng.normal(0, 0.3, (3, n_features)).astype(np.float32)
    lines, n = ["video,start,end,label"], int(hours * 3600)
    for v in range(n_videos):
        t = np.arange(n, dtype=np.float64)
        X = rng.standard_normal((n, n_features), dtype=np.float32)
        start = 0
        while start < n:
            end = min(n, start + int(rng.integers(5, 61)))
            label = int(rng.choice(3, p=[0.6, 0.25, 0.15]))
            X[start:end] += means[label]
            if v < n_labelled:
                lines.append(f"video{v}.mp4,{start},{end},{('neither', 'jerry', 'tom')[label]}")
            start = end
        store.put(f"video{v}.mp4", requested_s=t, actual_s=t, features=np.abs(X), info={"sample_fps": 1.0, "duration_s": float(n)})
    (folder / "labels.csv").write_text("\n".join(lines) + "\n")


def run_step(argv: list[str], folder: Path) -> dict:
    """One child process: wall seconds, its own peak RSS (MB, from wait4), exit status, the last stderr line."""
    t0 = time.perf_counter()
    with open(folder / "step.err", "w") as err:
        child = subprocess.Popen([sys.executable, *argv], cwd=folder, stdout=subprocess.DEVNULL, stderr=err,
                                 env={**os.environ, "PYTHONPATH": str(REPO)})
        _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    lines = (folder / "step.err").read_text().strip().splitlines() or [""]
    return {"wall_s": round(time.perf_counter() - t0, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024),
            "rc": child.returncode, "last_stderr": lines[-1][:160]}


def api(code: str) -> list[str]:
    return ["-c", f"from featurestore.store.store import FeatureStore as F; fs = F('features.h5'); {code}"]


def collection_arguments(parser: argparse.ArgumentParser) -> None:
    """The synthetic collection's size and the models fitted on it (bench/progress_gaps.py takes them too)."""
    parser.add_argument("--videos", type=int, default=50)
    parser.add_argument("--hours", type=float, default=1.0)
    parser.add_argument("--features", type=int, default=512)
    parser.add_argument("--labelled", type=int, default=10)
    parser.add_argument("--models", default="logreg")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    collection_arguments(parser)
    parser.add_argument("--steps", default=",".join(STEPS))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    cli = ["-m", "screentime"]
    unlabelled = [f"video{v}.mp4" for v in range(args.labelled, args.videos)]
    argv = {"check": cli + ["check-store", "-s", "features.h5"],
            "load": api("[fs.load(v) for v in fs.video_ids()]"),
            "pandas": api("fs.to_pandas()"),
            "compare": cli + ["compare-models", "-s", "features.h5", "-l", "labels.csv", "-m", args.models, "-o", "m.skops"],
            "score": cli + ["score", "-s", "features.h5", "-m", "m.skops", *unlabelled, "--json", "score.json"],
            "suggest": cli + ["suggest-labels", "-s", "features.h5", "-m", "m.skops", "-l", "labels.csv", "--budget-s", "600",
                              "-o", "todo.csv"],
            "cluster": cli + ["cluster", "-s", "features.h5", "-o", "clusters.csv"]}
    rows = {}
    with tempfile.TemporaryDirectory(prefix="frames-scale-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        make_store(folder, args.videos, args.hours, args.features, args.labelled)
        rows["write"] = {"wall_s": round(time.perf_counter() - t0, 1)}
        for step in args.steps.split(","):
            rows[step] = run_step(argv[step], folder)
            if step == "score" and (folder / "score.json").exists():
                rows[step]["json_mb"] = round((folder / "score.json").stat().st_size / 1e6, 1)
            print(f"{step:8s} {rows[step]}", flush=True)
    doc = {"videos": args.videos, "hours": args.hours, "n_features": args.features, "labelled": args.labelled,
           "models": args.models, "steps": rows}
    print(json.dumps(doc))
    if args.json:
        args.json.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
