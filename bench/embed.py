"""Benchmark `embed`: end to end, decode alone, inference alone and a tutorial-style pipeline on one video.

Generates dense 720p H.264 videos with ffmpeg in a temp dir, runs each row in its own subprocess (so peak
RSS is per row), prints one table with the targets' PASS/FAIL, then JSON with units in the keys.

    .venv/bin/python bench/embed.py                 # 5-min rows + peak memory at 1 and 10 min (~12 min)
    .venv/bin/python bench/embed.py --quick         # skips the 10-minute video
    .venv/bin/python bench/embed.py --weights FILE  # a Keras VGG16 weights file instead of seeded random
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _common import cpu_s  # noqa: E402

# Dense enough that decoding costs about as much CPU as VGG16 at 1 sample/s (~20 Mbit/s, every frame new).
VIDEO_FILTER = "testsrc2=size=1280x720:rate=30,noise=alls=12:allf=t"
X264_ARGS = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p"]
BASE_CLIP_S = 20  # encoded once, then concatenated without re-encoding (x264 on 2 cores is slow)
SAMPLE_FPS = 1.0
SLACK = 1.1
MEMORY_TOLERANCE_MB = 32.0


class Meter:
    """Wall, process CPU (all threads) and bytes written, accumulated over the measured sections only."""

    def __init__(self):
        self.wall_s = self.cpu_s = 0.0
        self.written_bytes = 0

    def __enter__(self):
        self._t = (time.perf_counter(), cpu_s(), _written_bytes())
        return self

    def __exit__(self, *exc):
        wall, cpu, written = self._t
        self.wall_s += time.perf_counter() - wall
        self.cpu_s += cpu_s() - cpu
        self.written_bytes += _written_bytes() - written


def _written_bytes() -> int:
    """Bytes this process passed to write() (Linux /proc/self/io 'wchar'; 0 elsewhere)."""
    try:
        for line in Path("/proc/self/io").read_text().splitlines():
            if line.startswith("wchar:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _config(weights: str, pooling: str = "avg"):
    from featurestore import EmbeddingConfig

    return EmbeddingConfig(weights=weights, pooling=pooling)


def row_embed(args) -> dict:
    from featurestore import embed_videos

    config = _config(args.weights)
    with tempfile.TemporaryDirectory() as tmp, Meter() as m:
        (report,) = embed_videos([args.video], Path(tmp) / "store", config=config, sample_fps=SAMPLE_FPS,
                                 batch_size=args.batch_size)
    return {"meter": m, "n_samples": report.n_embedded}


def row_decode(args) -> dict:
    """The pipeline's reader (PyAV, --decode exact) + the embedder's own preprocess, batched; no model."""
    import numpy as np

    from featurestore.video.pyav import AvVideoReader
    from featurestore.embedding.preprocess import VGG16Preprocessor

    pre = VGG16Preprocessor(_config(args.weights).image_size_px)
    m, n, frames = Meter(), 0, []
    with open(args.batches, "wb") as out:
        def flush():
            np.save(out, np.stack(frames))  # hands the batches to the inference row; not measured
            frames.clear()

        with m:
            for sample in AvVideoReader(args.video).sample(SAMPLE_FPS):
                frames.append(pre([sample.frame])[0])
                n += 1
                if len(frames) == args.batch_size:
                    m.__exit__()
                    flush()
                    m.__enter__()
        if frames:
            flush()
    return {"meter": m, "n_samples": n}


def row_inference(args) -> dict:
    """Build the network and embed the decode row's preprocessed batches, already in memory."""
    import numpy as np

    batches = []
    with open(args.batches, "rb") as fh:
        while fh.tell() < os.fstat(fh.fileno()).st_size:
            batches.append(np.load(fh))
    from featurestore import VGG16Embedder

    with Meter() as m:
        t0 = time.perf_counter()
        embedder = VGG16Embedder(_config(args.weights))  # embed pays for this too
        load_s = time.perf_counter() - t0
        for batch in batches:
            embedder.embed(batch)
    return {"meter": m, "n_samples": sum(len(b) for b in batches), "model_load_s": round(load_s, 2)}


