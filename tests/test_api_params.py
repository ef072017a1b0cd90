"""The Python API checks its parameters at the door (issue 23): a wrong type raises `InvalidParameterType` (an
`InvalidParameter`, so a ValueError, and a TypeError), a value out of range `InvalidParameter`, each naming the
parameter, before any file is touched; empty lists of videos or labels files are refused.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import screentime
from featurestore.errors import InvalidParameter, InvalidParameterType

SCORE, EMBED, COMPARE = screentime.score, screentime.embed, screentime.compare_models

CASES = [  # (call, args, kwargs, the parameter named, a wrong type?)
    (SCORE, (123,), {}, "paths", True),
    (SCORE, ([],), {}, "paths", False),
    (SCORE, (["ep.mp4", 5],), {}, "paths", True),
    (SCORE, ("ep.mp4",), {"model": 123}, "model", True),
    (SCORE, ("ep.mp4",), {"store": 5}, "store", True),
    (SCORE, ("ep.mp4",), {"store": ""}, "store", False),
    (SCORE, ("ep.mp4",), {"fps": "fast"}, "fps", True),
    (SCORE, ("ep.mp4",), {"fps": 0}, "fps", False),
    (SCORE, ("ep.mp4",), {"interval_level": "0.9"}, "interval_level", True),
    (SCORE, ("ep.mp4",), {"interval_level": 1.0}, "interval_level", False),
    (SCORE, ("ep.mp4",), {"interval_level": float("nan")}, "interval_level", False),
    (SCORE, ("ep.mp4",), {"batch_size": "32"}, "batch_size", True),
    (SCORE, ("ep.mp4",), {"batch_size": 0}, "batch_size", False),
    (SCORE, ("ep.mp4",), {"batch_size": True}, "batch_size", True),
    (SCORE, ("ep.mp4",), {"smooth": 5}, "smooth", True),
    (SCORE, ("ep.mp4",), {"names": [1]}, "names", True),
    (SCORE, ("ep.mp4",), {"names": "ep"}, "names", True),
    (SCORE, ("ep.mp4",), {"replace": "yes"}, "replace", True),
    (SCORE, ("ep.mp4",), {"weights": 3}, "weights", True),
    (SCORE, ("ep.mp4",), {"progress": 1}, "progress", True),
    (EMBED, ([],), {}, "paths", False),
    (EMBED, ("ep.mp4",), {"fps": "fast"}, "fps", True),
    (EMBED, ("ep.mp4",), {"fps": -1.0}, "fps", False),
    (EMBED, ("ep.mp4",), {"fps": 10**400}, "fps", False),
    (EMBED, ("ep.mp4",), {"store": None}, "store", True),
    (EMBED, ("ep.mp4",), {"batch_size": "32"}, "batch_size", True),
    (EMBED, ("ep.mp4",), {"image_size_px": 224.0}, "image_size_px", True),
    (EMBED, ("ep.mp4",), {"image_size_px": 16}, "image_size_px", False),
    (EMBED, ("ep.mp4",), {"workers": -1}, "workers", False),
    (EMBED, ("ep.mp4",), {"names": [1]}, "names", True),
    (EMBED, ("ep.mp4",), {"pooling": 1}, "pooling", True),
    (COMPARE, ("f.h5", "l.csv"), {"folds": "5"}, "folds", True),
    (COMPARE, ("f.h5", "l.csv"), {"folds": 1}, "folds", False),
    (COMPARE, ("f.h5", "l.csv"), {"models": ["logreg", 5]}, "models", True),
    (COMPARE, ("f.h5", "l.csv"), {"models": 5}, "models", True),
    (COMPARE, ("f.h5", "l.csv"), {"seed": "x"}, "seed", True),
    (COMPARE, ("f.h5", "l.csv"), {"seed": -1}, "seed", False),
    (COMPARE, ("f.h5", "l.csv"), {"multi_label": "yes"}, "multi_label", True),
    (COMPARE, ("f.h5", "l.csv"), {"context_s": -1.0}, "context_s", False),
    (COMPARE, ("f.h5", "l.csv"), {"context_s": "wide"}, "context_s", True),
    (COMPARE, ("f.h5", "l.csv"), {"n_jobs": 1.5}, "n_jobs", True),
    (COMPARE, ("f.h5", "l.csv"), {"out": 5}, "out", True),
    (COMPARE, ("f.h5", "l.csv"), {"classes": [0, 1]}, "classes", True),
    (COMPARE, ("f.h5", "l.csv"), {"none_label": 0}, "none_label", True),
    (COMPARE, ("f.h5", []), {}, "labels", False),
    (COMPARE, (None, "l.csv"), {}, "store", True),
]


@pytest.mark.parametrize("call, args, kwargs, param, wrong_type", CASES,
                         ids=[f"{c[0].__name__}-{c[3]}-{i}" for i, c in enumerate(CASES)])
def test_a_bad_parameter_is_refused_at_the_door_naming_it(tmp_path, monkeypatch, call, args, kwargs, param, wrong_type):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidParameter) as err:
        call(*args, **kwargs)
    assert err.value.param == param and str(err.value).startswith(f"{param}: ") and "\n" not in str(err.value)
    assert isinstance(err.value, ValueError)
    assert isinstance(err.value, TypeError) == wrong_type and isinstance(err.value, InvalidParameterType) == wrong_type
    assert list(Path(tmp_path).iterdir()) == []  # refused before any file was made


def test_type_errors_read_as_the_caller_wrote_them():
    with pytest.raises(TypeError, match=r"^fps: must be a number, got 'fast'$"):
        screentime.score("ep.mp4", fps="fast")
    with pytest.raises(TypeError, match=r"^models: item 1 is 5, not a str$"):
        screentime.compare_models("f.h5", "l.csv", models=["logreg", 5])
    with pytest.raises(ValueError, match=r"^paths: is empty; give at least one video"):
        screentime.embed([])
