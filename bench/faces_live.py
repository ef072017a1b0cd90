"""Benchmark `faces_live`: the face pipeline on live-action-like scenes (bench/_live_scenes.py), against the truth per
frame -- each actor's seconds, unknown people's, together-time, faces named wrong, boxes outside the frame, clusters.

A face model is trained once on `cartoons.actors` footage (4 labelled videos of 60 s, photos of the 'train' split),
then the scenes (photos of the 'test' split) are scored and clustered, all through the command line as a user runs it:

    python cli.py embed TRAIN --store train.h5 --faces --weights random --image-size 32
    python cli.py compare-models --faces --multi-label -l labels.csv --store train.h5 --out model.skops -m logreg
    python cli.py score --faces SCENES -m model.skops --store scenes.h5 --fps RATE --json score.json
    python cli.py cluster --faces --store scenes.h5 -o clusters.csv

Truth per sample is the frame on screen at the sample's grid time (1 / RATE s each, as score counts); a face is named
wrong when its box centre lies inside the box of another person in the truth. Everything is written under
`--work-dir` and reused when there (delete a file to redo its step).

    .venv/bin/python bench/faces_live.py --work-dir /tmp/live                  # every scene at 1 sample/s
    .venv/bin/python bench/faces_live.py --work-dir /tmp/live --fps 5 --scenes cross,occlude,cuts,mirror
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from _live_scenes import SCENES, render  # noqa: E402

NONE_LABEL = "neither"


def cli(*args: str) -> None:
    subprocess.run([sys.executable, str(REPO / "cli.py"), *args], check=True, stdout=subprocess.DEVNULL)


def train_model(work: Path, seed: int) -> Path:
    """A logreg face model from 4 labelled `cartoons.actors` videos (cached in `work`)."""
    from cartoons.actors import make_actor_dataset, write_interval_labels

    model = work / "model.skops"
    if model.exists():
        return model
    train, _ = make_actor_dataset(work / "train", n_train=4, n_test=0, duration_s=60.0, seed=seed)
    labels = write_interval_labels(work / "labels.csv", train, none_label=NONE_LABEL)
    cli("embed", str(work / "train"), "--store", str(work / "train.h5"), "--faces", "--weights", "random",
        "--image-size", "32")
    cli("compare-models", "--faces", "--multi-label", "-l", str(labels), "--store", str(work / "train.h5"),
        "--out", str(model), "-m", "logreg")
    return model


def truth_at(truth: dict, time_s: float) -> list:
    frames = truth["frames"]
    return frames[min(len(frames) - 1, int(np.floor(time_s * truth["fps"] + 1e-6)))]


def person_at(people: list, box_px: tuple) -> str | None:
    """The truth person whose box holds the centre of `box_px` (x, y, w, h), if any; of several, the front-most (the
    truth lists faces in the order they were drawn)."""
    x, y, w, h = box_px
    cx, cy = x + w / 2, y + h / 2
    hits = [p for p, (bx, by, bw, bh) in people if abs(bx + bw / 2 - cx) < bw / 2 and abs(by + bh / 2 - cy) < bh / 2]
    return hits[-1] if hits else None


def evaluate(video: dict, truth: dict) -> dict:
    """Per actor truth / seen / tracked seconds and per-second accuracy; unknown and together seconds; faces named
    wrong; face boxes outside [0, 1]."""
    W, H = truth["size"]
    actors = [a for a in video["screen_time_s"]]
    dt = 1.0 / video["sample_fps"]
    true_s, right = collections.Counter(), collections.Counter()
    unknown_s = together_s = 0.0
    wrong, outside = [], 0
    for s in video["samples"]:
        people = truth_at(truth, s["time"])
        on = {p for p, _ in people if not p.startswith("extra:")}
        said = set(s["labels"])
        for a in actors:
            true_s[a] += dt * (a in on)
            right[a] += (a in on) == (a in said)
        unknown_s += dt * any(p.startswith("extra:") for p, _ in people)
        together_s += dt * (len(on) >= 2)
        for f in s.get("faces", []):
            x, y, w, h = f["box"]
            outside += x < -1e-6 or y < -1e-6 or x + w > 1 + 1e-6 or y + h > 1 + 1e-6
            who = person_at(people, (x * W, y * H, w * W, h * H))
            if who is not None and f["label"] != "unknown" and f["label"] != who:
                wrong.append((s["time"], who, f["label"]))
    n = len(video["samples"])
    return {"actors": {a: {"truth_s": round(true_s[a], 2), "seen_s": video["screen_time_s"][a],
                           "tracked_s": video.get("tracked_s", {}).get(a), "accuracy": round(right[a] / n, 3)}
                       for a in actors if true_s[a] or video["screen_time_s"][a]},
            "unknown_s": [round(unknown_s, 2), video.get("unknown_s")],
            "together_s": [round(together_s, 2), video.get("together_s")],
            "named_wrong": wrong, "boxes_outside": outside, "n_faces": video.get("n_faces")}


def cluster_purity(members_csv: Path, truths: dict) -> dict:
    """cluster -> {truth person: faces} from cluster --faces' members CSV (every video of the store: `truths` by
    name)."""
    out: dict = collections.defaultdict(collections.Counter)
    with members_csv.open(newline="") as fh:
        for r in csv.DictReader(fh):
            truth = truths[Path(r["video"]).stem]
            who = person_at(truth_at(truth, float(r["time_s"])), tuple(float(r[k]) for k in "xywh"))
            out[r["cluster"]][who or "?"] += 1
    return {c: dict(v) for c, v in out.items()}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work-dir", type=Path, required=True)
    ap.add_argument("--scenes", default=",".join(SCENES), help="comma-separated: " + ", ".join(SCENES))
    ap.add_argument("--fps", type=float, default=1.0, help="samples per second for score --faces")
    ap.add_argument("--seed", type=int, default=5, help="the training footage's seed")
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args(argv)
    work = args.work_dir
    work.mkdir(parents=True, exist_ok=True)
    model = train_model(work, args.seed)
    names = [n for n in args.scenes.split(",") if n]
    paths = [p if p.exists() else render(n, work / "scenes") for n in names
             for p in [work / "scenes" / f"{n}.mp4"]]
    truths = {n: json.loads((work / "scenes" / f"{n}.truth.json").read_text()) for n in names}
    tag = f"{'-'.join(names) if len(names) < 4 else len(names)}-{args.fps:g}"
    store, score_json = work / f"scenes-{args.fps:g}.h5", work / f"score-{tag}.json"
    cli("score", "--faces", *map(str, paths), "-m", str(model), "--store", str(store), "--fps", f"{args.fps:g}",
        "--json", str(score_json), "--report", str(work / f"report-{tag}.html"))
    cli("cluster", "--faces", "--store", str(store), "-o", str(work / f"clusters-{tag}.csv"))
    doc = json.loads(score_json.read_text())
    every = {p.name[:-len(".truth.json")]: json.loads(p.read_text()) for p in (work / "scenes").glob("*.truth.json")}
    result = {"fps": args.fps, "scenes": {}, "clusters": cluster_purity(work / f"clusters-{tag}.members.csv", every)}
    print("| scene | actor | truth s | seen s | tracked s | per-second accuracy |")
    print("|---|---|---|---|---|---|")
    for v in doc["videos"]:
        name = Path(v["video"]).stem
        if name not in truths:
            continue
        r = result["scenes"][name] = evaluate(v, truths[name])
        for a, m in r["actors"].items():
            print(f"| {name} | {a} | {m['truth_s']:g} | {m['seen_s']:g} | {m['tracked_s']:g} | {m['accuracy']:.2f} |")
        print(f"| {name} | unknown people / together | {r['unknown_s'][0]:g} / {r['together_s'][0]:g} | "
              f"{r['unknown_s'][1]:g} / {r['together_s'][1]:g} | | {len(r['named_wrong'])} faces named wrong, "
              f"{r['boxes_outside']} boxes outside the frame |")
    mixed = {c: v for c, v in result["clusters"].items() if len(v) > 1}
    print(f"clusters: {len(result['clusters'])}, mixing people: {mixed or 'none'}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
