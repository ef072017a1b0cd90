"""The hour bench of `bench/faces.py --hour`: one hour of 640x360 video with up to 3 faces, the whole `embed --faces`
command run on it as a user runs it, and the detector + embedder limit measured on frames of the same video.

The video is cheap to make: 5 frames/s (the command samples 1/s), shots of 4..12 s, each a new composed background
(`_face_frames.compose`) with 0..3 faces from cartoons/photos drifting slowly; written once by OpenCV (mp4v) and
kept in the work folder. The command runs in a child process (`python cli.py embed VIDEO --store S --faces ...`):
wall time and the child's CPU time (user + system, every worker and thread) are taken around it.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from _face_frames import FaceSource, compose, paste_face

REPO = Path(__file__).resolve().parents[1]
SIZES_360P_PX = (40, 56, 72, 96, 128)
FACE_COUNTS, FACE_COUNT_P = (0, 1, 2, 3), (0.1, 0.2, 0.3, 0.4)  # "up to 3 faces": 2 a sample on average
HOUR_FPS = 5.0


def hour_video(path: Path, sources, *, duration_s: float = 3600.0, fps: float = HOUR_FPS, size=(640, 360),
               seed: int = 0) -> dict:
    """Write the video (once: reused when `path` and its .json exist for these parameters); its description."""
    params = {"duration_s": duration_s, "fps": fps, "size": list(size), "seed": seed, "version": 1}
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists() and json.loads(meta.read_text()).get("params") == params:
        return json.loads(meta.read_text())
    rng = np.random.default_rng(seed)
    width, height = size
    t0 = time.perf_counter()
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    n_frames, frame, faces_per_frame, n_shots = int(round(duration_s * fps)), 0, [], 0
    while frame < n_frames:
        shot_frames = min(int(round(rng.uniform(4.0, 12.0) * fps)), n_frames - frame)
        scene = compose(rng, sources, width, height, [])
        n = int(rng.choice(FACE_COUNTS, p=FACE_COUNT_P))
        people = [(_scaled(sources[int(rng.integers(len(sources)))], float(rng.choice(SIZES_360P_PX))),
                   rng.uniform(0.05, 0.75, 2) * (width, height), rng.normal(0, 20, 2)) for _ in range(n)]
        for i in range(shot_frames):
            image = scene.frame_bgr.copy()
            for (source, size_px), (x, y), (vx, vy) in people:
                paste_face(image, source, size_px, int(np.clip(x + vx * i / fps, 0, width - size_px)),
                           int(np.clip(y + vy * i / fps, 0, height - size_px)))
            writer.write(image)
        faces_per_frame += [n] * shot_frames
        frame, n_shots = frame + shot_frames, n_shots + 1
    writer.release()
    out = {"params": params, "path": str(path), "n_shots": n_shots, "pasted_faces_per_frame": float(np.mean(faces_per_frame)),
           "write_s": time.perf_counter() - t0, "bytes": path.stat().st_size}
    meta.write_text(json.dumps(out))
    return out


def _scaled(source: FaceSource, size_px: float) -> tuple[FaceSource, float]:
    """`source` resized once so its face box is `size_px` high (pasting it each frame is then a cheap copy)."""
    scale = size_px / source.box[3]
    image = cv2.resize(source.image_bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return FaceSource(source.person, image, source.box * scale), float(source.box[3] * scale)


def limit_on_video(path: Path, analyser, *, n_frames: int = 300, seed: int = 0) -> dict:
    """The detector + embedder limit on `n_frames` frames of the video at random sample times, one thread, CPU s:
    t_detect per frame and t_embed (alignment + descriptor) per face found; limit per sample = t_detect + n t_embed."""
    from featurestore.video.pyav import AvVideoReader

    reader = AvVideoReader(path)
    duration_s = float(reader.info.duration_estimate_s)
    n = min(n_frames, int(duration_s) - 1)
    times = np.sort(np.random.default_rng(seed).choice(int(duration_s) - 1, n, replace=False)).astype(float)
    frames = reader.frames_at(times)
    n_frames = len(frames)
    analyser.analyse(frames[0])  # warm up
    detect_s = embed_s = 0.0
    n_faces = 0
    for frame in frames:
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        t0 = time.process_time()
        found = analyser.detector.detect(rgb)
        t1 = time.process_time()
        analyser.embedder.embed_chips(analyser.embedder.align(rgb, found.box))
        t2 = time.process_time()
        detect_s, embed_s, n_faces = detect_s + t1 - t0, embed_s + t2 - t1, n_faces + len(found.box)
    per_sample_s = (detect_s + embed_s) / n_frames
    return {"n_frames": n_frames, "faces_per_sample": n_faces / n_frames, "detect_ms": 1000 * detect_s / n_frames,
            "embed_ms_per_face": 1000 * embed_s / max(1, n_faces), "limit_ms_per_sample_1_core": 1000 * per_sample_s}


def run_embed(video: Path, store: Path, options: list[str], *, faces: bool = True) -> dict:
    """`python cli.py embed VIDEO --store STORE --faces OPTIONS` (`faces` False: without --faces) in a child
    process: wall s, CPU s, its output."""
    command = [sys.executable, str(REPO / "cli.py"), "embed", str(video), "--store", str(store),
               *(["--faces"] if faces else []), *options]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall_s = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return {"command": " ".join(["python cli.py", *command[2:]]), "wall_s": wall_s, "cpu_s": cpu_s,
            "n_faces": stored_faces(store) if faces else None,
            "stdout_tail": done.stdout[-600:], "stderr_tail": done.stderr[-600:]}


def stored_faces(store: Path) -> int:
    """Faces the store holds, over its videos: the work the detector + embedder limit of a run is priced on."""
    from featurestore import FeatureStore

    fs = FeatureStore(store)
    return int(sum(len(fs.faces(v)) for v in fs.video_ids()))


def cuts_cost(video: Path) -> dict:
    """PySceneDetect alone on the video (every frame decoded again): wall and CPU s of this process."""
    from featurestore.video.shots import detect_cuts

    t0, c0 = time.perf_counter(), time.process_time()
    cuts = detect_cuts(video)
    return {"wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0, "n_cuts": int(len(cuts))}


def hour_rows(video_meta: dict, limit: dict, runs: dict, n_samples: int, n_cores: int) -> list[dict]:
    """One row per command run: wall, samples/s, the limit on `n_cores` priced on the faces the run stored (the
    detector per sample, the embedder per face it found), ratio, minutes per video hour; the CPU
    ratio is the detector + embedder's CPU seconds for the samples over the command's (what the ratio would be on
    cores the command had to itself: a busy machine slows the wall clock, far less the CPU time)."""
    duration_h = video_meta["params"]["duration_s"] / 3600.0
    rows = []
    for name, r in runs.items():
        faces_per_sample = r["n_faces"] / n_samples if r.get("n_faces") is not None else limit["faces_per_sample"]
        per_sample_ms = limit["detect_ms"] + limit["embed_ms_per_face"] * faces_per_sample  # the run's own faces
        limit_per_s = n_cores * 1000.0 / per_sample_ms
        rows.append({"run": name, "wall_s": r["wall_s"], "cpu_s": r["cpu_s"], "samples_per_s": n_samples / r["wall_s"],
                     "faces_per_sample": faces_per_sample, "limit_ms_per_sample_1_core": per_sample_ms,
                     "limit_samples_per_s": limit_per_s, "ratio": n_samples / r["wall_s"] / limit_per_s,
                     "cpu_ratio": n_samples * per_sample_ms / 1000.0 / r["cpu_s"],
                     "wall_min_per_video_hour": r["wall_s"] / 60.0 / duration_h,
                     "cpu_min_per_video_hour": r["cpu_s"] / 60.0 / duration_h})
    return rows


def print_hour_table(rows: list[dict], limit: dict, n_cores: int) -> None:
    print(f"\nlimit: detector {limit['detect_ms']:.1f} ms/frame + embedder {limit['embed_ms_per_face']:.1f} ms/face "
          f"(CPU time, {limit['n_frames']} frames of the same video, {limit['faces_per_sample']:.2f} faces/frame there) "
          f"x the faces/sample each run stored, on one core; x {n_cores} cores")
    print("| run | wall s | CPU s | faces/sample | limit ms/sample | samples/s | limit samples/s | ratio | CPU ratio | "
          "wall min per video hour | CPU min per video hour |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['run']} | {r['wall_s']:.0f} | {r['cpu_s']:.0f} | {r['faces_per_sample']:.2f} | "
              f"{r['limit_ms_per_sample_1_core']:.1f} | {r['samples_per_s']:.2f} | "
              f"{r['limit_samples_per_s']:.2f} | {r['ratio']:.2f} | {r['cpu_ratio']:.2f} | {r['wall_min_per_video_hour']:.1f} | "
              f"{r['cpu_min_per_video_hour']:.1f} |", flush=True)
