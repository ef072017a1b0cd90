"""Benchmark `cluster --faces` (issue 25) on SYNTHETIC face tables put into a real feature store.

No video, no detector: `cartoons.synthetic_faces` draws each video's faces (a cast of 4 actors, extras nobody
labels, per-video drift, per-track pose, noise growing as quality falls and making a poor face look partly like
another actor, missed detections, junk faces, tracks broken in two). Two measurements:

- **speed**: `--hours` hour-long videos (1 sample/s; shots of 0-3 actors and often 1-2 extras, so up to 4 faces a
  sample) in a real `FeatureStore`, and the command `cluster --faces` run in-process, timed on the wall clock (the
  page gets no thumbnails: there is no video to decode).
- **quality** (`--quality-videos` videos of `--duration-s`): purity of the clusters (share of faces in a cluster, the
  bin excepted, that are its majority person; extras and junk count as people), the names a person types to cover
  90% of the cast's faces (clusters largest first, each named after its majority when that is an actor), and a face
  model trained from those names alone (and `unknown` on the clusters whose majority is not in the cast, unless
  `--no-unknown`; compare-models --faces, `--models`) against one trained from the full
  per-second truth (`video,start,end,label` intervals), both scored on `--test` held-out videos: the worst
  per-actor screen-time error (% of duration, as bench/faces_classify.py reports it).

    .venv/bin/python bench/cluster.py                      # 1 hour for speed; 8 x 120 s + 4 held out for quality
    .venv/bin/python bench/cluster.py --hours 2 --skip-quality
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from cartoons.synthetic_faces import FaceWorld, make_face_video, make_face_videos, write_interval_labels  # noqa: E402
from featurestore.store.store import FeatureStore  # noqa: E402


def put(path: Path, videos) -> Path:
    """A real store holding the videos' face tables (frame features: zeros, 4 wide; face commands never read them)."""
    store = FeatureStore(path, mode="a", config={"model": "stand-in", "n_features": 4})
    for v in videos:
        t = v.table.sample_times_s
        store.put(v.video_id, requested_s=t, actual_s=t, features=np.zeros((len(t), 4), np.float32),
                  info={"sample_fps": v.sample_fps, "duration_s": v.duration_s, "fps": 25.0})
        store.put_faces(v.video_id, v.table)
    return path


def run_cluster(argv: list[str]) -> float:
    """`cluster ...` in-process (its output swallowed); wall seconds."""
    from cli import main

    t0 = time.perf_counter()
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            main(argv)
    except SystemExit as exc:  # typer exits when done
        if exc.code:
            raise
    return time.perf_counter() - t0


def speed(args, work: Path) -> dict:
    world = FaceWorld.make(seed=args.seed)
    videos = [make_face_video(f"hour{k}.mp4", world, seed=args.seed * 100 + k, duration_s=3600.0, confusion=0.8)
              for k in range(args.hours)]
    store = put(work / "hour.h5", videos)
    per_sample = np.concatenate([np.bincount(np.searchsorted(v.table.sample_times_s, v.table.time_s),
                                             minlength=len(v.table.sample_times_s)) for v in videos])
    walls = [run_cluster(["cluster", "--faces", "--store", str(store), "-o", str(work / f"hour{k}.csv")]) for k in range(2)]
    same = all((work / f"hour0{s}").read_bytes() == (work / f"hour1{s}").read_bytes() for s in (".csv", ".members.csv"))
    n_clusters = sum(1 for line in (work / "hour0.csv").read_text().splitlines()[1:] if not line.startswith("blurred"))
    return {"hours": args.hours, "faces": int(per_sample.sum()), "faces_per_s_mean": round(float(per_sample.mean()), 2),
            "faces_per_s_max": int(per_sample.max()), "tracks": int(sum(len(np.unique(v.table.track[v.table.track >= 0]))
                                                                         for v in videos)),
            "clusters": n_clusters, "wall_s": [round(w, 2) for w in walls], "same_files_twice": same}


