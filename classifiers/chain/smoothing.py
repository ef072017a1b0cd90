"""Temporal smoothing of per-frame class probabilities before the label is chosen.

A `Smoother` is a small value object: `method` plus one parameter in seconds. It is a candidate inside
compare-models' cross-validation, saved with the model (`to_dict`), and applied by score (`transform`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

METHODS = ("none", "median", "mean", "hmm")

# Default parameter (seconds) when the text form gives none, e.g. "median" or "hmm".
DEFAULT_WINDOW_S = {"median": 5.0, "mean": 5.0, "hmm": 10.0}

# "hmm" treats the classifier as right with probability 1 - HMM_NOISE and otherwise uniform, so a frame
# with probability 0 for the true class cannot alone force a switch (classifiers do output hard zeros).
HMM_NOISE = 0.1


@dataclass(frozen=True)
class Smoother:
    """Smooth probabilities of one video over time.

    Parameters
    ----------
    method : {"none", "median", "mean", "hmm"}
        "median": running median of each class's probability over a centred window of `window_s`.
        "mean": running mean over the same window.
        "hmm": posterior of a sticky hidden Markov chain over the classes (forward-backward). The chain
        leaves its class at rate 1 / `window_s`, i.e. `window_s` is the expected segment length; the
        classifier's probabilities are the emissions. Isolated flips are removed, long runs kept.
    window_s : float
        Window length, or expected segment length for "hmm", in seconds (ignored by "none").
    """

    method: str = "none"
    window_s: float = 0.0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown smoothing method {self.method!r}; known: {', '.join(METHODS)}")
        if self.method != "none" and not self.window_s > 0:
            raise ValueError(f"smoothing {self.method!r} needs window_s > 0, got {self.window_s}")

    @property
    def name(self) -> str:
        """Short label such as 'none' or 'median:5s' (also accepted by `parse_smoother`)."""
        return "none" if self.method == "none" else f"{self.method}:{self.window_s:g}s"

    def transform(self, proba: np.ndarray, step_s: float) -> np.ndarray:
        """Smooth the class probabilities of one video.

        Parameters
        ----------
        proba : ndarray of shape (n_frames, n_classes)
            Per-frame class probabilities, frames in time order.
        step_s : float
            Time between consecutive frames, in seconds (1 / sample_fps).

        Returns
        -------
        ndarray of shape (n_frames, n_classes), float64
            Smoothed probabilities; rows sum to 1.
        """
        proba = np.asarray(proba, dtype=np.float64)
        if proba.ndim != 2:
            raise ValueError(f"proba must have shape (n_frames, n_classes), got shape {proba.shape}")
        if not step_s > 0:
            raise ValueError(f"step_s must be > 0 seconds, got {step_s}")
        if self.method == "none" or len(proba) < 2:
            return proba
        if self.method == "hmm":
            p_stay = float(np.exp(-step_s / self.window_s))
            return sticky_posteriors(proba, p_stay)
        n_window = int(round(self.window_s / step_s))
        half = n_window // 2  # an even window rounds down to the odd one below it
        if half == 0:
            return proba
        from scipy.ndimage import median_filter, uniform_filter1d

        if self.method == "median":
            out = median_filter(proba, size=(2 * half + 1, 1), mode="nearest")
        else:
            out = uniform_filter1d(proba, size=2 * half + 1, axis=0, mode="nearest")
        out /= np.clip(out.sum(axis=1, keepdims=True), 1e-12, None)
        return out

    def transform_each(self, proba: np.ndarray, step_s: float) -> np.ndarray:
        """Smooth each column on its own, as a two-state problem (off screen / on screen).

        For multi-label probabilities (issue 11), whose columns are separate characters and need not sum
        to 1: column j is smoothed as the pair (1 - p_j, p_j) by `transform` ("hmm": a sticky on/off chain
        per character).

        Parameters
        ----------
        proba : ndarray of shape (n_frames, n_characters), in [0, 1]
        step_s : float
            Time between consecutive frames, in seconds.

        Returns
        -------
        ndarray of shape (n_frames, n_characters), float64
        """
        proba = np.asarray(proba, dtype=np.float64)
        if proba.ndim != 2:
            raise ValueError(f"proba must have shape (n_frames, n_characters), got shape {proba.shape}")
        out = np.empty_like(proba)
        for j in range(proba.shape[1]):
            p = np.clip(proba[:, j], 0.0, 1.0)
            out[:, j] = self.transform(np.column_stack([1.0 - p, p]), step_s)[:, 1]
        return out

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Smoother":
        return cls(**d)


def parse_smoother(text: str) -> Smoother:
    """Parse a smoother's text form.

    Accepts 'none', '<method>' (default parameter) and '<method>:<seconds>' with an optional 's',
    e.g. 'median:5', 'mean:3s', 'hmm:10'. `Smoother.name` round-trips.

    Raises
    ------
    InvalidParameter (a ValueError)
        If the method is unknown or the parameter is not a positive number of seconds.
    """
    from featurestore.errors import InvalidParameter

    method, _, arg = text.strip().lower().partition(":")
    if method not in METHODS:
        raise InvalidParameter("smooth", f"unknown smoothing {text!r}; use one of: none, median:5, mean:5, hmm:10")
    if method == "none":
        if arg:
            raise InvalidParameter("smooth", f"smoothing 'none' takes no parameter, got {text!r}")
        return Smoother("none")
    if not arg:
        return Smoother(method, DEFAULT_WINDOW_S[method])
    try:
        window_s = float(arg.strip().rstrip("s"))
    except ValueError:
        raise InvalidParameter("smooth", f"smoothing {text!r}: parameter must be seconds such as '{method}:5'") from None
    try:
        return Smoother(method, window_s)
    except ValueError as err:
        raise InvalidParameter("smooth", str(err)) from None


def candidate_smoothers() -> list[Smoother]:
    """The smoothers compare-models tries for every model, on the same folds (kept to six)."""
    return [
        Smoother("none"),
        Smoother("median", 3.0),
        Smoother("median", 5.0),
        Smoother("median", 9.0),
        Smoother("hmm", 5.0),
        Smoother("hmm", 20.0),
    ]


def sticky_posteriors(proba: np.ndarray, p_stay: float, noise: float = HMM_NOISE) -> np.ndarray:
    """Forward-backward posteriors of a symmetric sticky Markov chain over classes.

    Parameters
    ----------
    proba : ndarray of shape (n_frames, n_classes)
        Emission weights per frame (classifier probabilities, uniform class prior assumed).
    p_stay : float
        Probability of keeping the class from one frame to the next, in (0, 1].
    noise : float
        Weight of a uniform distribution mixed into the emissions, in [0, 1).

    Returns
    -------
    ndarray of shape (n_frames, n_classes), float64
        P(class at frame t | all frames); rows sum to 1.
    """
    proba = np.asarray(proba, dtype=np.float64)
    n_frames, n_classes = proba.shape
    if n_classes == 1 or n_frames == 0:
        return np.ones_like(proba)
    emission = (1.0 - noise) * proba + noise / n_classes
    emission = np.clip(emission, 1e-300, None)
    transition = np.full((n_classes, n_classes), (1.0 - p_stay) / (n_classes - 1))
    np.fill_diagonal(transition, p_stay)
    # The chain is symmetric with a uniform stationary law, so running the forward pass on the reversed
    # sequence gives emission * beta; the posterior is alpha * beta.
    alpha = _forward(emission, transition)
    alpha_rev = _forward(emission[::-1], transition)[::-1]
    post = alpha * alpha_rev / emission
    post /= post.sum(axis=1, keepdims=True)
    return post


def _forward(emission: np.ndarray, transition: np.ndarray, block: int = 32) -> np.ndarray:
    """Normalised forward messages, shape (n_frames, n_classes), from a uniform start.

    alpha_t = diag(e_t) A^T alpha_{t-1} is linear, so instead of a Python loop over 7,200 frames the
    (k, k) step matrices are multiplied up with a log2(block)-level parallel scan inside blocks of
    `block` frames, and only the block boundaries are carried in a loop.
    """
    n_frames, n_classes = emission.shape
    n_steps = n_frames - 1
    n_blocks = -(-n_steps // block)
    steps = np.empty((n_blocks * block, n_classes, n_classes))
    steps[:n_steps] = emission[1:, :, None] * transition.T[None]
    steps[n_steps:] = np.eye(n_classes)
    prefix = steps.reshape(n_blocks, block, n_classes, n_classes)
    shift = 1
    while shift < block:
        prefix[:, shift:] = prefix[:, shift:] @ prefix[:, :-shift]
        # Only the direction of each product matters; rescale so long runs cannot underflow.
        prefix /= prefix.max(axis=(2, 3), keepdims=True)
        shift *= 2
    alpha = np.empty((n_blocks * block + 1, n_classes))
    carried = emission[0] / emission[0].sum()
    alpha[0] = carried
    for b in range(n_blocks):
        out = prefix[b] @ carried
        out /= out.sum(axis=1, keepdims=True)
        alpha[1 + b * block : 1 + (b + 1) * block] = out
        carried = out[-1]
    return alpha[:n_frames]
