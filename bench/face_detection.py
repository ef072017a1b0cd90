"""How well BlazeFace full-range finds faces of each size, per small-face strategy (FaceConfig.tile_rows,
work_height_px, tile_px) and score threshold: recall by face height, false faces per frame (on face-free frames and
on frames with faces), and the detector's CPU time per frame, at 640x360 to 3840x2160. Frames are composed from
cartoons/photos (bench/_face_frames.py). --decode: what decoding a second of H.264 video at each size and
converting its sample to BGR costs per sample at 1 sample/s (bench/scale.py's row_decode_cpu).

    python bench/face_detection.py [--frames 60] [--empty 40] [--seed 0] [--sizes 360,720,1080,2160]
                                   [--policies rows0,rows1,rows2,rows3,w720,w1080-t432,t432] [--decode] [--json out.json]

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

from _face_frames import background, compose, face_sources, match, paste_face  # noqa: I001  (bench/ is on sys.path when run as a script)
from featurestore.faces.config import FaceConfig
from featurestore.faces.detector import BlazeFaceDetector

SIZES_PX = (24, 32, 40, 48, 64, 96, 140, 200)  # face heights at 640x360 and 1280x720 (the first measurements)
SIZES_HD_PX = SIZES_PX + (280, 400)  # at 1920x1080 and 3840x2160
RESOLUTIONS = {360: (640, 360), 720: (1280, 720), 1080: (1920, 1080), 2160: (3840, 2160)}
#: name -> FaceConfig fields: rowsN: N rows of tiles over the full frame (tile_rows=2 is the first default);
#: wH: downscaled to H px high first; tP: tiles at most P px (more rows in taller frames).
POLICIES = {
    "rows0": {"tile_rows": 0}, "rows1": {"tile_rows": 1}, "rows2": {"tile_rows": 2}, "rows3": {"tile_rows": 3},
    "w720": {"tile_rows": 2, "work_height_px": 720},
    "w1080-t432": {"tile_rows": 2, "work_height_px": 1080, "tile_px": 432},
    "w1440-t432": {"tile_rows": 2, "work_height_px": 1440, "tile_px": 432},
    "t432": {"tile_rows": 2, "tile_px": 432},
}
THRESHOLDS = (0.4, 0.5, 0.6, 0.7)
LOWEST = min(THRESHOLDS)


def sizes_for(height: int) -> tuple[int, ...]:
    return SIZES_PX if height <= 720 else SIZES_HD_PX


def frames_for(rng, sources, width, height, n_frames, n_empty):
    """n_frames frames of 3 faces (heights drawn from sizes_for(height) that fit), then n_empty face-free frames."""
    fitting = [s for s in sizes_for(height) if s <= 0.6 * height]
    frames = [compose(rng, sources, width, height, list(rng.choice(fitting, 3))) for _ in range(n_frames)]
    return frames + [compose(rng, sources, width, height, []) for _ in range(n_empty)]


def evaluate(detector, frames, sizes_px) -> dict:
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
        by_size = {s: [0, 0] for s in sizes_px}
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
    parser.add_argument("--sizes", default="360,720,1080,2160", help="frame heights, from " + ",".join(map(str, RESOLUTIONS)))
    parser.add_argument("--policies", default=",".join(POLICIES), help="from " + ",".join(POLICIES))
    parser.add_argument("--decode", action="store_true", help="also time decoding + conversion per sample at each size")
    parser.add_argument("--descriptors", metavar="POLICY",
                        help="also: each photo's face pasted at DESCRIPTOR_SIZES_PX into a frame of each size, analysed "
                             "under POLICY: its descriptor's distance from the photo's own, its quality")
    parser.add_argument("--json", help="write the results here too")
    args = parser.parse_args(argv)
    heights = [int(h) for h in args.sizes.split(",")]
    sources = face_sources(BlazeFaceDetector(FaceConfig(tile_rows=0, min_size_px=0)))
    results = {"machine": platform.processor() or platform.machine(), "n_sources": len(sources), "runs": [],
               "decode": []}
    for height in heights:
        width = RESOLUTIONS[height][0]
        frames = frames_for(np.random.default_rng(args.seed), sources, width, height, args.frames, args.empty)
        for name in filter(None, args.policies.split(",")):
            detector = BlazeFaceDetector(FaceConfig(**POLICIES[name], min_score=LOWEST, min_size_px=0))
            run = {"frame_size": [width, height], "policy": name, **POLICIES[name],
                   **evaluate(detector, frames, sizes_for(height))}
            results["runs"].append(run)
            print_run(run)
    if args.descriptors:
        results["descriptors"] = descriptor_check(sources, heights, args.descriptors, args.seed)
    if args.decode:
        for height in heights:
            results["decode"].append(decode_cost(*RESOLUTIONS[height]))
            print(results["decode"][-1], flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)


DESCRIPTOR_SIZES_PX = (40, 60, 80, 120, 200, 300)


def descriptor_check(sources, heights, policy: str, seed: int) -> list[dict]:
    """Per frame size and face height, over the photos: recall, and where found the median distance of the face's
    descriptor from the photo's own at full resolution (dlib: < 0.6 the same person), median quality, sharpness."""
    from featurestore.faces import build_face_analyser
    from featurestore.faces.boxes import box_iou

    whole = build_face_analyser(FaceConfig(tile_rows=0, min_size_px=0))
    own = [whole.analyse(source.image_bgr).embedding[0] for source in sources]
    analyser = build_face_analyser(FaceConfig(**POLICIES[policy]))
    rows = []
    for height in heights:
        width = RESOLUTIONS[height][0]
        base = background(np.random.default_rng(seed), width, height)
        for size in (s for s in DESCRIPTOR_SIZES_PX if s <= 0.6 * height):
            dist, quality, sharp = [], [], []
            for source, reference in zip(sources, own):
                frame = base.copy()
                truth = paste_face(frame, source, size, width // 3, height // 3)
                faces = analyser.analyse(frame)
                boxes = faces.box * np.array([width, height, width, height], np.float32)
                ious = box_iou(truth[None], boxes)[0] if len(faces) else np.zeros(0)
                if len(ious) and ious.max() >= 0.4:
                    k = int(ious.argmax())
                    dist.append(float(np.linalg.norm(faces.embedding[k] - reference)))
                    quality.append(float(faces.quality[k]))
                    sharp.append(float(faces.sharpness[k]))
            row = {"frame_size": [width, height], "policy": policy, "size_px": size, "n": len(sources),
                   "found": len(dist), "median_distance": float(np.median(dist)) if dist else None,
                   "median_quality": float(np.median(quality)) if dist else None,
                   "median_sharpness": float(np.median(sharp)) if dist else None}
            rows.append(row)
            print(row, flush=True)
    return rows


#: H.264 bitrates of footage at each height, Mbit/s: YouTube's recommended SDR upload rates at 24-30 fps.
BITRATE_MBIT = {360: 1, 720: 5, 1080: 8, 2160: 35}


def decode_cost(width: int, height: int, seconds: float = 4.0, fps: int = 25) -> dict:
    """CPU ms per sample at 1 sample/s (one decoder thread) of `seconds` of moving noisy H.264 at this size and
    BITRATE_MBIT: the decoder alone and the reader (decoder + the sampled frame converted to BGR), exact and fast."""
    import tempfile
    from pathlib import Path

    import av
    from _videos import dense_frames
    from scale import row_decode_cpu

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "v.mp4"
        with av.open(str(path), "w") as out:
            stream = out.add_stream("libx264", rate=fps)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.bit_rate = BITRATE_MBIT[height] * 1_000_000
            stream.options = {"preset": "veryfast"}
            for frame in dense_frames(seconds, fps, (width, height)):
                for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
        row = row_decode_cpu(path, repeats=2)
        mb = path.stat().st_size / 1e6
    result = {"frame_size": [width, height], "fps": fps, "mbit_per_s": 8 * mb / seconds}
    for mode in ("exact", "fast"):
        n = row[mode]["samples"]
        result[mode] = {"reader_ms_per_sample": 1000 * row[mode]["cpu_s"] / n,
                        "decoder_ms_per_sample": 1000 * row[mode]["decoder_cpu_s"] / n,
                        "frames_decoded": row[mode]["frames_decoded"], "samples": n}
    return result


def print_run(run: dict) -> None:
    width, height = run["frame_size"]
    sizes = sizes_for(height)
    print(f"\n{width}x{height} {run['policy']}: {run['cpu_ms_per_frame']:.1f} ms CPU per frame", flush=True)
    print("score>= | " + " ".join(f"{s:>5}" for s in sizes) + " | false/face-frame false/empty-frame")
    for threshold, row in run["thresholds"].items():
        recalls = " ".join("    -" if r is None else f"{r:5.2f}" for r in row["recall_by_size_px"].values())
        print(f"{threshold:>7} | {recalls} | {row['false_per_face_frame']:16.2f} {row['false_per_empty_frame']:17.2f}",
              flush=True)


if __name__ == "__main__":
    main()
