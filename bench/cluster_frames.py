"""cluster without --faces (shots by their frame features, issue 25): its distance threshold measured on the
cartoon accuracy videos.

The videos are `_common.dataset`'s (--n-train + --n-test generated cartoons, every one clustered), embedded at 1
sample a second; with ``--features imagenet`` (the default here) their features are the ImageNet-pretrained
stand-in's (`_common.with_features`), since random VGG16 features say little about what a frame shows. For each
--thresholds value, `cluster` runs in-process (no thumbnails) and its members file is scored against the truth,
sample by sample (`_common.label_at`). The cuts: ``--cuts detected`` as the command finds them (PySceneDetect on the
source videos: on these cartoons, whose shots change who is in the room, not the room, it finds none, and each video
is one shot, which `cluster` then splits where what is on screen changes), ``--cuts truth`` the generated shots' starts (a perfect cut detector: what the threshold is measured on).

- **purity**: the share of samples in a cluster whose true label is the cluster's majority one;
- **names for 90%**: clusters named largest first (by samples) until 90% of the samples are covered: the names a
  person types;
- **named right**: the share of samples whose cluster, named by its majority label, names them right when every
  cluster is named (= purity), and the same when only the clusters of the 90% are named.

usage: python bench/cluster_frames.py --seed 0 --work-dir /tmp/cf-s0 [--thresholds 0.1,0.15,0.25] [--out r.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections import Counter
from pathlib import Path

import numpy as np

from _common import dataset, embedding_config, label_at, log, store_tag, with_features

from featurestore import FeatureStore, embed_videos


def stores(work: Path, videos, args) -> Path:
    """Every video at 1 sample a second in one store (made once), with --features' features."""
    store = work / f"features-{store_tag(embedding_config(args))}-train1fps.h5"
    embed_videos([v.path for v in videos], store, config=embedding_config(args), sample_fps=1.0)
    return with_features(store, videos, args)


def score(members: Path, store: FeatureStore, videos: dict) -> dict:
    """Purity, names for 90% and clusters of one members file (shots) against the truth."""
    per_cluster: dict[str, Counter] = {}
    with open(members, encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            times = np.asarray(store.read(row["video"]).requested_s, np.float64)
            inside = times[(times >= float(row["start_s"]) - 1e-6) & (times < float(row["end_s"]) - 1e-6)]
            per_cluster.setdefault(row["cluster"], Counter()).update(label_at(videos[row["video"]], inside).tolist())
    total = sum(sum(c.values()) for c in per_cluster.values())
    majority = sum(max(c.values()) for c in per_cluster.values() if c)
    covered, names = 0, 0
    for c in sorted(per_cluster.values(), key=lambda c: -sum(c.values())):
        if covered >= 0.9 * total:
            break
        covered += sum(c.values())
        names += 1
    return {"clusters": len(per_cluster), "samples": total, "purity": round(majority / total, 4),
            "names_for_90": names, "covered": round(covered / total, 4),
            "singletons": sum(sum(c.values()) == 1 for c in per_cluster.values())}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--thresholds", default="0.05,0.1,0.15,0.2,0.25,0.3,0.4")
    p.add_argument("--features", default="imagenet", choices=("vgg16", "imagenet"))
    p.add_argument("--weights", default="random")
    p.add_argument("--n-train", type=int, default=3)
    p.add_argument("--n-test", type=int, default=3)
    p.add_argument("--duration-s", type=float, default=40.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--held-out-motion", choices=("held_out", "train"), default="held_out")
    p.add_argument("--cuts", choices=("truth", "detected"), default="truth")
    p.add_argument("--work-dir", type=Path, required=True)
    p.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    args = p.parse_args()
    from classifiers.cluster import cluster_store

    args.work_dir.mkdir(parents=True, exist_ok=True)
    train, test = dataset(args.work_dir, args)
    videos = {v.path.name: v for v in train + test}
    store_path = stores(args.work_dir, train + test, args)
    store = FeatureStore(store_path)
    if args.cuts == "truth":
        import classifiers.cluster

        classifiers.cluster._cuts = lambda store, video_id, source, notes: np.array(
            [shot.start_s for shot in videos[video_id].shots[1:]], np.float64)
    rows = []
    for threshold in (float(t) for t in args.thresholds.split(",")):
        out = args.work_dir / f"scenes-{args.features}-{args.cuts}-{threshold:g}.csv"
        t0 = time.perf_counter()
        run = cluster_store(store_path, out, threshold=threshold, thumbnails=False,
                            video_dir=next(iter(videos.values())).path.parent)
        row = {"seed": args.seed, "features": args.features, "cuts": args.cuts, "threshold": threshold,
               "wall_s": round(time.perf_counter() - t0, 2), "shots": len(run.clustering.units),
               **score(out.with_name(out.stem + ".members.csv"), store, videos)}
        log(json.dumps(row))
        rows.append(row)
    print(json.dumps(rows, indent=1))
    if args.out is not None:
        args.out.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
