"""Benchmark scaling: does `embed` use the machine? Decode limit, inference alone, embed with 1, 2, ... workers
and on a local Ray cluster, as samples/s and as a ratio to the limit; and decode CPU, exact vs fast.

Rows, all on the same generated collection (dense H.264, made with PyAV's own x264: no ffmpeg needed):

- decode limit: every core decoding (and preprocessing) time ranges of the videos, no model: the most any
  embed can reach where the model is not the bottleneck (its note gives the perfectly balanced ideal, its
  CPU seconds spread over idle cores: far above it on a machine other jobs share);
- inference: VGG16 alone on preprocessed batches already in memory;
- embed workers=W: `embed_videos` end to end into a fresh store; ratio to the decode limit and to the
  combined limit (CPU: decode and inference share the cores, 1 / (1/D + 1/I); GPU: min(D, I));
- embed --ray local: the same through Ray tasks (cluster start-up included);
- decode CPU: one process, one thread, every frame vs B-frames skipped, on a cartoon with B-frames and on
  the dense clip;
- fidelity (bench/_fidelity.py): int8's (and bfloat16's) lowest cosine to float32 per kind of footage, per backbone.

    .venv/bin/python bench/scale.py                    # 4 x 60 s 720p, 32 and 224 px, workers 1..cores, ray
    .venv/bin/python bench/scale.py --quick            # 3 x 20 s 480p, 32 px (~2 min)
    KERAS_BACKEND=jax python3 bench/scale.py --device  # the lent GPU machine (bench/device_scale.sh runs it)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _common import cpu_s  # noqa: E402
from _videos import make_cartoon, make_collection  # noqa: E402

from featurestore import EmbeddingConfig, FeatureStore, embed_videos  # noqa: E402
from featurestore.video.pyav import AvVideoReader, probe  # noqa: E402
from featurestore.embedding.preprocess import VGG16Preprocessor  # noqa: E402
from featurestore.runners.local import usable_cores  # noqa: E402
from featurestore.runners.workers import Job, decode_range  # noqa: E402

SAMPLE_FPS = 1.0


# -- rows ----------------------------------------------------------------------------------------
def _decode_job(args) -> tuple[int, int]:
    job, size = args
    n = [0]
    end = decode_range(job, VGG16Preprocessor(size), lambda index, *rest: n.__setitem__(0, n[0] + len(index)),
                       threads=1, chunk=8)
    return n[0], end.frames_decoded


def row_decode_limit(videos: list[Path], size: int, decode: str, cores: int, sample_fps: float = SAMPLE_FPS) -> dict:
    """Every core decoding ranges of the collection (no model, no store)."""
    jobs, jid = [], 0
    per_video = max(1, -(-cores // len(videos)))
    for path in videos:
        total = int(probe(path).duration_estimate_s * sample_fps)
        cuts = [round(total * i / per_video) for i in range(per_video)] + [None]
        for a, b in zip(cuts, cuts[1:]):
            jobs.append((Job(jid, path.name, str(path), sample_fps, decode, a, b), size))
            jid += 1
    c0, t0 = cpu_s(), time.perf_counter()
    with ProcessPoolExecutor(cores) as pool:
        results = list(pool.map(_decode_job, jobs))
    wall = time.perf_counter() - t0
    samples, cpu = sum(r[0] for r in results), cpu_s() - c0
    # Perfectly balanced, every core busy to the end: what the same CPU work would give (an upper bound).
    return {"samples": samples, "wall_s": wall, "cpu_s": cpu, "samples_per_s": samples / wall,
            "ideal_samples_per_s": samples / (cpu / cores), "frames_decoded": sum(r[1] for r in results),
            "processes": cores}


def row_inference(embedder, size: int, batch_size: int, n_batches: int) -> dict:
    rng = np.random.default_rng(0)
    batch = rng.normal(0, 60, (batch_size, size, size, 3)).astype(np.float32)
    embedder.embed(batch)  # compile / warm up
    c0, t0 = cpu_s(), time.perf_counter()
    for _ in range(n_batches):
        embedder.embed(batch)
    wall = time.perf_counter() - t0
    return {"samples": n_batches * batch_size, "wall_s": wall, "cpu_s": cpu_s() - c0,
            "samples_per_s": n_batches * batch_size / wall}


def row_embed(videos, folder: Path, config, batch_size: int, decode: str, workers: int | None, embedder=None,
              ray: str | None = None) -> dict:
    store = folder / f"store-{time.monotonic_ns()}.h5"
    kwargs = {"make_embedder": lambda c, **_: embedder} if embedder is not None else {}
    c0, t0 = cpu_s(), time.perf_counter()
    reports = embed_videos(videos, store, config=config, sample_fps=SAMPLE_FPS, batch_size=batch_size, decode=decode,
                           workers=workers, ray=ray, min_split_s=10.0, **kwargs)
    wall = time.perf_counter() - t0
    samples = sum(r.n_embedded for r in reports)
    return {"samples": samples, "wall_s": wall, "cpu_s": cpu_s() - c0, "samples_per_s": samples / wall,
            "device": reports[0].device, "backend": reports[0].backend, "store": str(store)}


def decoder_cpu_s(path: Path, decode: str) -> float:
    """CPU seconds of FFmpeg's decoder alone (packets to frames, one thread) in `decode`'s mode."""
    import av

    from featurestore.video.pyav import SKIP_FRAME

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.skip_frame = SKIP_FRAME[decode]
        stream.codec_context.thread_count = 1
        c0 = cpu_s()
        for packet in container.demux(stream):
            packet.decode()
        return cpu_s() - c0


def row_decode_cpu(path: Path, repeats: int = 3) -> dict:
    """One process, one decoder thread: CPU seconds of exact vs fast, for the decoder alone and for the whole
    reader (sampling at 1/s and converting the sampled frames to BGR, which both modes do alike). Each is the
    least of `repeats` runs, so that other processes' load counts as little as possible."""
    out = {}
    for decode in ("exact", "fast"):
        reader = AvVideoReader(path, decode=decode, threads=1)
        times = []
        for _ in range(repeats):
            c0 = cpu_s()
            samples = list(reader.sample(SAMPLE_FPS))
            times.append(cpu_s() - c0)
        out[decode] = {"cpu_s": min(times), "decoder_cpu_s": min(decoder_cpu_s(path, decode) for _ in range(repeats)),
                       "frames_decoded": reader.frames_decoded, "samples": len(samples),
                       "max_off_grid_s": max(abs(s.actual_s - s.requested_s) for s in samples)}
    out["fast_over_exact_cpu"] = out["fast"]["cpu_s"] / out["exact"]["cpu_s"]
    out["fast_over_exact_decoder_cpu"] = out["fast"]["decoder_cpu_s"] / out["exact"]["decoder_cpu_s"]
    return out


