"""How long compare-models (frames and --faces), suggest-labels and cluster (frames and --faces) run with nothing on
screen, at a collection's size, on SYNTHETIC stores (`bench/frames_scale.py`'s frames, `bench/faces_scale.py`'s faces).

    python bench/progress_gaps.py                                  # 50 videos x 1 h, 512-d, 10 labelled; faces 20 x 20 min
    python bench/progress_gaps.py --videos 10 --hours 0.5 --faces 5x10 --steps compare,suggest
    PYTHONPATH=/other/checkout python bench/progress_gaps.py       # a checkout without progress: all silent

Each command runs in this process with a recorder for its `progress` (`featurestore.progress.Progress`; left out
where the function takes none) and compare-models' `on_plan` (the folds table it prints). Per command, in seconds:
wall_s; silent_s and longest_silent_s (where: after which step), the time no step's bar was on screen and nothing
was printed; stalled_s, the
longest a bar's count stood still (its elapsed time still ticks); and each step's own seconds.
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))  # frames_scale puts its checkout first

from frames_scale import collection_arguments, make_store  # noqa: E402

STEPS = ("compare", "suggest", "cluster", "compare_faces", "suggest_faces", "cluster_faces")


class Timeline:
    """A Progress that timestamps its events; `printed()` marks a line printed (the folds table)."""

    def __init__(self):
        self.t0 = time.perf_counter()
        self.events: list[tuple[float, str, str]] = []  # (s, kind, step)
        self.step = ""

    def _note(self, kind: str) -> None:
        self.events.append((time.perf_counter() - self.t0, kind, self.step))

    def start(self, what, total, n_done=0):
        self.step = f"{what} ({total})"
        self._note("start")

    def advance(self, n):
        self._note("advance")

    def finish(self):
        self._note("finish")
        self.step = ""

    def printed(self, *_):
        self._note("printed")

    def summary(self, wall_s: float) -> dict:
        silent, longest, stalled, since, steps = 0.0, 0.0, 0.0, 0.0, {}
        inside, started, after, where = False, 0.0, "the call's start", ""
        for t, kind, step in self.events + [(wall_s, "end", "")]:
            gap = t - since
            if inside:
                stalled = max(stalled, gap)
            else:
                silent += gap
                if gap > longest:
                    longest, where = gap, f"after {after}"
            if kind == "start":
                inside, started = True, t
            elif kind == "finish":
                inside = False
                steps[step] = round(steps.get(step, 0.0) + t - started, 1)
                after = step
            elif kind == "printed":
                after = "the folds table"
            since = t
        return {"wall_s": round(wall_s, 1), "silent_s": round(silent, 1), "longest_silent_s": round(longest, 1), "where": where,
                "stalled_s": round(stalled, 1), "steps_s": steps}


def run(fn, **kwargs) -> dict:
    timeline = Timeline()
    accepted = inspect.signature(fn).parameters
    if "progress" in accepted:
        kwargs["progress"] = timeline
    if "on_plan" in accepted:
        kwargs["on_plan"] = timeline.printed
    t0 = time.perf_counter()
    try:
        fn(**kwargs)
        error = ""
    except Exception as err:  # cluster of 50 hours is refused (TooLargeToCluster): what is silent before it counts
        error = f"{type(err).__name__}: {str(err)[:120]}"
    row = timeline.summary(time.perf_counter() - t0)
    return {**row, "error": error} if error else row


def make_face_store(folder: Path, n_videos: int, minutes: float, seed: int = 1) -> tuple[Path, Path]:
    from cartoons.synthetic_faces import FaceWorld, make_face_videos, write_interval_labels
    from featurestore.store.store import FeatureStore

    world = FaceWorld.make(seed=seed)
    videos = make_face_videos(world, n_videos, seed=seed + 5, duration_s=60.0 * minutes)
    store = FeatureStore(folder / "faces.h5", mode="a", config={"model": "stand-in", "n_features": 4})
    for v in videos:
        t = v.table.sample_times_s
        store.put(v.video_id, requested_s=t, actual_s=t, features=np.zeros((len(t), 4), np.float32),
                  info={"sample_fps": 1.0, "duration_s": 60.0 * minutes, "fps": 25.0})
        store.put_faces(v.video_id, v.table)
    return folder / "faces.h5", write_interval_labels(folder / "face_labels.csv", videos)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    collection_arguments(parser)
    parser.add_argument("--faces", default="20x20", help="N labelled face videos x minutes")
    parser.add_argument("--jobs", type=int, default=-1)
    parser.add_argument("--steps", default=",".join(STEPS))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    from classifiers.cluster import cluster_store
    from classifiers.compare import compare_models
    from classifiers.suggest import suggest_labels

    steps, rows = args.steps.split(","), {}
    with tempfile.TemporaryDirectory(prefix="progress-gaps-") as tmp:
        d = Path(tmp)
        if {"compare", "suggest", "cluster"} & set(steps):
            make_store(d, args.videos, args.hours, args.features, args.labelled)
        if any(s.endswith("_faces") for s in steps):
            n, minutes = args.faces.split("x")
            faces, face_labels = make_face_store(d, int(n), float(minutes))
        models = args.models.split(",")
        runs = {
            "compare": lambda: run(compare_models, store_path=d / "features.h5", labels_path=d / "labels.csv",
                                   out_path=d / "m.skops", models=models, n_jobs=args.jobs),
            "suggest": lambda: run(suggest_labels, store_path=d / "features.h5", model_path=d / "m.skops", budget_s=600.0,
                                   labels_paths=[d / "labels.csv"], n_jobs=args.jobs),
            "cluster": lambda: run(cluster_store, store_path=d / "features.h5", out_path=d / "clusters.csv"),
            "compare_faces": lambda: run(compare_models, store_path=faces, labels_path=face_labels, faces=True,
                                         out_path=d / "faces.skops", models=models, n_jobs=args.jobs),
            "suggest_faces": lambda: run(suggest_labels, store_path=faces, model_path=d / "faces.skops", budget_s=600.0,
                                         labels_paths=[face_labels], n_jobs=args.jobs),
            "cluster_faces": lambda: run(cluster_store, store_path=faces, out_path=d / "face_clusters.csv", faces=True),
        }
        for step in steps:
            rows[step] = runs[step]()
            print(f"{step:14s} {json.dumps(rows[step])}", flush=True)
    doc = {"videos": args.videos, "hours": args.hours, "n_features": args.features, "labelled": args.labelled,
           "faces": args.faces, "models": args.models, "steps": rows}
    print(json.dumps(doc))
    if args.json:
        args.json.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
