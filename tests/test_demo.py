"""`python cli.py demo --quick`: the README's main job runs end to end and shows the truth beside the result."""

import re

from cli import main


def test_demo_quick_runs_end_to_end(tmp_path, capsys):
    try:
        main(["demo", "--out", str(tmp_path / "demo"), "--quick", "--weights", "random"])
        code = 0
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "predicted vs true screen time" in out and "test_0.mp4" in out
    # predicted seconds of the three classes add up to the 20 s video
    predicted = [float(x) for x in re.findall(r"│ (?:jerry|neither|tom)\s+│\s+([\d.]+) │\s+[\d.]+ │\s+[+-]", out)]
    assert len(predicted) == 3 and abs(sum(predicted) - 20.0) < 0.2
    assert (tmp_path / "demo" / "best.joblib").is_file() and (tmp_path / "demo" / "labels.csv").is_file()
    assert "RANDOM weights" in err  # the weights used are announced
