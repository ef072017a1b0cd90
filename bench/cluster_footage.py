"""Benchmark `cluster_footage`: issue 25's "done when" figures on composed footage of real faces, over seeds.

For each seed, `cartoons.actors` composes `--n-train` training and `--n-test` held-out videos (as
bench/faces_accuracy.py does, and cached in the same `--work-dir` layout). Then:

1. `embed --faces` every video (frame features: random VGG16 at `--image-size`, which face commands never read);
2. `cluster --faces` the training videos; each stored face's true person (`_face_metrics.true_people`) gives the
   clusters' purity and the names a person types to cover 90% of the cast's faces (`_face_metrics.cluster_figures`:
   clusters largest first by their majority actor's faces; the limit is 2 x the number of actors);
3. those names, each cluster named after its majority actor, and `unknown` on the clusters whose majority is not in
   the cast (unless `--no-unknown`), are written as `clusters.csv` -- the labels a person gives by naming clusters -- and `compare-models --faces` trains from them alone, and from the full per-second
   truth (`video,start,end,label` intervals); `score --faces` scores the held-out videos with each model, and
   `_face_metrics.evaluate` gives the worst per-actor screen-time error (% of the held-out duration) of both.

Issue 25 asks for purity >= 95%, names <= 2 x actors, and the names' model within 1 point of the truth's.
`--names cover` (the default) names the fewest clusters that cover 90% of the cast's faces; `--names budget` goes on
down the clusters, largest first, while fewer than 2 x actors names are typed (the issue's budget: a person naming
every actor's cluster they see in clusters.csv, up to it).

    .venv/bin/python bench/cluster_footage.py --work-dir /tmp/fa                 # 3 seeds, 4 + 4 videos of 60 s
    .venv/bin/python bench/cluster_footage.py --work-dir /tmp/fa --names budget  # names down to 2 x actors
    .venv/bin/python bench/cluster_footage.py --quick                            # 2 + 2 videos of 30 s, seed 0
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
sys.path.insert(0, str(REPO / "bench"))

NONE_LABEL = "neither"


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def run_seed(seed: int, work: Path, args) -> dict:
    import screentime
    from _face_metrics import cluster_figures, evaluate, from_screen_time, true_people
    from faces_accuracy import footage

    from cartoons.actors import write_interval_labels
    from cartoons.cast import CAST
    from classifiers.cluster import cluster_store
    from featurestore import EmbeddingConfig, FeatureStore, embed_videos, resolve_face_config

    train, test = footage(work, seed, args)
    folder = work / f"seed{seed}"
    store = folder / f"faces-{args.image_size}px.h5"
    t0 = time.perf_counter()
    embed_videos([v.path for v in train + test], store, config=EmbeddingConfig(weights="random", image_size_px=args.image_size),
                 sample_fps=1.0, faces=resolve_face_config(store))  # a cached store: the settings it was made with
    log(f"seed {seed}: embedded with faces ({time.perf_counter() - t0:.0f} s)")
    def clustered(threshold, min_quality):
        """cluster --faces on the training videos: its figures and the names a person types."""
        t0 = time.perf_counter()
        run = cluster_store(store, folder / "clusters.csv", faces=True, videos=[v.video_id for v in train],
                            thumbnails=False, threshold=threshold, min_quality=min_quality)
        cluster_s = time.perf_counter() - t0
        fs, by_id = FeatureStore(store), {v.video_id: v for v in train}
        cluster_of_unit, units = run.clustering.cluster_of(), run.clustering.units
        ids, people = [], []
        for u in range(len(units)):
            table, rows = fs.faces(units.video[u]), units.rows[u]
            ids += [cluster_of_unit[u]] * len(rows)
            people += true_people(by_id[units.video[u]], table.time_s[rows], table.box_px()[rows]).tolist()
        ids, people = np.array(ids, dtype=object), np.array(people, dtype=object)
        names = _names(ids, people, CAST, budget=2 * len(CAST) if args.names == "budget" else 0)
        if not args.no_unknown:  # the clusters of people not in the cast, named so
            names.update({c: "unknown" for c in sorted(set(ids.tolist()) - {"blurred"} - set(names))
                          if _majority(people[ids == c]) not in CAST})
        return names, {"seed": seed, "cluster_s": round(cluster_s, 2), "threshold": run.clustering.threshold,
                       "min_quality": min_quality, "clusters": sum(not c.is_blurred for c in run.clustering.clusters),
                       **cluster_figures(ids, people, cast=CAST, apart=("blurred",)),
                       "names_typed": sum(n != "unknown" for n in names.values()),
                       "clusters_named_unknown": sum(n == "unknown" for n in names.values()),
                       "cast_faces_named": round(_named_share(ids, people, names, CAST), 4)}

    for threshold in args.sweep_thresholds:
        for q in args.sweep_qualities:
            print(json.dumps({"sweep": clustered(threshold, q)[1]}), flush=True)
    names, out = clustered(args.threshold, args.min_quality)
    (folder / "clusters.csv").write_text("cluster,name\n" + "".join(f"{c},{n}\n" for c, n in names.items()))
    truth_labels = write_interval_labels(folder / "labels.csv", train, none_label=NONE_LABEL)
    for what, labels in (("from_names", folder / "clusters.csv"), ("from_truth", truth_labels)):
        model = folder / f"{what}.skops"
        screentime.compare_models(store, labels, out=model, models=args.models, folds=min(args.folds, len(train)),
                                  multi_label=True, none_label=NONE_LABEL, n_jobs=args.jobs, faces=True)
        scored = screentime.score([v.path for v in test], model=model, store=store, faces=True)
        ev = evaluate([from_screen_time(v) for v in scored.videos], test)
        out[what] = {"worst_error_pct": ev["worst_error_pct"], "worst_accuracy": ev["worst_accuracy"],
                     "error_pct": {a: round(e, 2) for a, e in ev["error_pct"].items()},
                     "extras_as_cast_pct": ev["extras_as_cast_pct"]}
    out["gap_points"] = out["from_names"]["worst_error_pct"] - out["from_truth"]["worst_error_pct"]
    log(f"seed {seed}: purity {out['purity']:.3f}, {out['names_to_cover']} names (limit {out['names_limit']}), "
        f"worst error from names {out['from_names']['worst_error_pct']:.1f}% vs truth "
        f"{out['from_truth']['worst_error_pct']:.1f}%")
    return out


def _names(ids: np.ndarray, people: np.ndarray, cast, budget: int = 0) -> dict:
    """What a person types: each cluster whose majority is an actor, largest first by that actor's faces, named
    after them, until the named clusters hold 90% of the cast's faces -- or, with a `budget`, on past 90% while
    fewer than `budget` names are typed (a person naming down clusters.csv as far as the issue's 2 x actors)."""
    n_cast = int(np.isin(people, list(cast)).sum())
    gains = []
    for c in sorted(set(ids.tolist()) - {"blurred"}):
        members = people[ids == c]
        values, counts = np.unique(members, return_counts=True)
        top = int(np.argmax(counts))
        if values[top] in cast:
            gains.append((int(counts[top]), c, str(values[top])))
    names, covered = {}, 0
    for gain, c, who in sorted(gains, key=lambda g: (-g[0], g[1])):
        if covered >= 0.9 * n_cast and len(names) >= budget:
            break
        names[c] = who
        covered += gain
    return names


def _majority(values: np.ndarray) -> str:
    names, counts = np.unique(values.astype(str), return_counts=True)
    return str(names[np.argmax(counts)])


def _named_share(ids: np.ndarray, people: np.ndarray, names: dict, cast) -> float:
    """The share of the cast's faces that the typed names label right."""
    n_cast = int(np.isin(people, list(cast)).sum())
    right = sum(int(np.sum((ids == c) & (people == who))) for c, who in names.items() if who in cast)
    return right / max(n_cast, 1)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--n-train", type=int, default=4)
    p.add_argument("--n-test", type=int, default=4)
    p.add_argument("--duration-s", type=float, default=60.0)
    p.add_argument("--image-size", type=int, default=32, help="VGG16 input size of the frame features (unused by faces)")
    p.add_argument("--threshold", type=float, default=None, help="cluster's --threshold [default: its own]")
    p.add_argument("--min-quality", type=float, default=0.3, help="cluster's --face-min-quality")
    p.add_argument("--sweep-thresholds", default="", help="also print the cluster figures (no models) at these thresholds")
    p.add_argument("--sweep-qualities", default="0.3", help="... and these --face-min-quality values")
    p.add_argument("--no-unknown", action="store_true", help="leave the clusters of extras empty instead of naming them unknown")
    p.add_argument("--names", default="cover", choices=("cover", "budget"),
                   help="cover: the fewest names covering 90%% of the cast's faces; budget: on down the clusters up to "
                        "2 x actors names")
    p.add_argument("--models", default="logreg")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--work-dir", type=Path)
    p.add_argument("--quick", action="store_true", help="2 + 2 videos of 30 s, seed 0")
    args = p.parse_args(argv)
    if args.quick:
        args.n_train, args.n_test, args.duration_s, args.seeds = 2, 2, 30.0, "0"
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    args.sweep_thresholds = [float(x) for x in args.sweep_thresholds.split(",") if x.strip()]
    args.sweep_qualities = [float(x) for x in args.sweep_qualities.split(",") if x.strip()]
    with tempfile.TemporaryDirectory(prefix="screentime-cluster-") as tmp:
        work = args.work_dir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        rows = [run_seed(int(s), work, args) for s in args.seeds.split(",") if s.strip()]
    report = {"bench": "cluster_footage", "n_train": args.n_train, "n_test": args.n_test, "duration_s": args.duration_s,
              "runs": rows}
    print(json.dumps(report, default=float))
    return report


if __name__ == "__main__":
    main()
