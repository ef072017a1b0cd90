"""bench/scale.py's runtime table (issue 17): VGG16 inference frames/s for every runtime x precision this machine
runs, the cosine of their features to Keras float32, and one embed command per precision against the decode +
inference limit of that combination.

Inference rows run the same preprocessed batch of real frames (a generated cartoon, 224 px, batch 32): rounds
interleaved over the combinations, best of `rounds` each, so that load from other processes counts alike.
Embed rows: `embed_videos` end to end into a fresh store, the embedder built beforehand (as `embed` builds it
once per command), on (a) a 60 s 320x240 clip at 2 samples/s and (b) a 60 s 720p H.264 clip at 1 sample/s
with --decode exact and fast.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from featurestore import EmbeddingConfig, embed_videos
from featurestore.embedding.runtime import build_embedder

COMBINATIONS = (("keras", "float32"), ("keras", "bfloat16"), ("openvino", "float32"), ("openvino", "bfloat16"),
                ("openvino", "int8"))


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def frames_of(path: Path, n: int) -> list[np.ndarray]:
    """`n` frames spread over the video (BGR)."""
    from featurestore.video.pyav import AvVideoReader

    reader = AvVideoReader(path)
    duration_s = reader.info.duration_estimate_s
    return reader.frames_at(list(np.linspace(0, duration_s * 0.98, n)))


def inference_rows(frames: list[np.ndarray], weights: str, size: int, batch_size: int, rounds: int) -> dict:
    """{'keras float32': {'frames_per_s', 'over_keras_float32', 'min_cosine', 'build_s'}, ...} for what runs here."""
    from featurestore.errors import ScreentimeError

    embedders, built, skipped = {}, {}, {}
    for runtime, precision in COMBINATIONS:
        name = f"{runtime} {precision}"
        config = EmbeddingConfig(weights=weights, image_size_px=size, precision=precision, runtime=runtime)
        t0 = time.perf_counter()
        try:
            build_embedder.check(config)  # what the machine cannot run natively is skipped, with the reason
            embedders[name] = build_embedder(config, batch_size=batch_size)
        except ScreentimeError as err:
            skipped[name] = str(err)
            continue
        built[name] = time.perf_counter() - t0
    batch = next(iter(embedders.values())).preprocess(frames[:batch_size])
    features = {name: e.embed(batch) for name, e in embedders.items()}  # warm up, and the features compared
    best = {name: float("inf") for name in embedders}
    for _ in range(rounds):
        for name, e in embedders.items():
            t0 = time.perf_counter()
            e.embed(batch)
            best[name] = min(best[name], time.perf_counter() - t0)
    reference = features.get("keras float32")
    rows = {}
    for name in embedders:
        rows[name] = {"frames_per_s": len(batch) / best[name], "build_s": built[name],
                      "min_cosine": float(cosine(features[name], reference).min()) if reference is not None else None}
    base = rows.get("keras float32", {}).get("frames_per_s")
    for row in rows.values():
        row["over_keras_float32"] = row["frames_per_s"] / base if base else None
    return {"rows": rows, "embedders": embedders, "skipped": skipped}


def embed_rows(clips: dict, embedders: dict, weights: str, size: int, batch_size: int, workers: int, folder: Path,
               decode_limits: dict) -> dict:
    """One embed command per (clip, precision): samples/s, against Keras float32's and the combined limit."""
    rows = {}
    for clip_name, (path, sample_fps, decodes) in clips.items():
        for precision, runtime in (("float32", "keras"), ("bfloat16", "keras"), ("bfloat16", "openvino"), ("int8", "openvino")):
            name = f"{runtime} {precision}"
            if name not in embedders:
                continue
            for decode in decodes:
                config = EmbeddingConfig(weights=weights, image_size_px=size, precision=precision, runtime=runtime)
                store = folder / f"runtime-{time.monotonic_ns()}.h5"
                t0 = time.perf_counter()
                [report] = embed_videos([path], store, config=config, sample_fps=sample_fps, batch_size=batch_size,
                                        decode=decode, workers=workers,
                                        make_embedder=lambda c, **_: embedders[name])
                wall = time.perf_counter() - t0
                rows[f"{clip_name}, {name}, --decode {decode}"] = {
                    "clip": clip_name, "precision": precision, "runtime": runtime, "decode": decode,
                    "samples": report.n_embedded, "wall_s": wall, "samples_per_s": report.n_embedded / wall,
                    "decode_limit": decode_limits[(clip_name, decode)]}
    for row in rows.values():
        f32 = rows.get(f"{row['clip']}, keras float32, --decode exact")
        row["over_float32_exact"] = row["samples_per_s"] / f32["samples_per_s"] if f32 else None
    return rows


def add_limits(embed: dict, inference: dict) -> None:
    """Each embed row against 1 / (1/decode + 1/inference) of its combination (decode and inference share the CPU)."""
    for row in embed.values():
        infer = inference[f"{row['runtime']} {row['precision']}"]["frames_per_s"]
        row["combined_limit"] = 1.0 / (1.0 / row["decode_limit"] + 1.0 / infer)
        row["over_combined_limit"] = row["samples_per_s"] / row["combined_limit"]


def print_tables(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=120)
    table = Table(title=f"runtimes: VGG16 {result['image_size_px']} px, batch {result['batch_size']}, "
                        f"{result['weights']} weights, real frames; best of {result['rounds']} interleaved rounds",
                  title_justify="left")
    for col in ("runtime precision", "frames/s", "x keras float32", "min cosine to keras float32", "build s"):
        table.add_column(col, justify="left" if col == "runtime precision" else "right")
    for name, r in result["inference"].items():
        table.add_row(name, f"{r['frames_per_s']:.1f}", f"{r['over_keras_float32']:.2f}",
                      "-" if r["min_cosine"] is None else f"{r['min_cosine']:.6f}", f"{r['build_s']:.1f}")
    for name, why in result.get("skipped", {}).items():
        table.add_row(name, "-", "-", "-", "-", end_section=False)
        table.add_row(f"  (skipped: {why[:100]})", "", "", "", "")
    console.print(table)
    table = Table(title="one embed command per precision (embedder built once, as embed does)", title_justify="left")
    for col in ("clip, runtime precision, decode", "samples/s", "x float32 exact", "x decode+inference", "wall s"):
        table.add_column(col, justify="left" if col.startswith("clip") else "right")
    for name, r in result["embed"].items():
        table.add_row(name, f"{r['samples_per_s']:.2f}", f"{r['over_float32_exact']:.2f}",
                      f"{r['over_combined_limit']:.2f}", f"{r['wall_s']:.1f}")
    console.print(table)
