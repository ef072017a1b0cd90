"""Fit every estimator on the training frames of every cross-validation fold, in worker processes with timeouts.

The fitted fold models come back to the caller, which scores them on the held-out videos through
`SavedModel.predict_video`, the same path `score` uses.

Folds run in worker processes (loky) when more than one core is used or a `timeout_s` is set, so a
fold that overruns can be abandoned by killing its worker; each worker gets cores // workers threads.
"""

from __future__ import annotations

import os
import tempfile
import time
import warnings
from collections import deque
from concurrent.futures import FIRST_COMPLETED, wait
from pathlib import Path
from typing import Mapping

import joblib
import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

_GRACE_S = 1.0  # polling, before the parent kills an overrunning fold
_IDLE_WORKER_S = 10.0  # a reusable worker left idle this long exits


def run_folds(estimators: Mapping[str, object], X, y, folds, *, timeout_s=None, n_jobs=-1, on_fit=None) -> dict:
    """Fit a clone of every estimator on the training frames of every fold.

    Returns name -> list (one per fold) of {"model": fitted estimator, "fit_s": seconds}, or a one-line
    reason (str) if any fold of that model raised or took longer than `timeout_s` to fit. `on_fit(1)` is called
    in this process as each of the len(estimators) x len(folds) fits ends (fitted, failed, or skipped since an
    earlier fold of its model failed).
    """
    on_fit = on_fit or (lambda n=1: None)
    tasks = deque((name, k) for name in estimators for k in range(len(folds)))
    n_workers = min(n_cpus(n_jobs), len(tasks))
    results: dict[str, list | str] = {name: [None] * len(folds) for name in estimators}
    if n_workers == 1 and timeout_s is None:
        with threadpool_limits(n_cpus(n_jobs)):
            for name, k in tasks:
                if not isinstance(results[name], str):
                    try:
                        results[name][k] = _fit_fold(estimators[name], X, y, folds[k][0], n_cpus(n_jobs))
                    except Exception as err:  # a failing model is reported, the others go on
                        results[name] = f"fold {k + 1}: {_reason(err)}"
                on_fit(1)
        return results
    threads = max(1, n_cpus(n_jobs) // n_workers)
    with tempfile.TemporaryDirectory(prefix="screentime-cv-") as tmp:
        x_path = Path(tmp) / "X.joblib"
        joblib.dump(np.asarray(X), x_path)
        _run_pool(estimators, x_path, y, folds, tasks, results, n_workers, threads, timeout_s, on_fit)
    return results


def _run_pool(estimators, x_path, y, folds, tasks, results, n_workers, threads, timeout_s, on_fit) -> None:
    """Run tasks in loky workers; a fold still fitting `timeout_s` (+ grace) after it started gets its pool killed.

    A worker touches a marker file when it starts fitting, so time spent starting workers is not charged.
    Workers are reused across calls (compare-models makes one call per per-video-stage candidate and
    one for all models); idle ones exit after a few seconds.
    """
    from joblib.externals.loky import get_reusable_executor

    env = {var: str(threads) for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    make_pool = lambda: get_reusable_executor(max_workers=n_workers, env=env, timeout=_IDLE_WORKER_S)  # noqa: E731
    pool, running, n_submitted = make_pool(), {}, 0
    try:
        while tasks or running:
            while tasks and len(running) < n_workers:
                name, k = tasks.popleft()
                if not isinstance(results[name], str):
                    marker = x_path.with_name(f"task-{n_submitted}.started")
                    n_submitted += 1
                    future = pool.submit(_fit_fold_file, estimators[name], str(x_path), y, folds[k][0], threads, str(marker))
                    running[future] = (name, k, marker)
                else:
                    on_fit(1)
            if not running:
                continue
            done, _ = wait(list(running), timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                name, k, _ = running.pop(future)
                on_fit(1)
                err = future.exception()
                if isinstance(results[name], str):
                    continue
                if err is not None:
                    results[name] = f"fold {k + 1}: {_reason(err)}"
                elif timeout_s is not None and future.result()["fit_s"] > timeout_s:
                    results[name] = f"fold {k + 1} took {future.result()['fit_s']:.3g} s to fit, over the {timeout_s:g} s timeout"
                else:
                    results[name][k] = future.result()
            late = [f for f, (_, _, marker) in running.items() if timeout_s is not None and _running_s(marker) > timeout_s + _GRACE_S]
            if late:
                for f in late:
                    name, k, _ = running.pop(f)
                    on_fit(1)
                    results[name] = f"fold {k + 1} did not finish fitting within the {timeout_s:g} s timeout"
                tasks.extendleft((name, k) for name, k, _ in running.values())  # innocent bystanders run again
                running = {}
                pool.shutdown(wait=False, kill_workers=True)
                pool = make_pool()
    except BaseException:  # Ctrl-C or a bug: no worker may outlive the run
        pool.shutdown(wait=True, kill_workers=True)
        raise


def _running_s(marker: Path) -> float:
    """Seconds since a worker touched `marker` (0 if it has not started)."""
    try:
        return time.time() - marker.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _fit_fold_file(estimator, x_path: str, y, train, threads: int, marker: str) -> dict:
    X = joblib.load(x_path, mmap_mode="r")
    with threadpool_limits(threads):
        Path(marker).touch()
        return _fit_fold(estimator, X, y, train, threads)


def _fit_fold(estimator, X, y, train, threads: int) -> dict:
    """Fit a clone of `estimator` on the rows `train`."""
    model = set_threads(clone(estimator), threads)
    t0 = time.perf_counter()
    with warnings.catch_warnings():  # in a worker it reaches the terminal raw; an MLP's epochs are its budget,
        warnings.simplefilter("ignore", ConvergenceWarning)  # and the fold's score says what they gave
        model.fit(np.asarray(X[train]), y[train])
    return {"model": model, "fit_s": time.perf_counter() - t0}


def set_threads(estimator, threads: int):
    """Give every `n_jobs` parameter that is set (LightGBM) the worker's share of cores; None ones stay unset."""
    params = [p for p, v in estimator.get_params(deep=True).items() if (p == "n_jobs" or p.endswith("__n_jobs")) and v is not None]
    return estimator.set_params(**{p: threads for p in params}) if params else estimator


def n_cpus(n_jobs: int) -> int:
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return available if n_jobs is None or n_jobs < 1 else min(n_jobs, available)



def _reason(err: BaseException) -> str:
    text = str(err).splitlines()[0] if str(err) else ""
    return f"{type(err).__name__}: {text}"[:200]