def row_tutorial(args) -> dict:
    """The blog recipe: every frame read, 1 per floor(fps) written as JPEG and read back, all held in memory."""
    try:
        import skimage.io
        import skimage.transform
    except ImportError:
        return {"skipped": "scikit-image is not installed (pip install scikit-image)"}
    import cv2
    import numpy as np

    from featurestore import VGG16Embedder
    from featurestore.embedding.backend import import_keras

    import_keras()  # the same Keras settings as embed: only the pipeline differs
    from keras.applications import vgg16

    with tempfile.TemporaryDirectory() as tmp, Meter() as m:
        cap = cv2.VideoCapture(args.video)
        frame_rate = cap.get(cv2.CAP_PROP_FPS)
        names, frame_index = [], 0
        while cap.isOpened():
            ok, frame = cap.read()
            if not ok:
                break
            if frame_index % math.floor(frame_rate) == 0:
                names.append(f"{tmp}/frame{len(names)}.jpg")
                cv2.imwrite(names[-1], frame)
            frame_index += 1
        cap.release()
        jpeg_mb = sum(map(os.path.getsize, names)) / 2**20
        images = [skimage.io.imread(name) for name in names]
        x = np.array([skimage.transform.resize(img, (224, 224, 3), preserve_range=True).astype(int) for img in images])
        x = vgg16.preprocess_input(x)
        model = VGG16Embedder(_config(args.weights, pooling="flatten")).model
        features = model.predict(x, verbose=0).reshape(len(x), 7 * 7 * 512)
    return {"meter": m, "n_samples": len(features), "jpeg_files": len(names), "jpeg_mb": round(jpeg_mb, 1)}


ROWS = {"embed": row_embed, "decode": row_decode, "inference": row_inference, "tutorial": row_tutorial}


def run_child(args) -> None:
    result = ROWS[args.row](args)
    meter = result.pop("meter", None)
    if meter is not None:
        result.update(wall_s=round(meter.wall_s, 2), cpu_s=round(meter.cpu_s, 2),
                      frames_per_s=round(result["n_samples"] / meter.wall_s, 3),
                      written_mb=round(meter.written_bytes / 2**20, 1))
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print("ROW " + json.dumps(result), flush=True)


def make_videos(folder: Path, minutes: list[int]) -> dict[int, Path]:
    """One dense 20-s H.264 clip, concatenated (stream copy) into a video of each length in `minutes`."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SystemExit("bench/embed.py needs ffmpeg on PATH (apt-get install ffmpeg)")
    clip = folder / "clip.mp4"
    subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", VIDEO_FILTER,
                    "-t", str(BASE_CLIP_S), *X264_ARGS, str(clip)], check=True)
    videos = {}
    for minute in minutes:
        repeats = folder / f"clip-x{minute}.txt"
        repeats.write_text(f"file '{clip}'\n" * (minute * 60 // BASE_CLIP_S))
        videos[minute] = folder / f"dense-720p-{minute}min.mp4"
        subprocess.run([ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-f", "concat", "-safe", "0",
                        "-i", str(repeats), "-c", "copy", str(videos[minute])], check=True)
    return videos


def run_row(row: str, video: Path, args, batches: Path, env: dict) -> dict:
    cmd = [sys.executable, __file__, "--row", row, "--video", str(video), "--weights", args.weights,
           "--batch-size", str(args.batch_size), "--batches", str(batches)]
    busy, children = _system_busy_s(), _children_cpu_s()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("ROW ")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"row {row!r} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    result = json.loads(lines[-1][4:])
    # CPU that other processes took while this row ran: wall times are only meaningful when it is ~0.
    result["other_processes_cpu_s"] = round(max(0.0, (_system_busy_s() - busy) - (_children_cpu_s() - children)), 1)
    return result


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _system_busy_s() -> float:
    """CPU seconds all processes have used since boot (Linux /proc/stat; 0 elsewhere)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def machine() -> dict:
    import cv2
    import numpy

    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    versions = {"python": platform.python_version(), "numpy": numpy.__version__, "opencv": cv2.__version__}
    for name in ("tensorflow", "keras", "skimage"):
        try:
            from importlib.metadata import version

            versions[name] = version({"skimage": "scikit-image"}.get(name, name))
        except Exception:
            versions[name] = None
    ffmpeg_version = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.split("\n")[0]
    return {"nproc": os.cpu_count(), "cpu_model": model, "avx512": " avx512f" in flags,
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
            "platform": platform.platform(), "ffmpeg": ffmpeg_version, "versions": versions,
            "env": {k: v for k, v in os.environ.items() if k.startswith(("TF_", "OPENCV_", "OMP_"))}}


