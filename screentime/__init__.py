"""screentime: how long each character is on screen. The Python API, and the command line's home.

    import screentime
    screentime.embed(["ep1.mp4", "ep2.mp4"], store="features.h5")
    screentime.compare_models("features.h5", "labels.csv", out="best.skops")
    result = screentime.score(["ep3.mp4"], model="best.skops", store="features.h5")
    result.to_pandas().totals, result.to_json()

The names load with their module on first use (featurestore/lazy.py), so the command line (cli.py, run by
`python -m screentime` and the `screentime` command) starts without the heavy libraries.
"""

from featurestore.lazy import lazy_names

_MODULES = {
    ".api": ("embed", "compare_models", "score", "cluster"),
    ".results": ("EmbedResult", "Comparison", "Score", "ScoreFrames", "Clusters"),
}
__all__, __getattr__, __dir__ = lazy_names(__name__, _MODULES)
