"""Interlaced footage (docs/faces.md#interlaced-video): faces and frame features of 576i video as decoded (two fields
woven), deinterlaced by screentime's reader (bwdif, featurestore.video.fields) and by other ways, against the
progressive frames the fields came from; and what deinterlacing costs per decoded frame and per sample.

A 50 fps progressive source (8 s, 720 x 576, lossless) of four held-out face photos (cartoons.cast, split 'test'),
60-140 px, moving 2-10 px a field over a backdrop panning 1.5 px a field, is interlaced by ffmpeg's `interlace`
filter (the first field from frame 2k, the second from 2k + 1) and encoded as H.264 and MPEG-2 in MPEG-TS (top
field first) and DV in AVI (bottom field first); a progressive 25 fps H.264 copy measures the codec alone. Every
other frame (100 per video) is compared with 50p frame 2k: face recall (IoU >= 0.4 with the truth boxes), dlib
descriptor distance of each face to the same face in the progressive frame, and the cosine of the frame features
(`--backbone`, ImageNet weights) to the progressive frame's.

    python bench/interlace.py [--work-dir /tmp/interlace] [--backbone squeezenet]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import av
import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import log  # noqa: E402
from _face_frames import match  # noqa: E402

from cartoons.backdrops import backdrop  # noqa: E402
from cartoons.cast import faces_of, sprite  # noqa: E402
from cartoons.compositing import face_box, face_warp, paste  # noqa: E402
from featurestore.faces.boxes import box_iou  # noqa: E402
from featurestore.video import pyav  # noqa: E402
from featurestore.video.pyav import AvVideoReader  # noqa: E402

W, H, N = 720, 576, 400  # 8 s at 50 fps
MOVES = [(70, 3, 80, 150), (100, 6, 600, 380), (140, 10, 100, 330), (60, 2, 400, 120)]  # face px, px/field, x, y
ENCODE = {
    "prog25.mp4": ["-vf", "select='not(mod(n,2))',setpts=N/25/TB", "-r", "25", "-c:v", "libx264", "-crf", "20"],
    "h264i.ts": ["-vf", "interlace=scan=tff", "-c:v", "libx264", "-crf", "20", "-flags", "+ilme+ildct", "-x264opts", "tff=1"],
    "mpeg2i.ts": ["-vf", "interlace=scan=tff", "-c:v", "mpeg2video", "-b:v", "8M", "-flags", "+ilme+ildct", "-top", "1"],
    "dvi.avi": ["-vf", "interlace=scan=bff,setfield=bff", "-c:v", "dvvideo"],
}


def render(work: Path) -> list:
    """The 50p source and its truth (face boxes per frame), then the encodings of ENCODE."""
    rng = np.random.default_rng(0)
    big = backdrop("room:garden", W + 600, H, rng).astype(np.float32)
    cast = faces_of("test", cast=True)
    people = [(p, sprite(cast[p][0])) for p in list(cast)[:4]]
    src = work / "src50p.mkv"
    ff = subprocess.Popen(["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{W}x{H}", "-r",
                           "50", "-i", "-", "-c:v", "ffv1", "-pix_fmt", "yuv444p", str(src)], stdin=subprocess.PIPE)
    truth = []
    for k in range(N):
        x0 = int(1.5 * k) % 600
        frame, rows, span = big[:, x0:x0 + W].copy(), [], W - 160
        for (h, v, sx, sy), (person, s) in zip(MOVES, people):
            cx = 80 + (sx - 80 + v * k) % (2 * span)
            cx = cx if cx - 80 <= span else 80 + 2 * span - (cx - 80)  # back and forth
            cy = sy + 8 * np.sin(k / 10)
            paste(frame, s, face_warp(s, (cx, cy), h), 1.0)
            rows.append([float(b) for b in face_box(s, (cx, cy), h)])
        ff.stdin.write(np.clip(frame, 0, 255).astype(np.uint8).tobytes())
        truth.append(rows)
    ff.stdin.close()
    ff.wait()
    for name, args in ENCODE.items():
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(src), *args, "-pix_fmt", "yuv420p", str(work / name)],
                       check=True)
    return truth


def _graph(stream, spec: list):
    graph = av.filter.Graph()
    node = graph.add_buffer(template=stream)
    for name, args in spec + [("buffersink", "")]:
        nxt = graph.add(name, args) if args else graph.add(name)
        node.link_to(nxt)
        node = nxt
    graph.configure()
    return graph


def _pulled(graph) -> list:
    out = []
    while True:
        try:
            out.append(graph.pull())
        except (av.BlockingIOError, av.EOFError):
            return out


def decoded(path: Path, method: str) -> tuple[list, float, float]:
    """Every other frame as BGR, decoded `method`-wise; ms per decoded frame in the filter, ms per used image."""
    if method in ("as decoded", "bwdif (screentime)"):  # the project's reader, with or without deinterlacing
        keep = pyav.deinterlaced
        if method == "as decoded":
            pyav.deinterlaced = lambda frames, done: frames
        try:
            images = [s.frame for s in AvVideoReader(path).sample(12.5)]
        finally:
            pyav.deinterlaced = keep
        return images, float("nan"), float("nan")
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames, filter_s = list(container.decode(stream)), 0.0
        if method in ("bwdif", "yadif"):
            graph, t0 = _graph(stream, [(method, "mode=send_frame:parity=auto:deint=interlaced")]), time.perf_counter()
            out = []
            for frame in frames + [None]:
                graph.push(frame)
                out += _pulled(graph)
            frames, filter_s = out, time.perf_counter() - t0
        images, used_s = [], 0.0
        fields = _graph(stream, [("separatefields", "")]) if method == "first field" else None
        for frame in frames[::2]:
            t0 = time.perf_counter()
            if fields is not None:  # the first field in time, its lines doubled: no neighbour frames needed
                fields.push(frame)
                image = cv2.resize(_pulled(fields)[0].to_ndarray(format="bgr24"), (W, H), interpolation=cv2.INTER_LINEAR)
            else:
                image = frame.to_ndarray(format="bgr24")
            used_s += time.perf_counter() - t0
            images.append(image)
        return images, filter_s * 1e3 / max(1, len(frames)), used_s * 1e3 / len(images)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/interlace"))
    parser.add_argument("--backbone", default="squeezenet")
    args = parser.parse_args()
    args.work_dir.mkdir(parents=True, exist_ok=True)
    from featurestore.embedding.config import EmbeddingConfig
    from featurestore.embedding.runtime import build_embedder
    from featurestore.faces.analyser import build_face_analyser

    log("rendering")
    truth = render(args.work_dir)
    analyser = build_face_analyser()
    embedder = build_embedder(EmbeddingConfig(weights="imagenet", backbone=args.backbone))
    with av.open(str(args.work_dir / "src50p.mkv")) as c:
        reference = [f.to_ndarray(format="bgr24") for i, f in enumerate(c.decode(video=0)) if i % 4 == 0]

    def features(images):
        return np.concatenate([embedder.embed(embedder.preprocess(images[i:i + 16])) for i in range(0, len(images), 16)])

    ref_faces, ref_features = [analyser.analyse(im) for im in reference], features(reference)
    rows = []
    for name in ENCODE:
        methods = ["as decoded"] if name.startswith("prog") else ["as decoded", "bwdif (screentime)", "first field",
                                                                    "bwdif", "yadif"]
        for method in methods:
            images, filter_ms, used_ms = decoded(args.work_dir / name, method)
            images = images[:len(reference)]
            hits = total = 0
            dist = []
            for j, (image, ref) in enumerate(zip(images, ref_faces)):
                found = analyser.analyse(image)
                boxes = np.array(truth[4 * j], np.float32)
                scale = np.array([W, H, W, H], np.float32)
                hit, _ = match(found.box * scale, boxes)
                hits, total = hits + int(hit.sum()), total + len(boxes)
                for t in range(len(boxes)):
                    if len(found) and len(ref):
                        a, b = box_iou(boxes[t:t + 1], found.box * scale)[0], box_iou(boxes[t:t + 1], ref.box * scale)[0]
                        if a.max() >= 0.4 and b.max() >= 0.4:
                            dist.append(float(np.linalg.norm(found.embedding[a.argmax()] - ref.embedding[b.argmax()])))
            f = features(images)
            cos = np.sum(f * ref_features, 1) / np.linalg.norm(f, axis=1) / np.linalg.norm(ref_features, axis=1)
            rows.append({"video": name, "decoding": method, "recall": hits / total, "descriptor_distance_median":
                         float(np.median(dist)), "descriptor_distance_p90": float(np.percentile(dist, 90)),
                         "cosine_median": float(np.median(cos)), "cosine_min": float(cos.min()),
                         "filter_ms_per_decoded_frame": filter_ms, "ms_per_used_image": used_ms})
            r = rows[-1]
            print(f"{name:11s} {method:19s} recall {r['recall']:.3f}  descriptor distance median {r['descriptor_distance_median']:.3f} "
                  f"p90 {r['descriptor_distance_p90']:.3f}  cosine median {r['cosine_median']:.4f} min {r['cosine_min']:.4f}  "
                  f"filter {filter_ms:.2f} ms/decoded frame, {used_ms:.2f} ms/used image", flush=True)
    (args.work_dir / "interlace.json").write_text(json.dumps(rows, indent=1))
    log("timing")
    timing(args.work_dir)


def timing(work: Path) -> None:
    """ms per sample (1/s) of screentime's reader, exact and fast, with and without deinterlacing: 576i and 1080i."""
    hd = work / "h264i_1080.ts"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(work / "src50p.mkv"), "-vf",
                    "scale=1920:1080,interlace=scan=tff", "-c:v", "libx264", "-crf", "20", "-flags", "+ilme+ildct",
                    "-x264opts", "tff=1", "-pix_fmt", "yuv420p", str(hd)], check=True)
    keep = pyav.deinterlaced
    for path in (work / "h264i.ts", work / "mpeg2i.ts", work / "dvi.avi", hd):
        for mode in ("exact", "fast"):
            times = {}
            for label in ("as decoded", "deinterlaced", "as decoded ", "deinterlaced "):  # twice each, best kept
                pyav.deinterlaced = keep if label.startswith("deinterlaced") else (lambda frames, done: frames)
                t0 = time.perf_counter()
                n = sum(1 for _ in AvVideoReader(path, mode, threads=1).sample(1.0))
                times[label.strip()] = min(times.get(label.strip(), 1e9), (time.perf_counter() - t0) * 1e3 / n)
            pyav.deinterlaced = keep
            print(f"{path.name:16s} {mode:5s} ms/sample (1 sample/s, 1 thread): as decoded {times['as decoded']:.1f}, "
                  f"deinterlaced {times['deinterlaced']:.1f}", flush=True)


if __name__ == "__main__":
    main()
