"""What the accuracy benches share (accuracy.py, active.py, multilabel.py, decode_modes.py): the generated dataset
and its cache under --work-dir, embedding it once, the common options, and the evaluation against the truth; and the
CPU clock of the speed benches (embed.py, scale.py)."""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cartoons.synthetic import (CLASSES, HELD_OUT_STYLES, SHARED_CLASSES, Shot, SyntheticVideo, make_dataset,  # noqa: E402
                                make_video, true_screen_time)
from featurestore import EmbeddingConfig, FeatureStore, embed_videos  # noqa: E402


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def shots_at(video: SyntheticVideo, times_s: np.ndarray) -> list[Shot]:
    """The shot covering each time (seconds)."""
    ends = np.array([s.end_s for s in video.shots])
    idx = np.minimum(np.searchsorted(ends, np.asarray(times_s) + 1e-9, side="right"), len(ends) - 1)
    return [video.shots[i] for i in idx]


def label_at(video: SyntheticVideo, times_s: np.ndarray) -> np.ndarray:
    """True label at each time (seconds): the shot covering it."""
    return np.array([shot.label for shot in shots_at(video, times_s)])


def dataset(work: Path, args, *, shared: bool = False) -> tuple[list[SyntheticVideo], list[SyntheticVideo]]:
    """Generate the videos (with `shared`: scenes with both characters), or reuse those a previous run with the
    same parameters left in `work`."""
    prefix, folder = ("shared-", work / "videos-shared") if shared else ("", work / "videos")
    manifest = work / f"{prefix}dataset-{args.held_out_motion}.json"
    params = {"n_train": args.n_train, "n_test": args.n_test, "duration_s": args.duration_s, "seed": args.seed,
              "held_out_motion": args.held_out_motion}
    if manifest.exists():
        doc = json.loads(manifest.read_text())
        videos = [SyntheticVideo(Path(v["path"]), v["duration_s"], [Shot(*s) for s in v["shots"]], v["style"], v["motion"], v["fps"])
                  for v in doc["videos"]]
        if doc["params"] == params and all(v.path.exists() for v in videos):
            return videos[: args.n_train], videos[args.n_train:]
    classes = SHARED_CLASSES if shared else CLASSES
    train, test = make_dataset(folder, n_train=args.n_train, n_test=args.n_test if args.held_out_motion == "held_out" else 0,
                               duration_s=args.duration_s, seed=args.seed, shared=shared)
    if args.held_out_motion == "train":  # unseen rooms, but characters move and are framed as in training
        test = [make_video(folder / f"test_trainmotion_{k}.mp4", duration_s=args.duration_s, seed=args.seed * 1000 + 500 + k,
                           style=HELD_OUT_STYLES[k % len(HELD_OUT_STYLES)].name, motion="train", classes=classes)
                for k in range(args.n_test)]
    manifest.write_text(json.dumps({"params": params, "videos": [
        {"path": str(v.path), "duration_s": v.duration_s, "shots": [[s.start_s, s.end_s, s.label, s.lead] for s in v.shots],
         "style": v.style, "motion": v.motion, "fps": v.fps} for v in train + test]}))
    return train, test


def embedding_config(args) -> EmbeddingConfig:
    """The benches' embedding: --weights, avg pooling, 224 px, --precision (and bench/backbones.py's backbone)."""
    return EmbeddingConfig(weights=args.weights, pooling="avg", precision=getattr(args, "precision", "float32"),
                           backbone=getattr(args, "backbone", "vgg16"))


def store_tag(config: EmbeddingConfig) -> str:
    """'random', 'sha256', 'random-int8', 'squeezenet-imagenet': what a bench's store file names, so that configs
    never share a store."""
    tag = config.identity()["weights"].split(":")[0] + ("" if config.precision == "float32" else f"-{config.precision}")
    return tag if config.backbone == "vgg16" else f"{config.backbone}-{tag}"


def embed(work: Path, train, test, args) -> dict[str, Path]:
    """Stores keyed "dense" (training at --dense-fps) and "1" (training at 1/s); held-out videos at 1/s in both."""
    config = embedding_config(args)
    tag = store_tag(config)
    dense, one = work / f"features-{tag}-train{args.dense_fps:g}fps.h5", work / f"features-{tag}-train1fps.h5"
    t0 = time.perf_counter()
    embed_videos([v.path for v in train], dense, config=config, sample_fps=args.dense_fps)
    embed_videos([v.path for v in test], dense, config=config, sample_fps=1.0)
    log(f"features ready in {dense.name} ({time.perf_counter() - t0:.0f} s; embedding is skipped when stored)")
    source = FeatureStore(dense)
    target = FeatureStore(one, mode="a", config=source.config)
    for v in train + test:  # every dense grid holds the 1/s grid: same frames, same features
        if v.path.name in target:
            continue
        stored = source.read(v.path.name)
        keep = np.abs(stored.requested_s - np.round(stored.requested_s)) < 1e-6
        target.put(v.path.name, requested_s=stored.requested_s[keep], actual_s=stored.actual_s[keep],
                   features=stored.features[keep], info={**stored.info, "sample_fps": 1.0})
    return {"dense": with_features(dense, train + test, args), "1": with_features(one, train + test, args)}


#: ../shared/tools/imagenet_features.py beside the checkout (or beside the folder of worktrees it is one of)
STAND_IN = next((p for p in (REPO.parent / "shared" / "tools" / "imagenet_features.py",
                             REPO.parent.parent / "shared" / "tools" / "imagenet_features.py") if p.exists()),
                REPO.parent / "shared" / "tools" / "imagenet_features.py")


