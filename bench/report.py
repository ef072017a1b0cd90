"""Benchmark score --report (issue 18): an already embedded 2-hour video, its HTML report, subtitles, and the page
loaded in headless Chromium.

    python bench/report.py [--hours 2] [--segment-s 10] [--no-browser]

A real 2-hour video is written by ffmpeg (lavfi testsrc, 320x240, 2 frames/s, H.264 with a keyframe every
10 s) so that thumbnails are decoded from a real file; its features go into the store as `embed` stores them
(random 512-d vectors with a class signal changing every --segment-s seconds: VGG16 itself is not what is
measured). A logreg model with a training reference (the 'unlike the training videos' check) scores it.
Measured: score, the report without thumbnails (template, timeline, tables), the thumbnails (decoding and
JPEG), the WebVTT subtitles, the page's size and, with chromium and selenium, its load time. Prints a table
and one JSON line. Target: the report adds at most a few seconds beyond decoding thumbnails; under ~10 MB.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from classifiers.chain.familiarity import fit_reference  # noqa: E402
from classifiers.chain.persist import save_model  # noqa: E402
from classifiers.chain.smoothing import Smoother  # noqa: E402
from classifiers.output.report import report_html  # noqa: E402
from classifiers.output.subtitles import subtitle_text  # noqa: E402
from classifiers.score import score_videos  # noqa: E402
from classifiers.selection.registry import build_model  # noqa: E402
from featurestore import EmbeddingConfig, FeatureStore, fingerprint  # noqa: E402
from featurestore.provenance import library_versions  # noqa: E402

CLASSES = ["jerry", "neither", "tom"]


def make_video(path: Path, n_seconds: int) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size=320x240:rate=2:duration={n_seconds}",
                    "-c:v", "libx264", "-preset", "ultrafast", "-g", "20", "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


def load_in_browser(page: Path) -> float | None:
    """Seconds from navigation to the load event in headless Chromium; None without chromium or selenium."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        return None
    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not binary or not driver:
        return None
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                f"--user-data-dir={tempfile.mkdtemp(prefix='screentime-bench-chromium-')}"):
        options.add_argument(arg)
    browser = webdriver.Chrome(service=Service(driver), options=options)
    try:
        browser.get(page.as_uri())
        ms = browser.execute_script("const t = performance.getEntriesByType('navigation')[0]; return t.loadEventEnd - t.startTime;")
    finally:
        browser.quit()
    return float(ms) / 1000.0


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hours", type=float, default=2.0)
    p.add_argument("--segment-s", type=int, default=10, help="seconds between class changes (segments)")
    p.add_argument("--no-browser", action="store_true")
    args = p.parse_args(argv)
    n = int(args.hours * 3600)
    rng = np.random.default_rng(0)
    config = EmbeddingConfig(weights="random")
    with tempfile.TemporaryDirectory(prefix="screentime-bench-report-") as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        video = make_video(tmp / "two hours.mp4", n)
        t_video = time.perf_counter() - t0
        labels = np.repeat(rng.integers(0, 3, n // args.segment_s + 1), args.segment_s)[:n]
        X = (rng.normal(0, 1, (n, 512)) + rng.normal(0, 0.5, (3, 512))[labels]).astype(np.float32)
        t = np.arange(n, dtype=float)
        store = FeatureStore(tmp / "f.h5", mode="a", config=config.identity())
        store.put(video.name, requested_s=t, actual_s=t, features=X,
                  info={"sample_fps": 1.0, "duration_s": float(n), "fingerprint": fingerprint(video), "source_path": str(video)})
        model = build_model("logreg").fit(X[:3000], np.array(CLASSES)[labels[:3000]])
        reference = fit_reference(X[:3000]).with_threshold({"a": 1.0, "b": 1.1})
        model_path = save_model(tmp / "m.skops", pipeline=model, classes=list(model.classes_), embedding_config=config.identity(),
                                smoother=Smoother("hmm", 5.0), model_name="logreg", familiarity=reference)
        t0 = time.perf_counter()
        result = score_videos([video], model_path=model_path, store_path=tmp / "f.h5")
        t_score = time.perf_counter() - t0
        t0 = time.perf_counter()
        bare = report_html(result, thumbnails=False)
        t_bare = time.perf_counter() - t0
        t0 = time.perf_counter()
        page = report_html(result)
        t_full = time.perf_counter() - t0
        (tmp / "report.html").write_text(page, encoding="utf-8")
        t0 = time.perf_counter()
        subtitle_text(result.videos[0], "vtt")
        t_vtt = time.perf_counter() - t0
        load_s = None if args.no_browser else load_in_browser(tmp / "report.html")
        row = {"n_samples": n, "n_segments": len(result.videos[0].segments), "n_thumbnails": page.count("data:image/jpeg"),
               "video_s": t_video, "score_s": t_score, "report_without_thumbnails_s": t_bare, "report_s": t_full,
               "thumbnails_s": t_full - t_bare, "vtt_s": t_vtt, "page_mb": len(page.encode()) / 1e6,
               "page_without_thumbnails_mb": len(bare.encode()) / 1e6, "browser_load_s": load_s}
    print(f"report benchmark: one already embedded {args.hours:g}-hour video, {n} samples, "
          f"{row['n_segments']} segments, {row['n_thumbnails']} thumbnails")
    for key, value in row.items():
        print(f"  {key:28} {value if value is None else round(value, 3)}")
    ok = row["report_without_thumbnails_s"] < 5.0 and row["page_mb"] < 10.0
    print(f"{'PASS' if ok else 'FAIL'}  report beyond thumbnails {row['report_without_thumbnails_s']:.2f} s < 5 s, "
          f"page {row['page_mb']:.1f} MB < 10 MB")
    out = {"bench": "report", **row, "target_pass": ok,
           "machine": {"python": platform.python_version(), "platform": platform.platform()}, "versions": library_versions()}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
