"""How well BlazeFace full-range finds faces of each size, per small-face strategy (FaceConfig.tile_rows) and score
threshold: recall by face height, false faces per frame (on face-free frames and on frames with faces), and the
detector's CPU time per frame. Frames are composed from cartoons/photos (bench/_face_frames.py).

    python bench/face_detection.py [--frames 60] [--empty 40] [--seed 0] [--json out.json]

Detection runs once per strategy at the lowest threshold; higher thresholds filter its detections (MediaPipe's
weighted NMS merges boxes regardless of score, so this matches a rerun but for rare merges of two weak boxes).
Time is CPU time of this (single-threaded) process, which a busy machine disturbs far less than wall time.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np

from _face_frames import compose, face_sources, match  # noqa: I001  (bench/ is on sys.path when run as a script)
from featurestore.faces.config import FaceConfig
from featurestore.faces.detector import BlazeFaceDetector

SIZES_PX = (24, 32, 40, 48, 64, 96, 140, 200)
RESOLUTIONS = ((640, 360), (1280, 720))
TILE_ROWS = (0, 1, 2, 3)
THRESHOLDS = (0.4, 0.5, 0.6, 0.7)
LOWEST = min(THRESHOLDS)


def frames_for(rng, sources, width, height, n_frames, n_empty):
    """n_frames frames of 3 faces (heights drawn from SIZES_PX that fit), then n_empty face-free frames."""
    fitting = [s for s in SIZES_PX if s <= 0.6 * height]
    frames = [compose(rng, sources, width, height, list(rng.choice(fitting, 3))) for _ in range(n_frames)]
    return frames + [compose(rng, sources, width, height, []) for _ in range(n_empty)]


def evaluate(detector, frames) -> dict:
    """Per threshold: found/total by truth size, false faces on face and on face-free frames; CPU ms per frame."""
    import cv2

    records, cpu_s = [], []
    for frame in frames:
        rgb = cv2.cvtColor(frame.frame_bgr, cv2.COLOR_BGR2RGB)
        start = time.process_time()
        found = detector.detect(rgb)
        cpu_s.append(time.process_time() - start)
        records.append((frame, found))
    result = {"cpu_ms_per_frame": 1000 * float(np.mean(cpu_s)), "thresholds": {}}
    for threshold in THRESHOLDS:
        by_size = {s: [0, 0] for s in SIZES_PX}
        false_with, false_empty, n_with, n_empty = 0, 0, 0, 0
        for frame, found in records:
            boxes = found.box[found.score >= threshold]
            hit, n_false = match(boxes, frame.boxes)
            for size, ok in zip(np.round(frame.boxes[:, 3]).astype(int), hit):
                by_size[int(size)][0] += int(ok)
                by_size[int(size)][1] += 1
            if len(frame.boxes):
                false_with, n_with = false_with + n_false, n_with + 1
            else:
                false_empty, n_empty = false_empty + n_false, n_empty + 1
        result["thresholds"][str(threshold)] = {
            "recall_by_size_px": {str(s): (f / n if n else None) for s, (f, n) in by_size.items()},
            "n_by_size_px": {str(s): n for s, (_, n) in by_size.items()},
            "false_per_face_frame": false_with / max(1, n_with),
            "false_per_empty_frame": false_empty / max(1, n_empty),
        }
    return result


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60, help="frames with 3 faces, per resolution")
    parser.add_argument("--empty", type=int, default=40, help="face-free frames, per resolution")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write the results here too")
    args = parser.parse_args(argv)
    sources = face_sources(BlazeFaceDetector(FaceConfig(tile_rows=0, min_size_px=0)))
    results = {"machine": platform.processor() or platform.machine(), "n_sources": len(sources), "runs": []}
    for width, height in RESOLUTIONS:
        frames = frames_for(np.random.default_rng(args.seed), sources, width, height, args.frames, args.empty)
        for rows in TILE_ROWS:
            detector = BlazeFaceDetector(FaceConfig(tile_rows=rows, min_score=LOWEST, min_size_px=0))
            run = {"frame_size": [width, height], "tile_rows": rows, **evaluate(detector, frames)}
            results["runs"].append(run)
            print_run(run)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)


def print_run(run: dict) -> None:
    width, height = run["frame_size"]
    print(f"\n{width}x{height} tile_rows={run['tile_rows']}: {run['cpu_ms_per_frame']:.1f} ms CPU per frame", flush=True)
    print("score>= | " + " ".join(f"{s:>5}" for s in SIZES_PX) + " | false/face-frame false/empty-frame")
    for threshold, row in run["thresholds"].items():
        recalls = " ".join("    -" if r is None else f"{r:5.2f}" for r in row["recall_by_size_px"].values())
        print(f"{threshold:>7} | {recalls} | {row['false_per_face_frame']:16.2f} {row['false_per_empty_frame']:17.2f}",
              flush=True)


if __name__ == "__main__":
    main()