def with_features(store: Path, videos, args) -> Path:
    """`store` itself (--features vgg16), or its copy with the ImageNet-pretrained stand-in's features at the same
    sample times (--features imagenet: ../shared/tools/imagenet_features.py, SqueezeNet v1.1 fire9 avg), made once."""
    if getattr(args, "features", "vgg16") == "vgg16":
        return store
    target = store.with_name(store.stem + "-imagenet.h5")
    folders = {v.path.parent for v in videos}
    if len(folders) != 1:
        raise SystemExit(f"the stand-in reads videos from one folder, these are in {sorted(map(str, folders))}")
    if not target.exists() or set(FeatureStore(target).video_ids()) != set(FeatureStore(store).video_ids()):
        import shutil
        import subprocess

        for stale in (target, target.with_name(target.name + ".d")):
            shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink(missing_ok=True)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, str(STAND_IN), "store", str(store), str(target), str(folders.pop())], cwd=REPO,
                       check=True, stdout=subprocess.DEVNULL)
        log(f"stand-in features in {target.name} ({time.perf_counter() - t0:.0f} s)")
    return target


def run_tag(args) -> str:
    """What distinguishes one bench run's models from another's in the same --work-dir: features and precision."""
    return "-".join(x for x in (getattr(args, "features", "vgg16"), getattr(args, "backbone", "vgg16"),
                                getattr(args, "precision", "float32")) if x not in ("vgg16", "float32")) or "vgg16"


def evaluate(scored, test) -> dict:
    """Worst per-class error (% of duration), per-second accuracy, interval coverage and width, per-video details."""
    classes = scored.classes
    total_s = sum(v.duration_s for v in test)
    err_s = {c: 0.0 for c in classes}
    hits = n = 0
    inside, widths, videos = [], [], []
    for video, truth_video in zip(scored.videos, test):
        truth = true_screen_time(truth_video)
        for c in classes:
            err_s[c] += abs(video.screen_time_s[c] - truth.get(c, 0.0))
            if video.screen_time_interval_s is not None:
                lo, hi = video.screen_time_interval_s[c]
                inside.append(lo - 1e-6 <= truth.get(c, 0.0) <= hi + 1e-6)
                widths.append(hi - lo)
        hits += int(np.sum(np.asarray(video.labels).astype(str) == label_at(truth_video, video.sample_s)))
        n += len(video.labels)
        videos.append({"video": video.video_id, "style": truth_video.style, "duration_s": video.duration_s,
                       "true_s": {c: truth.get(c, 0.0) for c in classes}, "predicted_s": dict(video.screen_time_s),
                       "interval_s": video.screen_time_interval_s})
    error_pct = {c: 100.0 * e / total_s for c, e in err_s.items()}
    return {
        "worst_error_pct": max(error_pct.values()), "error_pct_of_duration": error_pct,
        "per_second_accuracy": hits / max(n, 1),
        "coverage": float(np.mean(inside)) if inside else None, "n_intervals": len(inside),
        "mean_width_s": float(np.mean(widths)) if widths else None, "videos": videos,
    }


def add_common_args(p: argparse.ArgumentParser, *, models: str = "logreg,mlp,gboost,lightgbm",
                    quick_help: str = "3 x 40 s training, 3 x 40 s held out") -> None:
    """The dataset, training and run options every accuracy bench (accuracy.py, active.py, multilabel.py) takes."""
    p.add_argument("--weights", default="random", help="'random' (seeded, default), 'imagenet' or a Keras weights file")
    p.add_argument("--precision", default="float32", choices=("float32", "bfloat16", "int8"),
                   help="embed --precision of every video (int8: OpenVINO; its stores are kept apart)")
    p.add_argument("--features", default="vgg16", choices=("vgg16", "imagenet"),
                   help="vgg16: the store's VGG16 features (--weights); imagenet: an ImageNet-pretrained stand-in's at the "
                        "same sample times (SqueezeNet v1.1, ../shared/tools/imagenet_features.py)")
    p.add_argument("--n-train", type=int, default=4)
    p.add_argument("--n-test", type=int, default=6)
    p.add_argument("--duration-s", type=float, default=90.0)
    p.add_argument("--folds", type=int, default=5, help="compare-models --folds (5, its default)")
    p.add_argument("--models", default=models, help=f"compare-models --models (default: {models})")
    p.add_argument("--jobs", type=int, default=-1)
    p.add_argument("--seed", type=int, default=0, help="seed of the generated dataset")
    p.add_argument("--work-dir", type=Path, help="keep videos, stores and models here and reuse them (default: a temporary dir)")
    p.add_argument("--held-out-motion", choices=("held_out", "train"), default="held_out",
                   help="held_out (default): held-out videos also move and frame the characters unlike training; "
                        "train: only their rooms are new")
    p.add_argument("--quick", action="store_true", help=quick_help)


def finish_common_args(args) -> None:
    """Apply --quick and split --models (after `add_common_args`)."""
    if args.quick:
        args.n_train, args.n_test, args.duration_s = 3, 3, 40.0
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]


def notice_weights(args) -> None:
    if args.weights == "random":
        print("notice: ImageNet weights cannot be downloaded here; VGG16 runs with seeded random weights "
              "(--weights FILE for a Keras weights file)", file=sys.stderr)


def cpu_s() -> float:
    """CPU seconds (user + system) of this process and its finished children: what the speed benches count."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def machine() -> dict:
    return {"python": platform.python_version(), "platform": platform.platform(), "processor": platform.processor()}
