"""Benchmark `unlike`: does `score` flag footage of another kind, and leave held-out footage of the trained kind alone?

Three kinds of footage, made here (issue 26): generated cartoons (`cartoons.synthetic`: training rooms, and
held-out rooms, motion and framing the training never showed), live-action-like clips composed from real face
photos (`cartoons.photo_clips`: a held-out clip shows photos no training clip did), and synthetic test footage
(ffmpeg's ``testsrc2`` and grey noise). Per seed, models are trained by `compare_models` (``--models``) on the
cartoons and on the photo clips, with each ``--feature-norms`` setting (``center``: every video centred, the case
that hid live action from the check before issue 26; ``auto``: as cross-validation chooses); each scores every
video it was not trained on through `score_videos`, and the bench reports per video the distance to the
training samples after the per-video stages (the check before issue 26) and as embedded (issue 26), each
against its threshold, and the flag.

    .venv/bin/python bench/unlike.py --seeds 0,1,2               # VGG16 with seeded random weights, 224 px
    .venv/bin/python bench/unlike.py --seeds 0 --features imagenet   # the ImageNet-pretrained stand-in's features
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from _common import log, machine, with_features  # noqa: E402
from cartoons.photo_clips import PEOPLE, photo_clip, photos_of, write_clip_labels  # noqa: E402
from cartoons.synthetic import HELD_OUT_STYLES, make_video, write_interval_labels  # noqa: E402
from classifiers.compare import compare_models  # noqa: E402
from classifiers.score import score_videos  # noqa: E402
from featurestore import EmbeddingConfig, embed_videos  # noqa: E402
from featurestore.provenance import library_versions  # noqa: E402


def make_footage(folder: Path, seed: int, duration_s: float, n_train: int) -> dict[str, list]:
    """The videos of one seed in `folder` (made once): kind -> list of (video, truth object or None)."""
    folder.mkdir(parents=True, exist_ok=True)
    train_photos = {p: photos_of(p)[:-1] for p in PEOPLE}
    held_photos = {p: photos_of(p)[-1:] for p in PEOPLE}
    out: dict[str, list] = {"cartoon": [], "cartoon held out": [], "photo": [], "photo held out": [], "test pattern": []}
    for k in range(n_train):
        out["cartoon"].append(make_video(folder / f"cartoon_{k}.mp4", duration_s=duration_s, seed=seed * 100 + k))
        out["photo"].append(photo_clip(folder / f"photo_{k}.mp4", duration_s=duration_s, seed=seed * 100 + k,
                                       people=train_photos))
    out["cartoon held out"].append(make_video(folder / "cartoon_held_out.mp4", duration_s=duration_s, seed=seed * 100 + 50,
                                              style=HELD_OUT_STYLES[seed % len(HELD_OUT_STYLES)].name, motion="held_out"))
    out["photo held out"].append(photo_clip(folder / "photo_held_out.mp4", duration_s=duration_s, seed=seed * 100 + 50,
                                            people=held_photos))
    for name, source in (("testsrc2", f"testsrc2=size=320x240:rate=10:duration={duration_s:g}"),
                         ("noise", f"color=c=gray:size=320x240:rate=10:duration={duration_s:g},noise=alls=60:allf=t+u")):
        path = folder / f"{name}.mp4"
        if not path.exists():
            subprocess.run([shutil.which("ffmpeg") or "ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", source,
                            "-pix_fmt", "yuv420p", "-vcodec", "mpeg4", "-q:v", "3", str(path)], check=True)
        out["test pattern"].append(type("Clip", (), {"path": path})())
    return out


def run_seed(work: Path, seed: int, args) -> list[dict]:
    folder = work / f"videos-s{seed}"
    footage = make_footage(folder, seed, args.duration_s, args.n_train)
    every = [v.path for kind in footage.values() for v in kind]
    store = work / f"features-s{seed}.h5"
    t0 = time.perf_counter()
    embed_videos(every, store, config=EmbeddingConfig(weights="random", pooling="avg", image_size_px=args.image_size_px))
    store = with_features(store, [type("V", (), {"path": p})() for p in every], args)
    log(f"seed {seed}: {len(every)} videos embedded ({time.perf_counter() - t0:.0f} s)")
    labels = {"cartoon": write_interval_labels(work / f"cartoon-labels-s{seed}.csv", footage["cartoon"]),
              "photo": write_clip_labels(work / f"photo-labels-s{seed}.csv", footage["photo"])}
    rows = []
    for (trained, labels_path), norm in ((t, n) for t in labels.items() for n in args.feature_norms):
        model_path = work / f"model-{trained}-s{seed}-{args.features}-{norm}.skops"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            comparison = compare_models(store, labels_path, out_path=model_path, models=args.models, n_jobs=args.jobs,
                                        feature_norm=norm)
            others = [v.path for kind, vs in footage.items() if kind != trained for v in vs]
            scored = score_videos(others, model_path=model_path, store_path=store)
        ref = comparison.familiarity
        kinds = {v.path.name: kind for kind, vs in footage.items() for v in vs}
        for video in scored.videos:
            kind = kinds[video.video_id]
            own = kind.startswith(trained)
            rows.append({
                "seed": seed, "trained_on": trained, "feature_norm": norm,
                "stages": f"{comparison.feature_norm}, {comparison.context_s:g} s",
                "video": video.video_id, "kind": kind, "should_flag": not own,
                "staged_distance": video.training_distance, "staged_threshold": ref.threshold,
                "staged_flag": bool(ref.threshold is not None and video.training_distance > ref.threshold),
                "raw_distance": video.raw_training_distance, "raw_threshold": None if ref.raw is None else ref.raw.threshold,
                "flagged": bool(video.unlike_training),
            })
    return rows


def print_table(rows: list[dict]) -> None:
    head = (f"{'seed':>4} {'trained on':10} {'stages':12} {'video':22} {'kind':17} {'staged d/thr':>14} {'raw d/thr':>14} "
            f"{'flag':>5} {'want':>5}")
    print(head)
    print("-" * len(head))
    for r in rows:
        raw = "-" if r["raw_distance"] is None else f"{r['raw_distance']:.2f}/{r['raw_threshold']:.2f}"
        print(f"{r['seed']:4d} {r['trained_on']:10} {r['stages']:12} {r['video']:22} {r['kind']:17} "
              f"{r['staged_distance']:.2f}/{r['staged_threshold']:.2f}".ljust(86) + f" {raw:>14} "
              f"{'yes' if r['flagged'] else 'no':>5} {'yes' if r['should_flag'] else 'no':>5}")
    for norm in dict.fromkeys(r["feature_norm"] for r in rows):
        other = [r for r in rows if r["should_flag"] and r["feature_norm"] == norm]
        own = [r for r in rows if not r["should_flag"] and r["feature_norm"] == norm]
        print(f"\n--feature-norm {norm}: other kinds flagged: {sum(r['flagged'] for r in other)} of {len(other)} "
              f"(staged distance alone, the check before issue 26: {sum(r['staged_flag'] for r in other)}); held-out "
              f"footage of the trained kind flagged: {sum(r['flagged'] for r in own)} of {len(own)}")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", default="0,1,2", help="comma-separated seeds of the footage")
    p.add_argument("--features", default="vgg16", choices=("vgg16", "imagenet"),
                   help="vgg16 (seeded random weights) or the ImageNet-pretrained stand-in (../shared/tools)")
    p.add_argument("--n-train", type=int, default=3, help="training videos of each kind")
    p.add_argument("--duration-s", type=float, default=30.0)
    p.add_argument("--image-size-px", type=int, default=224)
    p.add_argument("--models", default="logreg", help="compare-models --models (the check does not depend on it)")
    p.add_argument("--feature-norms", default="center,auto", help="compare-models --feature-norm of each model trained")
    p.add_argument("--jobs", type=int, default=-1)
    p.add_argument("--work-dir", type=Path, help="keep videos, stores and models here and reuse them")
    args = p.parse_args(argv)
    args.seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    args.feature_norms = [m.strip() for m in args.feature_norms.split(",") if m.strip()]
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="screentime-unlike-") as tmp:
        work = args.work_dir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        rows = [r for seed in args.seeds for r in run_seed(work, seed, args)]
    print_table(rows)
    report = {"bench": "unlike", "features": args.features, "seeds": args.seeds, "n_train": args.n_train,
              "feature_norms": args.feature_norms,
              "duration_s": args.duration_s, "image_size_px": args.image_size_px, "models": args.models,
              "wall_s": time.perf_counter() - start, "machine": machine(),
              "versions": library_versions(("numpy", "scikit-learn", "tensorflow")), "rows": rows}
    print(json.dumps(report, default=float))
    return report


if __name__ == "__main__":
    main()