def ray_child(args) -> None:
    """--row ray: the Ray row in a process of its own (a cluster starts and stops with it)."""
    spec = json.loads(args.spec)
    config = EmbeddingConfig(weights=spec["weights"], image_size_px=spec["size"])
    row = row_embed([Path(v) for v in spec["videos"]], Path(spec["folder"]), config, spec["batch_size"], "exact",
                    None, ray="local")
    print("ROW " + json.dumps(row), flush=True)


# -- main ----------------------------------------------------------------------------------------
def machine() -> dict:
    import cv2

    from featurestore.provenance import library_versions

    gpus = ""
    try:
        gpus = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    model = ""
    if Path("/proc/cpuinfo").exists():
        model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "")
    return {"cores": usable_cores(), "cpu_model": model, "gpus": gpus, "platform": platform.platform(),
            "keras_backend": os.environ.get("KERAS_BACKEND", "tensorflow"), "opencv": cv2.__version__,
            "versions": library_versions(("numpy", "av", "keras", "tensorflow", "jax", "torch", "ray"))}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 x 20 s 480p videos, 32 px only, workers 1 and all")
    parser.add_argument("--device", action="store_true", help="lent GPU machine: 8 x 60 s 720p, 224 px, batch 32, no Ray")
    parser.add_argument("--videos", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--height", type=int, default=720, help="video height, px (16:9)")
    parser.add_argument("--sizes", default="32,224", help="VGG16 input sizes to run, px")
    parser.add_argument("--workers", default="", help="comma-separated worker counts (default 1, 2, 4, ... cores)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--weights", default="random")
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument("--no-decode-cpu", action="store_true", help="skip the exact-vs-fast decode CPU table")
    parser.add_argument("--cartoon-seconds", type=float, default=60.0)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--runtimes", choices=("yes", "no", "only"), default="yes",
                        help="the runtime x precision table (issue 17): with the rest, skip it, or only it")
    parser.add_argument("--rounds", type=int, default=4, help="runtime table: interleaved timing rounds (best of)")
    parser.add_argument("--fidelity", choices=("yes", "no", "only"), default="yes",
                        help="the int8 fidelity table per kind of footage (issue 27): with the rest, skip it, or only it")
    parser.add_argument("--backbones", default="vgg16", help="fidelity table: comma-separated backbones (default vgg16)")
    parser.add_argument("--row", help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.row == "ray":
        return ray_child(args)
    if args.quick:
        args.videos, args.seconds, args.height, args.sizes, args.cartoon_seconds = 3, 20.0, 480, "32", 20.0
    if args.device:  # fits the lent machine's 5-minute call: one CPU run each in the decode table
        args.videos, args.seconds, args.height, args.sizes, args.no_ray, args.cartoon_seconds = 8, 60.0, 720, "224", True, 30.0
    cores = usable_cores()
    counts = sorted({int(w) for w in args.workers.split(",") if w} or
                    ({1, cores} if args.quick else {2 ** i for i in range(cores.bit_length()) if 2 ** i <= cores} | {cores}))
    size_px = (args.height * 16 // 9 // 2 * 2, args.height)
    t_start = time.perf_counter()
    result = {"benchmark": "scale", "machine": machine(), "sample_fps": SAMPLE_FPS, "rows": [], "decode_cpu": {}}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        folder = Path(tmp)
        if args.fidelity != "no":
            import _fidelity

            result["fidelity"] = _fidelity.fidelity(args.weights, args.backbones.split(","))
            if args.fidelity == "only":
                return finish(result, args, t_start)
        if args.runtimes == "only":
            result["runtimes"] = run_runtimes(folder, args, cores)
            return finish(result, args, t_start)
        print(f"making {args.videos} x {args.seconds:g} s {size_px[0]}x{size_px[1]} H.264 videos ...", file=sys.stderr)
        videos = make_collection(folder, args.videos, args.seconds, size_px, 30)
        result["videos"] = {"n": len(videos), "seconds": args.seconds, "size": size_px, "fps": 30,
                            "mbit_per_s": round(videos[0].stat().st_size * 8 / args.seconds / 1e6, 2)}
        if not args.no_decode_cpu:
            cartoon = make_cartoon(folder, args.cartoon_seconds)
            for name, path in (("cartoon (B-frames)", cartoon), ("dense clip", videos[0])):
                print(f"  decode CPU {name} ...", file=sys.stderr)
                result["decode_cpu"][name] = row_decode_cpu(path, repeats=1 if args.device else 3)
        from featurestore.embedding.vgg16 import VGG16Embedder

        for size in [int(s) for s in args.sizes.split(",")]:
            config = EmbeddingConfig(weights=args.weights, image_size_px=size)
            embedder = VGG16Embedder(config, batch_size=args.batch_size)
            rows = {}
            for decode in ("exact", "fast"):
                print(f"  {size} px decode limit ({decode}) ...", file=sys.stderr)
                rows[f"decode limit {decode}"] = row_decode_limit(videos, size, decode, cores)
            print(f"  {size} px inference ...", file=sys.stderr)
            n_batches = max(2, int(round(sum(r["samples"] for r in [rows["decode limit exact"]]) / args.batch_size / 2)))
            rows["inference"] = row_inference(embedder, size, args.batch_size, min(n_batches, 20))
            for w in counts:
                print(f"  {size} px embed workers={w} ...", file=sys.stderr)
                rows[f"embed workers={w}"] = row_embed(videos, folder, config, args.batch_size, "exact", w, embedder)
            print(f"  {size} px embed workers={cores} --decode fast ...", file=sys.stderr)
            rows[f"embed workers={cores} fast"] = row_embed(videos, folder, config, args.batch_size, "fast", cores, embedder)
            if args.device:  # NVDEC: software decoding takes over (with a warning) where it cannot open
                print(f"  {size} px embed workers={cores} --decode hw ...", file=sys.stderr)
                rows[f"embed workers={cores} hw"] = row_embed(videos, folder, config, args.batch_size, "hw", cores, embedder)
            if not args.no_ray:
                print(f"  {size} px embed --ray local ...", file=sys.stderr)
                rows["embed --ray local"] = run_ray_row(videos, folder, args, size)
                check_same_store(rows["embed --ray local"], rows[f"embed workers={cores}"])
            gpu = bool(result["machine"]["gpus"]) and "GPU" in rows[f"embed workers={cores}"].get("device", "")
            add_ratios(rows, gpu)
            result["rows"].append({"image_size_px": size, "gpu": gpu, "rows": rows})
        if args.runtimes == "yes":
            result["runtimes"] = run_runtimes(folder, args, cores)
    finish(result, args, t_start)


def run_runtimes(folder: Path, args, cores: int) -> dict:
    """The runtime x precision tables (bench/_runtimes.py) on clips of their own."""
    import _runtimes

    from _videos import dense_frames, encode

    print("  runtimes: clips ...", file=sys.stderr)
    small = make_cartoon(folder, 60.0, size=(320, 240), name="cartoon-320x240")
    cartoon = make_cartoon(folder, 60.0, size=(1280, 720), name="cartoon-720p")  # B-frames, ~2 Mb/s
    dense = encode(dense_frames(60.0, 30, (1280, 720)), folder / "dense-720p.mp4", 30, (1280, 720), "veryfast")  # ~25 Mb/s
    size, batch = 224, args.batch_size
    inference = _runtimes.inference_rows(_runtimes.frames_of(small, batch), args.weights, size, batch, args.rounds)
    decodes = ("exact", "fast", "hw") if args.device else ("exact", "fast")  # NVDEC where a GPU is lent
    clips = {"320x240 cartoon, 2/s": (small, 2.0, ("exact",)),
             f"720p cartoon {mbit_per_s(cartoon):.1f} Mb/s, 1/s": (cartoon, 1.0, decodes),
             f"720p dense {mbit_per_s(dense):.0f} Mb/s, 1/s": (dense, 1.0, decodes)}
    limits = {(name, decode): row_decode_limit([path], size, decode, cores, fps)["samples_per_s"]
              for name, (path, fps, decodes) in clips.items() for decode in decodes}
    print("  runtimes: embed commands ...", file=sys.stderr)
    embed = _runtimes.embed_rows(clips, inference["embedders"], args.weights, size, batch, cores, folder, limits)
    _runtimes.add_limits(embed, inference["rows"])
    return {"image_size_px": size, "batch_size": batch, "weights": args.weights, "rounds": args.rounds,
            "inference": inference["rows"], "skipped": inference["skipped"], "embed": embed}


def mbit_per_s(path: Path) -> float:
    return path.stat().st_size * 8 / probe(path).duration_estimate_s / 1e6


def finish(result: dict, args, t_start: float) -> None:
    result["bench_wall_s"] = round(time.perf_counter() - t_start, 1)
    print_tables(result)
    if "runtimes" in result:
        import _runtimes

        _runtimes.print_tables(result["runtimes"])
    if "fidelity" in result:
        import _fidelity

        _fidelity.print_table(result["fidelity"])
    for block in result["rows"]:
        for row in block["rows"].values():
            row.pop("store", None)
    print(json.dumps(result, indent=2, default=float))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=float))