def quality(args, work: Path) -> dict:
    from classifiers.cluster import cluster_store
    from classifiers.compare_faces import compare_face_models
    from classifiers.score_faces import score_face_videos
    from faces_classify import evaluate

    world = FaceWorld.make(seed=args.seed, spread=args.spread)
    noise = {"confusion": args.confusion, "duration_s": args.duration_s, "face_noise": args.face_noise}
    train = make_face_videos(world, args.quality_videos, seed=args.seed + 1, **noise)
    test = make_face_videos(world, args.test, seed=args.seed + 2, prefix="heldout", drift=0.3, **noise)
    store = put(work / "q.h5", train + test)
    run = cluster_store(store, work / "clusters.csv", faces=True, videos=[v.video_id for v in train], thumbnails=False,
                        threshold=args.threshold)
    person = {v.video_id: v.person for v in train}
    units = run.clustering.units
    cast_faces = sum(int(np.isin(p, world.actors).sum()) for p in person.values())
    in_clusters = majority = covered = 0
    names, unknown = {}, []
    blurred = {"faces": 0, "cast_faces": 0}
    for c in run.clustering.clusters:
        who = np.concatenate([person[units.video[u]][units.rows[u]] for u in c.units])
        if c.is_blurred:
            blurred = {"faces": int(len(who)), "cast_faces": int(np.isin(who, world.actors).sum())}
            continue
        values, counts = np.unique(who, return_counts=True)
        in_clusters, majority = in_clusters + len(who), majority + int(counts.max())
        top = str(values[np.argmax(counts)])
        if top in world.actors and covered < 0.9 * cast_faces:
            names[c.id] = top
            covered += int(np.sum(who == top))
        elif top not in world.actors and not args.no_unknown:
            unknown.append(c.id)
    (work / "clusters.csv").write_text("cluster,name\n" + "".join(f"{c},{n}\n" for c, n in names.items())
                                       + "".join(f"{c},unknown\n" for c in unknown))
    truth = write_interval_labels(work / "truth.csv", train)
    out = {"videos": args.quality_videos, "duration_s": args.duration_s, "confusion": args.confusion,
           "spread": args.spread, "face_noise": args.face_noise, "threshold": run.clustering.threshold,
           "clusters": sum(not c.is_blurred for c in run.clustering.clusters), "purity": round(majority / in_clusters, 4),
           "names_for_90pct_of_cast_faces": len(names), "actors": len(world.actors), "clusters_named_unknown": len(unknown),
           "cast_faces_covered": round(covered / cast_faces, 4), "blurred_bin": blurred}
    for what, labels in (("from_names", work / "clusters.csv"), ("from_truth", truth)):
        model = work / f"{what}.skops"
        cmp = compare_face_models(store, labels, out_path=model, models=args.models, n_jobs=args.jobs,
                                  random_state=args.seed)
        scored = score_face_videos([v.video_id for v in test], model_path=model, store_path=store)
        out[what] = {"label_counts": cmp.label_counts, **{k: v for k, v in evaluate(scored.videos, test).items()
                        if k in ("worst_error_pct_of_duration", "worst_second_accuracy", "exact_set_accuracy")}}
    out["worst_error_gap_points"] = round(out["from_names"]["worst_error_pct_of_duration"]
                                          - out["from_truth"]["worst_error_pct_of_duration"], 2)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hours", type=int, default=1, help="hour-long videos for the speed run (0: none)")
    p.add_argument("--quality-videos", type=int, default=8)
    p.add_argument("--test", type=int, default=4, help="held-out videos the two models are scored on")
    p.add_argument("--duration-s", type=float, default=120.0)
    p.add_argument("--confusion", type=float, default=0.8)
    p.add_argument("--spread", type=float, default=0.9, help="how far apart people are (0.9: about 0.95 apart)")
    p.add_argument("--face-noise", type=float, default=0.25)
    p.add_argument("--threshold", type=float, default=None, help="cluster's --threshold [default: its own]")
    p.add_argument("--models", default="logreg")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-quality", action="store_true")
    p.add_argument("--no-unknown", action="store_true", help="leave the clusters of extras empty instead of naming them unknown")
    p.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = {"speed": speed(args, Path(tmp))} if args.hours else {}
        if args.hours:
            print(json.dumps(result["speed"]), flush=True)
        if not args.skip_quality:
            result["quality"] = quality(args, Path(tmp))
            print(json.dumps(result["quality"]), flush=True)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
