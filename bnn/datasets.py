"""Data: the notebook's synthetic regression problem (the embedded default) and friends."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist

from bnn._checks import as_key, positive_float, positive_int

__all__ = ["RegressionData", "seed_regression", "seed_function", "two_moons"]


def seed_function(x):
    """The notebook's true function, ``f(x) = x sin(5x)``."""
    return x * np.sin(5 * x) if isinstance(x, np.ndarray) else x * jnp.sin(5 * x)


class RegressionData(NamedTuple):
    """Training points, a test grid and the true function.

    Attributes:
        x: ``(n, 1)`` sorted training inputs.
        y: ``(n,)`` noisy targets.
        x_test: ``(200, 1)`` grid on [-1.5, 1.5] (it extrapolates beyond the data's [-1, 1]).
        f_test: ``(200,)`` true function on the grid.
        f: the true function.
        noise: the noise std used.
    """

    x: np.ndarray
    y: np.ndarray
    x_test: np.ndarray
    f_test: np.ndarray
    f: Callable
    noise: float

    def fresh(self, n: int = 1000, *, key=1, low=-1.5, high=1.5):
        """New noisy observations ``(x, y)`` of the same function, for test NLL and coverage."""
        k1, k2 = jax.random.split(as_key(key))
        x = np.sort(np.asarray(jax.random.uniform(k1, (n, 1), minval=low, maxval=high)), axis=0)
        eps = np.asarray(jax.random.normal(k2, (n,))) * self.noise
        return x, self.f(x[:, 0]) + eps


def seed_regression(n: int = 40, noise: float = 0.1, key=0) -> RegressionData:
    """The notebook's data: ``x ~ U(-1, 1)`` sorted, ``y = x sin(5x) + N(0, noise^2)``.

    Reproduces the notebook's draws (``PRNGKey(0)`` for x, the split key for the noise), but
    sorts along the data axis (the notebook's ``jnp.sort`` of an ``(n, 1)`` array sorts
    nothing).

    >>> d = seed_regression()
    >>> d.x.shape, d.y.shape, d.x_test.shape
    ((40, 1), (40,), (200, 1))
    """
    n = positive_int("n", n)
    noise = positive_float("noise", noise)
    k = as_key(key)
    x = jnp.sort(dist.Uniform(-1, 1).sample(k, sample_shape=(n, 1)), axis=0)
    sub_key, k = jax.random.split(k)
    y = seed_function(x) + dist.Normal(0.0, noise).sample(sub_key, sample_shape=x.shape)
    x_test = jnp.linspace(-1.5, 1.5, num=200)[:, None]
    return RegressionData(
        x=np.asarray(x, np.float32),
        y=np.asarray(y[:, 0], np.float32),
        x_test=np.asarray(x_test, np.float32),
        f_test=np.asarray(seed_function(x_test[:, 0]), np.float32),
        f=seed_function,
        noise=noise,
    )


def two_moons(n: int = 200, noise: float = 0.1, key: int = 0):
    """scikit-learn's two interleaving half-circles: ``(x (n, 2), labels (n,))``."""
    try:
        from sklearn.datasets import make_moons
    except ImportError as err:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "two_moons needs scikit-learn: pip install 'bnn[examples]'"
        ) from err
    x, y = make_moons(n_samples=positive_int("n", n), noise=noise, random_state=int(key))
    return x.astype(np.float32), y.astype(np.int32)
