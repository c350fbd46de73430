"""Observation models p(y | f): what the network's output means.

Each likelihood checks the targets at the boundary, checks the width of the network's output,
and, inside the NumPyro model, registers the observed site ``"y"`` (and ``"sigma"`` when the
noise is learned).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist

from bnn._checks import finite_array, positive_float

__all__ = ["Likelihood", "Gaussian", "HeteroscedasticGaussian", "Bernoulli", "Categorical"]


class Likelihood:
    """Base class. ``task`` is ``"regression"`` or ``"classification"``."""

    task: str = "regression"

    def check_y(self, y, n_out: int) -> np.ndarray:
        raise NotImplementedError

    def check_output(self, n_out: int) -> None:
        raise NotImplementedError

    def distribution(self, out, sigma=None) -> dist.Distribution:
        """``p(y | out)`` with batch shape ``(n,)``; ``sigma`` is the noise where there is one."""
        raise NotImplementedError

    def latent(self, out):
        """The latent function ``f`` reported in predictions (the mean or the logits)."""
        return out[..., 0]

    def observe(self, out, y=None, noise=None):
        """Inside the NumPyro model: register ``"y"``; return the latent function ``f``.

        ``noise`` overrides the noise (a traced hyperparameter); otherwise :meth:`sigma`.
        """
        d = self.distribution(out, self.sigma() if noise is None else noise)
        with numpyro.plate("data", d.batch_shape[-1]):
            numpyro.sample("y", d, obs=y)
        return self.latent(out)

    def sigma(self):
        """Inside the model: the noise (a sample site when learned), or None."""
        return None


def _regression_y(y) -> np.ndarray:
    arr = finite_array("y", y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(
            f"regression targets y must have shape (n,) or (n, 1), got {arr.shape}; "
            "bnn fits one output at a time"
        )
    return arr.astype(np.result_type(arr.dtype, np.float32))


def _labels(y, num_classes: int) -> np.ndarray:
    arr = finite_array("y", y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"class labels y must have shape (n,), got {arr.shape}")
    if np.issubdtype(arr.dtype, np.floating):
        if not np.all(arr == np.round(arr)):
            raise ValueError(
                "class labels y must be integers; got non-integer values such as "
                f"{arr[arr != np.round(arr)][0]!r} (is this a regression problem?)"
            )
    arr = arr.astype(np.int32)
    bad = (arr < 0) | (arr >= num_classes)
    if np.any(bad):
        raise ValueError(
            f"labels must lie in 0..{num_classes - 1} for this likelihood, got "
            f"{sorted(set(arr[bad].tolist()))[:5]}; re-encode them (e.g. np.unique(y, "
            "return_inverse=True)) or widen the network's output"
        )
    return arr


def _one_output(name: str, n_out: int) -> None:
    if n_out != 1:
        raise ValueError(
            f"{name} needs a network with one output, got {n_out}; end the network with a "
            "layer of width 1, e.g. MLP((10, 10, 1))"
        )


@dataclass(frozen=True)
class Gaussian(Likelihood):
    """``y ~ Normal(f(x), sigma)`` with ``sigma`` fixed or learned.

    Args:
        noise: a positive float (known noise std) or ``"learn"``.
        noise_prior: with ``noise="learn"``, a NumPyro distribution on ``sigma`` for the Bayesian
            methods (default ``HalfNormal(1.0)``); MLE ignores it, MAP includes it.

    >>> Gaussian(0.1).learned, Gaussian("learn").learned
    (False, True)
    """

    noise: Any = "learn"
    noise_prior: Any = None

    task = "regression"

    def __post_init__(self):
        if isinstance(self.noise, str):
            if self.noise != "learn":
                raise ValueError(f"noise must be a positive float or 'learn', got {self.noise!r}")
        else:
            positive_float("Gaussian noise", self.noise)
            if self.noise_prior is not None:
                raise ValueError("noise_prior is only used with noise='learn'")
        if self.noise_prior is not None and not isinstance(self.noise_prior, dist.Distribution):
            raise TypeError("noise_prior must be a numpyro distribution, e.g. dist.HalfNormal(1.0)")

    @property
    def learned(self) -> bool:
        return isinstance(self.noise, str)

    def check_y(self, y, n_out):
        return _regression_y(y)

    def check_output(self, n_out):
        _one_output("Gaussian likelihood", n_out)

    def sigma(self):
        if self.learned:
            prior = self.noise_prior if self.noise_prior is not None else dist.HalfNormal(1.0)
            return numpyro.sample("sigma", prior)
        return self.noise

    def distribution(self, out, sigma=None):
        return dist.Normal(out[..., 0], self.noise if sigma is None else sigma)


@dataclass(frozen=True)
class HeteroscedasticGaussian(Likelihood):
    """``y ~ Normal(f_0(x), softplus(f_1(x)) + min_noise)``: the network outputs mean and scale."""

    min_noise: float = 1e-3
    task = "regression"

    def check_y(self, y, n_out):
        return _regression_y(y)

    def check_output(self, n_out):
        if n_out != 2:
            raise ValueError(
                f"HeteroscedasticGaussian needs a network with two outputs (mean, scale), got "
                f"{n_out}; end the network with a layer of width 2"
            )

    def noise_std(self, out):
        return jnp.logaddexp(out[..., 1], 0.0) + self.min_noise

    def distribution(self, out, sigma=None):
        return dist.Normal(out[..., 0], self.noise_std(out))

    def observe(self, out, y=None, noise=None):
        numpyro.deterministic("noise_std", self.noise_std(out))
        return super().observe(out, y)


@dataclass(frozen=True)
class Bernoulli(Likelihood):
    """Binary labels in {0, 1}; the network's single output is the logit of class 1."""

    task = "classification"
    num_classes = 2

    def check_y(self, y, n_out):
        return _labels(y, 2)

    def check_output(self, n_out):
        _one_output("Bernoulli likelihood", n_out)

    def distribution(self, out, sigma=None):
        return dist.BernoulliLogits(out[..., 0])


@dataclass(frozen=True)
class Categorical(Likelihood):
    """Labels in ``0..K-1``; the network's ``K`` outputs are the class logits."""

    task = "classification"

    def check_y(self, y, n_out):
        return _labels(y, n_out)

    def check_output(self, n_out):
        if n_out < 2:
            raise ValueError(
                f"Categorical needs a network with one output per class (>= 2), got {n_out}; "
                "for two classes with one output use Bernoulli()"
            )

    def distribution(self, out, sigma=None):
        return dist.CategoricalLogits(out)

    def latent(self, out):
        return out
