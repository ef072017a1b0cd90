"""`python cli.py demo --faces`: the whole job on composed videos of real faces, the truth beside the result."""

import re

import pytest

from cartoons.cast import CAST
from conftest import run_cli as run


@pytest.mark.slow
def test_demo_faces_quick_runs_end_to_end(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))  # no cached ImageNet VGG16: a packaged backbone, offline
    demo_dir = tmp_path / "demo"
    code, out, err = run(["demo", "--faces", "--out", str(demo_dir), "--quick"], capsys)
    assert code == 0, err
    assert "predicted vs true screen time" in out and "test_0.mp4" in out
    shown = set(re.findall(r"│ (\w+)\s+│\s+[\d.]+ │\s+[\d.]+ │\s+[+-]", out))
    assert shown & set(CAST), out  # the actors' rows, beside their truth
    for path in (demo_dir / "labels.csv", demo_dir / "faces_truth.csv", demo_dir / "best-faces.skops",
                 demo_dir / "result.json", demo_dir / "report.html"):
        assert path.is_file(), path
    assert re.search(r"score .*--faces", out) and re.search(r"compare-models .*--faces", out)