def run_ray_row(videos, folder, args, size) -> dict:
    spec = json.dumps({"videos": [str(v) for v in videos], "folder": str(folder), "weights": args.weights,
                       "size": size, "batch_size": args.batch_size})
    proc = subprocess.run([sys.executable, __file__, "--row", "ray", "--spec", spec], capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("ROW ")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or proc.stdout.strip().splitlines() or ["no output"])[-1]
        return {"skipped": f"exit {proc.returncode}: {tail[:160]}"}
    return json.loads(lines[-1][4:])


def check_same_store(row: dict, reference: dict) -> None:
    if "store" not in row or "store" not in reference:
        return
    a, b = FeatureStore(row["store"]), FeatureStore(reference["store"])
    row["store_equals_workers_run"] = all(np.array_equal(a.load(v)[1], b.load(v)[1]) for v in b.video_ids())


def add_ratios(rows: dict, gpu: bool) -> None:
    decode, infer = rows["decode limit exact"]["samples_per_s"], rows["inference"]["samples_per_s"]
    combined = min(decode, infer) if gpu else 1.0 / (1.0 / decode + 1.0 / infer)
    fast = rows["decode limit fast"]["samples_per_s"]
    combined_fast = min(fast, infer) if gpu else 1.0 / (1.0 / fast + 1.0 / infer)
    for name, row in rows.items():
        if "samples_per_s" in row and name.startswith("embed"):
            row["over_decode_limit"] = row["samples_per_s"] / decode  # always the all-frame (exact) decode limit
            row["over_combined_limit"] = row["samples_per_s"] / (combined_fast if name.endswith("fast") else combined)


