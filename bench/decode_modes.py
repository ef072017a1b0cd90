"""Benchmark `--decode exact` vs `--decode fast`: decode CPU and held-out screen-time accuracy.

Cartoon videos from `cartoons.synthetic` (held-out ones in rooms and motion no training video has) are drawn
at 30 fps and encoded as H.264 with x264's default B-frames -- what `fast` skips. For each mode the whole
job runs through the public API: embed (train and held-out), compare-models (logistic regression), score.
Decode CPU is one process, one decoder thread, sampling at 1/s, conversion included.

    .venv/bin/python bench/decode_modes.py            # 4 x 60 s training, 3 x 60 s held out, 224 px (~10 min)
    .venv/bin/python bench/decode_modes.py --quick    # 3 x 30 s, 2 x 30 s, 64 px (~3 min)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from _common import evaluate  # noqa: E402
from _videos import encode  # noqa: E402
from scale import row_decode_cpu  # noqa: E402

from cartoons.synthetic import make_dataset, write_interval_labels  # noqa: E402
from classifiers.compare import compare_models  # noqa: E402
from classifiers.score import score_videos  # noqa: E402
from featurestore import EmbeddingConfig, embed_videos  # noqa: E402


def to_h264(video, folder: Path):
    """The same cartoon as 30 fps H.264 with B-frames (x264 'medium'), under the same file name."""
    import av

    def frames():
        with av.open(str(video.path)) as c:
            for frame in c.decode(video=0):
                yield frame.to_ndarray(format="bgr24")

    with av.open(str(video.path)) as c:
        size = (c.streams.video[0].width, c.streams.video[0].height)
    path = encode(frames(), folder / video.path.name, 30, size, "medium")
    return dataclasses.replace(video, path=path)


def run_mode(mode: str, train, test, work: Path, config: EmbeddingConfig) -> dict:
    store = work / f"{mode}.h5"
    t0 = time.perf_counter()
    embed_videos([v.path for v in train + test], store, config=config, sample_fps=1.0, decode=mode)
    embed_s = time.perf_counter() - t0
    labels = write_interval_labels(work / "train_labels.csv", train)
    comparison = compare_models(store, labels, out_path=work / f"model-{mode}.joblib", models=["logreg"],
                                n_splits=min(4, len(train)), n_jobs=1)
    result = score_videos([v.path for v in test], model_path=work / f"model-{mode}.joblib", store_path=store)
    scores = evaluate(result, test)
    n = sum(len(v.labels) for v in result.videos)
    p = scores["per_second_accuracy"]
    cpu = [row_decode_cpu(v.path)[mode] for v in test]
    return {"embed_wall_s": embed_s, "model": comparison.best_name, "per_second_accuracy": p, "accuracy_se": float(np.sqrt(p * (1 - p) / max(n, 1))), "n_test_samples": n,
            "worst_error_pct": scores["worst_error_pct"], "error_pct_of_duration": scores["error_pct_of_duration"],
            "decode_cpu_s": sum(c["cpu_s"] for c in cpu), "frames_decoded": sum(c["frames_decoded"] for c in cpu),
            "max_off_grid_s": max(c["max_off_grid_s"] for c in cpu)}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--n-train", type=int, default=4)
    parser.add_argument("--n-test", type=int, default=3)
    parser.add_argument("--duration-s", type=float, default=60.0)
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--weights", default="random")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.quick:
        args.n_train, args.n_test, args.duration_s, args.image_size = 3, 2, 30.0, 64
    t0 = time.perf_counter()
    config = EmbeddingConfig(weights=args.weights, image_size_px=args.image_size)
    with tempfile.TemporaryDirectory(prefix="bench-decode-") as tmp:
        work = Path(tmp)
        train, test = make_dataset(work / "raw", n_train=args.n_train, n_test=args.n_test, duration_s=args.duration_s,
                                   seed=args.seed, fps=30.0)
        (work / "h264").mkdir()
        train = [to_h264(v, work / "h264") for v in train]
        test = [to_h264(v, work / "h264") for v in test]
        modes = {mode: run_mode(mode, train, test, work, config) for mode in ("exact", "fast")}
    exact, fast = modes["exact"], modes["fast"]
    diff = fast["per_second_accuracy"] - exact["per_second_accuracy"]
    noise = 2 * float(np.hypot(exact["accuracy_se"], fast["accuracy_se"]))
    result = {"benchmark": "decode_modes", "n_train": args.n_train, "n_test": args.n_test, "duration_s": args.duration_s,
              "image_size_px": args.image_size, "weights": args.weights, "modes": modes,
              "fast_over_exact_decode_cpu": fast["decode_cpu_s"] / exact["decode_cpu_s"],
              "accuracy_difference": diff, "accuracy_noise_2se": noise, "within_noise": abs(diff) <= noise,
              "bench_wall_s": round(time.perf_counter() - t0, 1)}
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"decode modes: {args.n_train} x {args.duration_s:g} s training, {args.n_test} held-out cartoons, "
                        f"30 fps H.264 with B-frames, VGG16 {args.image_size} px ({args.weights})", title_justify="left")
    for col in ("mode", "decode CPU s (held-out)", "frames decoded", "max off grid ms", "per-second accuracy",
                "worst class error % of duration", "embed wall s"):
        table.add_column(col, justify="left" if col == "mode" else "right")
    for mode, r in modes.items():
        table.add_row(mode, f"{r['decode_cpu_s']:.2f}", str(r["frames_decoded"]), f"{1000 * r['max_off_grid_s']:.0f}",
                      f"{r['per_second_accuracy']:.3f} ± {r['accuracy_se']:.3f}", f"{r['worst_error_pct']:.1f}",
                      f"{r['embed_wall_s']:.1f}")
    console = Console(width=140)
    console.print(table)
    console.print(f"fast / exact decode CPU {result['fast_over_exact_decode_cpu']:.2f}; accuracy difference {diff:+.3f} "
                  f"(2 standard errors: {noise:.3f}) -> {'within' if result['within_noise'] else 'OUTSIDE'} noise")
    print(json.dumps(result, indent=2, default=float))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=float))


if __name__ == "__main__":
    main()
