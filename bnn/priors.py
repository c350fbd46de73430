r"""Priors over network parameters, mapped onto the parameter paths of a Flax module.

A parameter path joins the keys of Flax's ``params`` tree with dots, as
:func:`numpyro.contrib.module.random_flax_module` names them: ``"Dense_0.kernel"``,
``"Dense_0.bias"``, ``"inner.dense.kernel"``. Every prior here resolves to one NumPyro
distribution per path, so no parameter is ever left without a prior (NumPyro silently keeps
unmatched parameters fixed; we refuse unmatched keys instead).

An L2 penalty is a Gaussian prior. Minimising
:math:`\sum_n (y_n - f(x_n))^2 + \lambda \sum_k \theta_k^2` is MAP estimation with Gaussian
noise :math:`\sigma` and prior :math:`\theta_k \sim N(0, s^2)` where :math:`s = \sigma/\sqrt\lambda`
(:func:`from_l2`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Union

import numpyro.distributions as dist

from bnn._checks import positive_float

__all__ = ["Prior", "Normal", "FanIn", "PerParameter", "from_l2", "resolve"]

Shapes = Mapping[str, tuple]


class Prior:
    """Base class: a prior knows how to give one distribution to each parameter path."""

    def distributions(self, shapes: Shapes) -> dict[str, dist.Distribution]:
        """One NumPyro distribution per parameter path (``shapes`` maps path -> shape)."""
        raise NotImplementedError

    def describe(self, shapes: Shapes) -> dict[str, str]:
        """Human-readable prior per path, e.g. ``{"Dense_0.kernel": "Normal(0, 0.5)"}``."""
        return {p: _fmt(d) for p, d in self.distributions(shapes).items()}


def _fmt(d: dist.Distribution) -> str:
    if isinstance(d, dist.Normal):
        return f"Normal({float(d.loc):g}, {float(d.scale):g})"
    return type(d).__name__


@dataclass(frozen=True)
class Normal(Prior):
    """Isotropic prior: every parameter independently ``Normal(loc, scale)``.

    >>> Normal(1.0).describe({"Dense_0.kernel": (1, 3), "Dense_0.bias": (3,)})["Dense_0.bias"]
    'Normal(0, 1)'
    """

    scale: float = 1.0
    loc: float = 0.0

    def __post_init__(self):
        positive_float("Normal prior scale", self.scale)

    def distributions(self, shapes):
        return {p: dist.Normal(self.loc, self.scale) for p in shapes}


@dataclass(frozen=True)
class FanIn(Prior):
    r"""Fan-in scaled Normal prior.

    Kernels get ``Normal(0, scale / sqrt(fan_in))``, biases ``Normal(0, bias_scale)``.

    ``fan_in`` is the product of all but the last dimension of a kernel (its number of inputs).
    With ``scale=1`` the pre-activations keep unit variance from layer to layer, so deep and
    wide networks keep a sensible prior over functions (Neal 1996).

    >>> FanIn().describe({"Dense_0.kernel": (4, 8), "Dense_0.bias": (8,)})["Dense_0.kernel"]
    'Normal(0, 0.5)'
    """

    scale: float = 1.0
    bias_scale: float = 1.0

    def __post_init__(self):
        positive_float("FanIn scale", self.scale)
        positive_float("FanIn bias_scale", self.bias_scale)

    def distributions(self, shapes):
        out = {}
        for path, shape in shapes.items():
            if len(shape) >= 2:
                fan_in = math.prod(shape[:-1])
                out[path] = dist.Normal(0.0, self.scale / math.sqrt(fan_in))
            else:
                out[path] = dist.Normal(0.0, self.bias_scale)
        return out


PriorLike = Union[Prior, float, dist.Distribution]  # noqa: UP007 - runtime alias on 3.10


def _as_prior_dist(value, path: str, shape: tuple) -> dist.Distribution:
    if isinstance(value, dist.Distribution):
        return value
    if isinstance(value, Prior):
        return value.distributions({path: shape})[path]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Normal(float(value)).distributions({path: shape})[path]
    raise TypeError(
        f"prior for {path!r} must be a bnn prior, a positive float (a Normal scale) or a "
        f"numpyro distribution, got {type(value).__name__}"
    )


@dataclass(frozen=True)
class PerParameter(Prior):
    """A prior per parameter path or per layer, with an optional default for the rest.

    Keys are full paths (``"Dense_0.kernel"``) or path prefixes naming a layer (``"Dense_0"``,
    which covers its kernel and bias). Values are bnn priors, floats (``Normal(0, value)``) or
    NumPyro distributions. A key that matches no parameter raises a ``KeyError`` listing the
    real paths; a parameter that no key covers needs ``default``.

    >>> p = PerParameter({"Dense_0": 5.0}, default=Normal(1.0))
    >>> p.describe({"Dense_0.kernel": (1, 3), "Dense_1.kernel": (3, 1)})
    {'Dense_0.kernel': 'Normal(0, 5)', 'Dense_1.kernel': 'Normal(0, 1)'}
    """

    mapping: Mapping[str, PriorLike]
    default: PriorLike | None = None

    def __post_init__(self):
        if not isinstance(self.mapping, Mapping):
            raise TypeError("PerParameter needs a mapping from parameter paths to priors")
        # stored as a tuple of pairs so that the prior stays hashable (compiled-code cache key)
        object.__setattr__(self, "mapping", tuple(sorted(dict(self.mapping).items())))

    def distributions(self, shapes):
        keys = dict(self.mapping)
        out, used = {}, set()
        for path, shape in shapes.items():
            # the most specific key wins: a full path beats a layer prefix
            matches = [k for k in keys if path == k or path.startswith(k + ".")]
            if matches:
                best = max(matches, key=len)
                used.update(matches)
                out[path] = _as_prior_dist(keys[best], path, shape)
            elif self.default is not None:
                out[path] = _as_prior_dist(self.default, path, shape)
        unknown = sorted(set(keys) - used)
        if unknown:
            raise KeyError(
                f"prior key(s) {unknown} match no parameter of the network; "
                f"its parameter paths are {sorted(shapes)}"
            )
        missing = sorted(set(shapes) - set(out))
        if missing:
            raise ValueError(
                f"parameters {missing} have no prior; add them to the mapping or give "
                "PerParameter(..., default=Normal(1.0))"
            )
        return out


def from_l2(weight_decay: float, noise: float) -> Normal:
    r"""The Normal prior equivalent to an L2 penalty for Gaussian noise ``noise``.

    Minimising :math:`\sum_n (y_n - f_\theta(x_n))^2 + \lambda \sum_k \theta_k^2` is the MAP
    estimate under :math:`y_n \sim N(f_\theta(x_n), \sigma^2)` and
    :math:`\theta_k \sim N(0, s^2)` with :math:`s = \sigma / \sqrt{\lambda}`.

    >>> from_l2(weight_decay=0.01, noise=0.1).scale
    1.0
    """
    lam = positive_float("weight_decay", weight_decay)
    sigma = positive_float("noise", noise)
    return Normal(sigma / math.sqrt(lam))


def resolve(prior, shapes: Shapes) -> dict[str, dist.Distribution]:
    """Resolve anything accepted as ``prior=`` into one distribution per parameter path.

    Accepts a :class:`Prior`, a positive float (isotropic Normal scale), a NumPyro
    distribution (used for every parameter) or a plain dict (treated as
    :class:`PerParameter` with no default).
    """
    if isinstance(prior, Prior):
        return prior.distributions(shapes)
    if isinstance(prior, Mapping):
        return PerParameter(prior).distributions(shapes)
    if isinstance(prior, dist.Distribution):
        if prior.event_shape != ():
            raise ValueError(
                f"a single distribution used as prior must be scalar, got event_shape "
                f"{prior.event_shape}; use PerParameter for shaped priors"
            )
        return {p: prior for p in shapes}
    if isinstance(prior, (int, float)) and not isinstance(prior, bool):
        return Normal(float(prior)).distributions(shapes)
    raise TypeError(
        "prior must be a bnn.priors prior (Normal, FanIn, PerParameter), a float scale, a "
        f"numpyro distribution or a dict of paths, got {type(prior).__name__}"
    )