def check_targets(rows: dict, cores: int) -> tuple[dict, list[tuple[str, str, bool | None]]]:
    embed, decode, infer, tut = (rows.get(k, {}) for k in ("embed", "decode", "inference", "tutorial"))
    ratios = {"embed_cpu_over_decode_plus_inference_cpu": embed["cpu_s"] / (decode["cpu_s"] + infer["cpu_s"]),
              "embed_wall_over_cpu_per_core": embed["wall_s"] / (embed["cpu_s"] / cores)}
    targets = [
        (f"embed CPU <= {SLACK} x (decode + inference) CPU",
         f"{embed['cpu_s']:.1f} s vs {SLACK * (decode['cpu_s'] + infer['cpu_s']):.1f} s "
         f"(ratio {ratios['embed_cpu_over_decode_plus_inference_cpu']:.3f})",
         ratios["embed_cpu_over_decode_plus_inference_cpu"] <= SLACK),
        (f"embed wall <= {SLACK} x CPU / {cores} cores",
         f"{embed['wall_s']:.1f} s vs {SLACK * embed['cpu_s'] / cores:.1f} s "
         f"(ratio {ratios['embed_wall_over_cpu_per_core']:.3f})",
         ratios["embed_wall_over_cpu_per_core"] <= SLACK),
    ]
    if "frames_per_s" in tut:
        targets.append(("embed frames/s >= tutorial, no frames on disk",
                        f"{embed['frames_per_s']:.2f} vs {tut['frames_per_s']:.2f} frames/s; embed wrote "
                        f"{embed['written_mb']} MB (features), tutorial {tut['written_mb']} MB ({tut['jpeg_files']} JPEGs)",
                        embed["frames_per_s"] >= tut["frames_per_s"]))
    else:
        targets.append(("embed frames/s >= tutorial", f"not measured: {tut.get('skipped')}", None))
    short, long = rows.get("embed 1 min"), rows.get("embed 10 min")
    if short and long:
        grow = long["peak_rss_mb"] - short["peak_rss_mb"]
        tolerance = max(MEMORY_TOLERANCE_MB, 0.05 * short["peak_rss_mb"])
        targets.append((f"embed peak RSS same at 1 and 10 min (within {tolerance:.0f} MB)",
                        f"{short['peak_rss_mb']:.0f} MB vs {long['peak_rss_mb']:.0f} MB ({grow:+.0f} MB)",
                        abs(grow) <= tolerance))
    else:
        targets.append(("embed peak RSS same at 1 and 10 min", "not measured (--quick)", None))
    return ratios, targets