def print_tables(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=120)
    m = result["machine"]
    for block in result["rows"]:
        title = (f"scale: {result['videos']['n']} x {result['videos']['seconds']:g} s {result['videos']['size'][1]}p30 H.264 "
                 f"({result['videos']['mbit_per_s']} Mb/s), {result['sample_fps']:g} sample/s, VGG16 "
                 f"{block['image_size_px']} px, {m['cores']} cores, {m['keras_backend']}{', GPU' if block['gpu'] else ''}")
        table = Table(title=title, title_justify="left")
        for col in ("row", "samples/s", "x exact decode limit", "x decode+inference", "wall s", "CPU s", "note"):
            table.add_column(col, justify="left" if col in ("row", "note") else "right")
        for name, row in block["rows"].items():
            if "samples_per_s" not in row:
                table.add_row(name, "-", "-", "-", "-", "-", row.get("skipped", ""))
                continue
            note = f"balanced ideal {row['ideal_samples_per_s']:.2f}" if "ideal_samples_per_s" in row else ""
            if "store_equals_workers_run" in row:
                note = "store = workers run" if row["store_equals_workers_run"] else "STORE DIFFERS"
            table.add_row(name, f"{row['samples_per_s']:.2f}", f"{row.get('over_decode_limit', 0):.2f}" if "over_decode_limit" in row else "",
                          f"{row.get('over_combined_limit', 0):.2f}" if "over_combined_limit" in row else "",
                          f"{row['wall_s']:.1f}", f"{row['cpu_s']:.1f}", note)
        console.print(table)
    table = Table(title="decode CPU, one process, one thread: exact (every frame) vs fast (B-frames skipped); the reader "
                        "adds sampling at 1/s and BGR conversion of the sampled frames", title_justify="left")
    for col in ("video", "decoder CPU s exact", "fast", "fast / exact", "reader CPU s exact", "fast",
                "fast / exact", "frames exact", "frames fast", "fast max off grid ms"):
        table.add_column(col, justify="left" if col == "video" else "right")
    for name, r in result["decode_cpu"].items():
        table.add_row(name, f"{r['exact']['decoder_cpu_s']:.2f}", f"{r['fast']['decoder_cpu_s']:.2f}",
                      f"{r['fast_over_exact_decoder_cpu']:.2f}", f"{r['exact']['cpu_s']:.2f}", f"{r['fast']['cpu_s']:.2f}",
                      f"{r['fast_over_exact_cpu']:.2f}", str(r["exact"]["frames_decoded"]), str(r["fast"]["frames_decoded"]),
                      f"{1000 * r['fast']['max_off_grid_s']:.0f}")
    if result["decode_cpu"]:
        console.print(table)


if __name__ == "__main__":
    main()
