"""Data preparation shared by every method: checks, optional standardisation."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from bnn._checks import check_same_length, check_x


class Scaling(NamedTuple):
    """Affine maps applied before fitting and undone in predictions (identity by default)."""

    x_mean: np.ndarray
    x_scale: np.ndarray
    y_mean: float = 0.0
    y_scale: float = 1.0

    @classmethod
    def identity(cls, d: int) -> Scaling:
        return cls(np.zeros(d, np.float32), np.ones(d, np.float32))

    def x(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.x_mean) / self.x_scale).astype(np.float32)

    def y(self, y: np.ndarray) -> np.ndarray:
        return ((y - self.y_mean) / self.y_scale).astype(y.dtype)


def _scale(a: np.ndarray, axis=0):
    s = np.std(a, axis=axis)
    return np.where(s > 0, s, 1.0)


def prepare(x, y, likelihood, n_out: int | None, standardize: bool):
    """Check ``x`` and ``y``; return float32 arrays (after standardisation) and the Scaling."""
    x = check_x(x, "x")
    if n_out is None:
        y_arr = np.asarray(y)
    else:
        y_arr = likelihood.check_y(y, n_out)
    check_same_length(x, y_arr)
    if not isinstance(standardize, bool):
        raise TypeError(f"standardize must be True or False, got {standardize!r}")
    if not standardize:
        scaling = Scaling.identity(x.shape[1])
    elif likelihood.task == "regression":
        scaling = Scaling(
            x.mean(0).astype(np.float32),
            _scale(x).astype(np.float32),
            float(y_arr.mean()),
            float(_scale(y_arr)),
        )
    else:
        scaling = Scaling(x.mean(0).astype(np.float32), _scale(x).astype(np.float32))
    x_fit = scaling.x(x)
    y_fit = scaling.y(y_arr) if likelihood.task == "regression" else y_arr
    return x_fit, y_fit, scaling
