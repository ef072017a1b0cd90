"""Benchmark `backbones` (issue 27): per backbone x precision, in one run, inference frames/s, one embed command's
samples/s and held-out accuracy on the accuracy bench's videos.

Rows: VGG16 with seeded random weights (what runs offline without pretrained weights: the baseline), VGG16 with
ImageNet weights where Keras has them cached, and every packaged backbone that is installed; each at float32
(Keras), int8 (OpenVINO, NNCF-calibrated) and bfloat16 where this CPU computes it natively (else skipped, with
the reason). Columns:

- frames/s: the network alone on a preprocessed batch of 32 real frames (a generated cartoon, 224 px), best of
  --rounds interleaved rounds (so that load from other processes counts alike);
- embed samples/s: one `embed_videos` call -- the whole command: the network built, a 60 s 320x240 cartoon
  decoded at 2 samples/s, stored in a fresh store;
- held-out accuracy: bench/accuracy.py's "new" setting (compare-models' defaults on the training videos, then
  score on held-out videos in rooms training never showed): worst per-class screen-time error (% of the held-out
  duration) and per-second accuracy; the videos and stores are bench/_common.py's, kept in --work-dir.

Then the issue's target: the cheapest pretrained backbone (the fastest float32 embed command) embeds >= 5x
VGG16 float32's samples/s, with held-out accuracy at least VGG16-random's. Timings on a shared machine are noisy.

    .venv/bin/python bench/backbones.py --quick --work-dir /tmp/bb     # 3 x 40 s training, 3 x 40 s held out
    .venv/bin/python bench/backbones.py --work-dir /tmp/bb             # 4 x 90 s training, 6 x 90 s held out
    .venv/bin/python bench/backbones.py --quick --backbones vgg16,efficientnet-lite0 --precisions float32
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from _common import add_common_args, dataset, embed, finish_common_args, log, machine
from _videos import make_cartoon

from cartoons.synthetic import write_interval_labels
from featurestore import EmbeddingConfig, embed_videos
from featurestore.embedding.backbones import BACKBONES, installed_backbones
from featurestore.embedding.config import imagenet_weights_path
from featurestore.embedding.runtime import build_embedder
from featurestore.errors import InvalidParameter, ScreentimeError
from featurestore.provenance import library_versions

TARGET_SPEEDUP = 5.0


def combinations(args) -> list[dict]:
    """(backbone, weights, precision, runtime) rows this run measures, in order."""
    names = args.backbones or ["vgg16", *installed_backbones()]
    rows = []
    for name in names:
        weights = ["imagenet"] if name != "vgg16" else ["random", *(["imagenet"] if imagenet_weights_path() else [])]
        for w in weights:
            for precision in args.precisions:
                rows.append({"backbone": name, "weights": w, "precision": precision,
                             "runtime": "openvino" if precision == "int8" else "keras"})
    return rows


def row_name(row: dict) -> str:
    return f"{row['backbone']} {row['weights']} {row['precision']}"


def config_of(row: dict, size: int = 224) -> EmbeddingConfig:
    return EmbeddingConfig(weights=row["weights"], backbone=row["backbone"], precision=row["precision"],
                           runtime=row["runtime"], image_size_px=size)


def inference(rows: list[dict], frames, rounds: int, batch_size: int) -> None:
    """frames/s of each row's network alone, best of `rounds` interleaved rounds; rows it cannot run get 'skipped'."""
    embedders = {}
    for row in rows:
        t0 = time.perf_counter()
        try:
            build_embedder.check(config_of(row))
            embedders[row_name(row)] = build_embedder(config_of(row), batch_size=batch_size)
        except (ScreentimeError, InvalidParameter) as err:  # not native here, or not offered for the backbone
            row["skipped"] = str(err)
            continue
        row["build_s"] = time.perf_counter() - t0
    batches = {name: e.preprocess(frames[:batch_size]) for name, e in embedders.items()}
    for name, e in embedders.items():
        e.embed(batches[name])  # warm up
    best = dict.fromkeys(embedders, float("inf"))
    for _ in range(rounds):
        for name, e in embedders.items():
            t0 = time.perf_counter()
            e.embed(batches[name])
            best[name] = min(best[name], time.perf_counter() - t0)
    for row in rows:
        if row_name(row) in best:
            row["frames_per_s"] = batch_size / best[row_name(row)]


def embed_command(row: dict, clip: Path, folder: Path, batch_size: int) -> None:
    """samples/s of one embed call into a fresh store: the network built, the clip decoded at 2/s, all stored."""
    store = folder / f"command-{time.monotonic_ns()}.h5"
    t0 = time.perf_counter()
    [report] = embed_videos([clip], store, config=config_of(row), sample_fps=2.0, batch_size=batch_size)
    row["embed_wall_s"] = time.perf_counter() - t0
    row["embed_samples_per_s"] = report.n_embedded / row["embed_wall_s"]


def accuracy(row: dict, work: Path, train, test, labels: Path, args) -> None:
    """bench/accuracy.py's 'new' setting on this row's features."""
    import accuracy as accuracy_bench

    run = argparse.Namespace(**{**vars(args), "weights": row["weights"], "precision": row["precision"],
                                "backbone": row["backbone"], "features": "vgg16"})
    stores = embed(work, train, test, run)
    result = accuracy_bench.run_setting("new", stores, labels, test, work, run)
    row.update(worst_error_pct=result["worst_error_pct"], per_second_accuracy=result["per_second_accuracy"],
               model=f"{result['model']}+{result['smoothing']}")


