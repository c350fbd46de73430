r"""Is the uncertainty any good? Scores of predictions against held-out data.

Regression: :func:`rmse`, :func:`nll` (negative log predictive density per point, exact for the
mixture over draws), :func:`crps` (continuous ranked probability score, closed form for a
Gaussian or a mixture of Gaussians), :func:`coverage` of central intervals and
:func:`calibration_curve`. Classification: :func:`accuracy`, :func:`nll`, :func:`brier` and
:func:`ece` (expected calibration error). :func:`compare` tabulates them across fits.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr

from bnn._checks import finite_array

__all__ = [
    "rmse", "nll", "crps", "crps_gaussian", "coverage", "calibration_curve", "accuracy",
    "brier", "ece", "compare",
]

_SQRT_PI = np.sqrt(np.pi)


def _vec(name, y, n=None):
    arr = finite_array(name, y).reshape(-1).astype(np.float64)
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} values, the predictions {n}")
    return arr


def rmse(y, mean) -> float:
    """Root mean squared error. ``mean`` may be a :class:`bnn.Prediction`.

    >>> rmse([0.0, 2.0], [1.0, 1.0])
    1.0
    """
    from bnn.prediction import Prediction

    mean = _vec("mean", mean.mean if isinstance(mean, Prediction) else mean)
    return float(np.sqrt(np.mean((_vec("y", y, mean.shape[0]) - mean) ** 2)))


def _phi(z):
    return np.exp(-0.5 * z**2) / np.sqrt(2 * np.pi)


def crps_gaussian(y, mu, sigma) -> np.ndarray:
    r"""Pointwise CRPS of ``N(mu, sigma^2)``: :math:`\sigma[z(2\Phi(z)-1) + 2\phi(z) - 1/\sqrt\pi]`.

    >>> round(float(crps_gaussian(0.0, 0.0, 1.0)), 4)
    0.2337
    """
    y, mu, sigma = np.asarray(y, float), np.asarray(mu, float), np.asarray(sigma, float)
    z = (y - mu) / sigma
    return sigma * (z * (2 * ndtr(z) - 1) + 2 * _phi(z) - 1 / _SQRT_PI)


def _a(m, s2):
    s = np.sqrt(s2)
    return 2 * s * _phi(m / s) + m * (2 * ndtr(m / s) - 1)


def _crps_mixture(y, mu, sd, max_components=400):
    """Equal-weight Gaussian mixture over axis 0 (Grimit et al. 2006), thinned if very large."""
    if mu.shape[0] > max_components:
        idx = np.linspace(0, mu.shape[0] - 1, max_components).round().astype(int)
        mu, sd = mu[idx], sd[idx]
    first = _a(y[None] - mu, sd**2).mean(0)
    second = np.zeros_like(y)
    for i in range(mu.shape[0]):  # O(S^2 n) but in S chunks of (S, n)
        second += _a(mu[i][None] - mu, sd[i][None] ** 2 + sd**2).mean(0)
    return first - 0.5 * second / mu.shape[0]


def crps(prediction, y) -> float:
    """Mean CRPS of a regression :class:`bnn.Prediction` (lower is better; units of y)."""
    y = _vec("y", y, prediction.f_samples.shape[1])
    mu = prediction.f_samples.astype(np.float64)
    sd = prediction.noise_std.astype(np.float64)
    if mu.shape[0] == 1:
        return float(np.mean(crps_gaussian(y, mu[0], sd[0])))
    return float(np.mean(_crps_mixture(y, mu, sd)))


def coverage(y, lower, upper) -> float:
    """Fraction of ``y`` inside ``[lower, upper]``.

    >>> coverage([0, 1, 2, 3], [0.5] * 4, [2.5] * 4)
    0.5
    """
    y = _vec("y", y)
    return float(np.mean((y >= np.asarray(lower)) & (y <= np.asarray(upper))))


def calibration_curve(prediction, y, levels=None) -> tuple[np.ndarray, np.ndarray]:
    """Observed coverage of the central predictive intervals at each nominal level.

    Returns ``(levels, observed)``; a calibrated model has ``observed == levels``.
    """
    levels = np.linspace(0.1, 0.9, 9) if levels is None else np.asarray(levels, float)
    observed = np.array([coverage(y, *prediction.interval(p)) for p in levels])
    return levels, observed


def nll(fit, x, y) -> float:
    """Negative log predictive density per point, ``-mean_i log (1/S) sum_s p(y_i | theta_s)``."""
    return float(-np.mean(fit.log_predictive_density(x, y)))


def _labels(y, n):
    arr = finite_array("y", y).reshape(-1)
    if arr.shape[0] != n:
        raise ValueError(f"y has {arr.shape[0]} labels, the predictions {n}")
    return arr.astype(int)


def _class_probs(prediction):
    p = prediction.probs
    return np.stack([1 - p, p], axis=-1) if p.ndim == 1 else p


def accuracy(prediction, y) -> float:
    """Fraction of labels equal to the most probable class."""
    return float(np.mean(prediction.label == _labels(y, prediction.label.shape[0])))


def brier(prediction, y) -> float:
    """Mean squared distance between the predicted class probabilities and the one-hot labels."""
    p = _class_probs(prediction)
    onehot = np.eye(p.shape[1])[_labels(y, p.shape[0])]
    return float(np.mean(np.sum((p - onehot) ** 2, axis=1)))


def ece(prediction, y, num_bins: int = 10) -> float:
    """Expected calibration error: confidence against accuracy in equal-width bins."""
    p = _class_probs(prediction)
    conf = p.max(1)
    correct = p.argmax(1) == _labels(y, p.shape[0])
    bins = np.minimum((conf * num_bins).astype(int), num_bins - 1)
    total = 0.0
    for b in range(num_bins):
        inside = bins == b
        if inside.any():
            total += inside.mean() * abs(correct[inside].mean() - conf[inside].mean())
    return float(total)


def compare(results: dict, x, y, *, prob: float = 0.9, key=0):
    """One table across fitted results: a ``pandas.DataFrame`` with a row per fit.

    Regression columns: ``rmse``, ``nll``, ``crps``, ``coverage`` (of the central ``prob``
    interval), ``width`` (its mean width), ``wall_time``. Classification: ``accuracy``, ``nll``,
    ``brier``, ``ece``, ``wall_time``.
    """
    import pandas as pd

    if not isinstance(results, dict) or not results:
        raise TypeError("compare needs a non-empty dict {name: FitResult}")
    rows = {}
    for name, fit in results.items():
        pred = fit.predict(x, key=key)
        row = {}
        if fit.model.likelihood.task == "regression":
            lo, hi = pred.interval(prob)
            row.update(rmse=rmse(y, pred.mean), nll=nll(fit, x, y), crps=crps(pred, y),
                       coverage=coverage(y, lo, hi), width=float(np.mean(hi - lo)))
        else:
            row.update(accuracy=accuracy(pred, y), nll=nll(fit, x, y), brier=brier(pred, y),
                       ece=ece(pred, y))
        row["wall_time"] = fit.wall_time
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index")
