"""bench/scale.py's fidelity table (issue 27): per backbone, the lowest per-vector cosine of its int8 features (and
bfloat16's, where this CPU computes it) to Keras float32's, on each kind of footage (bench/_footage.py), against the
0.999 int8 is asked to keep on any footage."""

from __future__ import annotations

import numpy as np

from _footage import cosine, footage

from featurestore import EmbeddingConfig
from featurestore.embedding.runtime import build_embedder
from featurestore.errors import ScreentimeError

TARGET = 0.999
COMBINATIONS = (("openvino", "int8"), ("openvino", "bfloat16"), ("keras", "bfloat16"))


def embed_all(embedder, frames: list[np.ndarray], batch: int = 16) -> np.ndarray:
    return np.concatenate([embedder.embed(embedder.preprocess(frames[i:i + batch])) for i in range(0, len(frames), batch)])


def fidelity(weights: str, backbones: list[str], size: int = 224) -> dict:
    """{'rows': {'vgg16 random openvino int8': {kind: min cosine}}, 'kinds', 'skipped'} for what runs here."""
    kinds, skipped = footage()
    result = {"kinds": {k: len(v) for k, v in kinds.items()}, "skipped": dict(skipped), "rows": {}, "image_size_px": size}
    for name in backbones:
        w = weights if name == "vgg16" else "imagenet"
        reference = build_embedder(EmbeddingConfig(weights=w, backbone=name, image_size_px=size))
        ref = {k: embed_all(reference, frames) for k, frames in kinds.items()}
        for runtime, precision in COMBINATIONS:
            label = f"{name} {w} {runtime} {precision}"
            config = EmbeddingConfig(weights=w, backbone=name, image_size_px=size, precision=precision, runtime=runtime)
            try:
                if precision == "int8":  # also where it is not offered: this table is why
                    from featurestore.embedding.openvino import OpenVINOEmbedder, check_openvino

                    check_openvino("int8")
                    embedder = OpenVINOEmbedder(config, allow_refused_int8=True)
                else:
                    build_embedder.check(config)
                    embedder = build_embedder(config)
            except ScreentimeError as err:
                result["skipped"][label] = str(err)
                continue
            result["rows"][label] = {k: float(cosine(embed_all(embedder, frames), ref[k]).min()) for k, frames in kinds.items()}
    return result


def print_table(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    kinds = list(result["kinds"])
    table = Table(title=f"fidelity: lowest per-vector cosine to Keras float32 per kind of footage ({result['image_size_px']} px; "
                        f"int8 asked >= {TARGET})", title_justify="left")
    table.add_column("backbone weights runtime precision")
    for kind in kinds:
        table.add_column(kind, justify="right")
    for label, row in result["rows"].items():
        table.add_row(label, *(f"{row[k]:.5f}" for k in kinds))
    Console(width=160).print(table)
    for label, why in result["skipped"].items():
        print(f"  skipped {label}: {why[:110]}")
    int8 = {label: min(row.values()) for label, row in result["rows"].items() if label.endswith("int8")}
    for label, worst in int8.items():
        print(f"target: {label} lowest cosine {worst:.5f} on every kind >= {TARGET}: {'PASS' if worst >= TARGET else 'FAIL'}")