def targets(rows: list[dict]) -> list[str]:
    base = next((r for r in rows if r["backbone"] == "vgg16" and r["precision"] == "float32"
                 and r["weights"] == "random" and "embed_samples_per_s" in r), None)
    pretrained = [r for r in rows if r["weights"] == "imagenet" and r["precision"] == "float32" and "embed_samples_per_s" in r]
    if base is None or not pretrained:
        return ["target: needs the vgg16 random float32 row and a pretrained row"]
    lines = []
    cheapest = max(pretrained, key=lambda r: r["embed_samples_per_s"])
    for r in rows:
        if "embed_samples_per_s" in r:
            r["x_vgg16_float32_embed"] = r["embed_samples_per_s"] / base["embed_samples_per_s"]
    speed_ok = cheapest["x_vgg16_float32_embed"] >= TARGET_SPEEDUP
    lines.append(f"target: cheapest pretrained ({row_name(cheapest)}) embeds {cheapest['x_vgg16_float32_embed']:.1f}x "
                 f"VGG16 float32's samples/s (>= {TARGET_SPEEDUP:g}x): {'PASS' if speed_ok else 'FAIL'}")
    if "worst_error_pct" in cheapest and "worst_error_pct" in base:
        acc_ok = (cheapest["worst_error_pct"] <= base["worst_error_pct"] + 1e-9
                  and cheapest["per_second_accuracy"] >= base["per_second_accuracy"] - 1e-9)
        lines.append(f"target: its held-out worst error {cheapest['worst_error_pct']:.1f}% and accuracy "
                     f"{cheapest['per_second_accuracy']:.3f} vs VGG16-random's {base['worst_error_pct']:.1f}% and "
                     f"{base['per_second_accuracy']:.3f}: {'PASS' if acc_ok else 'FAIL'}")
    return lines


def print_table(rows: list[dict], info: dict) -> None:
    print(f"\nbackbones: 224 px, batch {info['batch_size']}; held out: {info['n_test']} videos x {info['duration_s']:g} s "
          f"(training {info['n_train']}); models {','.join(info['models'])}; a shared machine: timings are noisy\n")
    head = (f"{'backbone weights precision':36} {'GMAC':>5} {'frames/s':>9} {'embed/s':>8} {'x vgg16':>8} "
            f"{'worst err %':>11} {'acc/s':>6}  model")
    print(head)
    print("-" * len(head))
    for r in rows:
        if "skipped" in r:
            print(f"{row_name(r):36} skipped: {r['skipped'][:90]}")
            continue

        def num(key, fmt):
            return format(r[key], fmt) if key in r else "-"

        print(f"{row_name(r):36} {BACKBONES[r['backbone']].gmac:5.2f} {num('frames_per_s', '9.1f')} "
              f"{num('embed_samples_per_s', '8.1f')} {num('x_vgg16_float32_embed', '8.1f')} "
              f"{num('worst_error_pct', '11.1f')} {num('per_second_accuracy', '6.3f')}  {r.get('model', '')}")
    print()
    for line in info["targets"]:
        print(line)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(p, quick_help="3 x 40 s training, 3 x 40 s held out")
    p.add_argument("--backbones", type=lambda s: [x for x in s.split(",") if x],
                   help=f"comma-separated subset of {','.join(BACKBONES)} (default: vgg16 and every installed one)")
    p.add_argument("--precisions", type=lambda s: [x for x in s.split(",") if x], default=["float32", "bfloat16", "int8"],
                   help="comma-separated (default: float32,bfloat16,int8; each skipped where it does not run)")
    p.add_argument("--dense-fps", type=float, default=2.0, help="denser sampling rate of the training videos")
    p.add_argument("--rounds", type=int, default=3, help="interleaved inference rounds (best of)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--no-accuracy", action="store_true", help="speed only")
    p.add_argument("--json", type=Path, help="also write the JSON here")
    args = p.parse_args(argv)
    finish_common_args(args)
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    start = time.perf_counter()
    rows = combinations(args)
    with tempfile.TemporaryDirectory(prefix="screentime-backbones-") as tmp:
        work = args.work_dir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        clip = work / "cartoon-320x240.mp4"
        if not clip.exists():
            clip = make_cartoon(work, 60.0, size=(320, 240), name="cartoon-320x240")
        from _runtimes import frames_of

        log(f"inference: {len(rows)} rows")
        inference(rows, frames_of(clip, args.batch_size), args.rounds, args.batch_size)
        for row in rows:
            if "skipped" not in row:
                log(f"embed command: {row_name(row)}")
                embed_command(row, clip, Path(tmp), args.batch_size)
        if not args.no_accuracy:
            train, test = dataset(work, args)
            labels = write_interval_labels(work / "train_labels.csv", train)
            for row in rows:
                if "skipped" not in row:
                    log(f"held-out accuracy: {row_name(row)}")
                    accuracy(row, work, train, test, labels, args)
    info = {"batch_size": args.batch_size, "n_train": args.n_train, "n_test": args.n_test, "duration_s": args.duration_s,
            "models": args.models, "targets": targets(rows)}
    print_table(rows, info)
    report = {"bench": "backbones", **info, "rows": rows, "wall_s": time.perf_counter() - start, "machine": machine(),
              "versions": library_versions(("numpy", "tensorflow", "keras", "openvino", "nncf", "scikit-learn"))}
    print(json.dumps(report, default=float))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=float))
    return report


if __name__ == "__main__":
    main()