def print_table(rows: dict, targets, header: str) -> None:
    cells = [(name, f"{r['wall_s']:.1f}", f"{r['cpu_s']:.1f}", f"{r['frames_per_s']:.2f}", f"{r['peak_rss_mb']:.0f}",
              f"{r['n_samples']}", f"{r['other_processes_cpu_s']:.0f}") if "wall_s" in r
             else (name, "-", "-", "-", "-", "-", r.get("skipped", ""))
             for name, r in rows.items()]
    columns = ("row", "wall s", "CPU s", "sampled frames/s", "peak RSS MB", "samples", "others' CPU s")
    verdicts = [(name, value, {True: "PASS", False: "FAIL", None: "n/a"}[ok]) for name, value, ok in targets]
    others = sum(r.get("other_processes_cpu_s", 0) for r in rows.values())
    if others > 0.05 * sum(r.get("cpu_s", 0) for r in rows.values()):
        verdicts.append(("note", f"other processes used {others:.0f} CPU s during the rows ('others' CPU s'): "
                         "wall times and the wall target are inflated; rerun on an idle machine", "WARN"))
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        print(header)
        for line in [columns, *cells]:
            print("  ".join(f"{c:>17}" if i else f"{c:<14}" for i, c in enumerate(line)))
        for name, value, verdict in verdicts:
            print(f"{verdict:4}  {name}: {value}")
        return
    table = Table(title=header, title_justify="left")
    for i, col in enumerate(columns):
        table.add_column(col, justify="left" if i == 0 else "right")
    for line in cells:
        table.add_row(*line)
    console = Console(width=140)
    console.print(table)
    for name, value, verdict in verdicts:
        console.print(f"[{'green' if verdict == 'PASS' else 'red'}]{verdict:4}[/]  {name}: {value}", highlight=False)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", default="random",
                        help="'random' (seeded; default: ImageNet weights cannot be downloaded here) or a weights file")
    parser.add_argument("--minutes", type=int, default=5, help="length of the main video (a multiple of 1/3 min)")
    parser.add_argument("--quick", action="store_true", help="skip the 10-minute memory row")
    parser.add_argument("--rows", default="embed,decode,inference,tutorial,memory",
                        help="comma-separated subset of embed,decode,inference,tutorial,memory")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                        help="environment for the rows (e.g. TF_ENABLE_ONEDNN_OPTS=0), to compare settings")
    parser.add_argument("--json", type=Path, help="also write the JSON here")
    parser.add_argument("--row", choices=sorted(ROWS), help=argparse.SUPPRESS)
    parser.add_argument("--video", help=argparse.SUPPRESS)
    parser.add_argument("--batches", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.row:
        return run_child(args)
    from featurestore.embedding.config import weights_identity

    wanted = args.rows.split(",")
    env = dict(os.environ, **dict(kv.split("=", 1) for kv in args.env))
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-embed-") as tmp:
        minutes = sorted({args.minutes} | ({1} | (set() if args.quick else {10}) if "memory" in wanted else set()))
        print(f"making {', '.join(f'{m}-min' for m in minutes)} dense 720p H.264 videos ...", file=sys.stderr)
        videos = make_videos(Path(tmp), minutes)
        batches, rows = Path(tmp) / "batches.npy", {}
        main_rows = [r for r in ("embed", "decode", "inference", "tutorial") if r in wanted]
        if "inference" in main_rows and "decode" not in main_rows:
            main_rows.insert(main_rows.index("inference"), "decode")
        plan = [(r, r, videos[args.minutes]) for r in main_rows]
        if "memory" in wanted:
            plan += [(f"embed {m} min", "embed", videos[m]) for m in minutes if m != args.minutes or "embed" not in main_rows]
        for name, row, video in plan:
            print(f"  {name} ...", file=sys.stderr, flush=True)
            rows[name] = run_row(row, video, args, batches, env)
        if "memory" in wanted and args.minutes in (1, 10) and "embed" in main_rows:
            rows[f"embed {args.minutes} min"] = rows["embed"]
    cores = os.cpu_count() or 1
    weights = weights_identity(args.weights)
    note = " (not ImageNet: it cannot be downloaded here; same FLOPs)" if args.weights == "random" else ""
    header = (f"embed benchmark: {args.minutes}-min 1280x720 30 fps H.264 ({X264_ARGS[3]}, crf {X264_ARGS[5]}), "
              f"{SAMPLE_FPS:g} sample/s, VGG16 {weights}{note}, batch {args.batch_size}, {cores} cores")
    ratios, targets = check_targets(rows, cores) if {"embed", "decode", "inference"} <= rows.keys() else ({}, [])
    print_table(rows, targets, header)
    result = {"benchmark": "embed", "video": {"minutes": args.minutes, "filter": VIDEO_FILTER, "x264": " ".join(X264_ARGS),
              "sample_fps": SAMPLE_FPS}, "weights": weights, "weights_note": note.strip(" ()"),
              "batch_size": args.batch_size, "machine": machine(), "rows": rows,
              "ratios": {k: round(v, 3) for k, v in ratios.items()},
              "targets": [{"target": n, "measured": v, "passed": ok} for n, v, ok in targets],
              "bench_wall_s": round(time.perf_counter() - t0, 1)}
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
