"""One result type for every method: point estimates are a single draw of a posterior."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
from numpyro.infer import Predictive
from numpyro.infer import log_likelihood as _numpyro_log_likelihood
from numpyro.infer.util import log_density

from bnn._checks import as_key, check_same_length, check_x, positive_int
from bnn.inference._data import Scaling
from bnn.model import NET, BayesianModel
from bnn.prediction import Prediction

__all__ = ["FitResult", "POINT_METHODS"]

POINT_METHODS = ("mle", "map")


@functools.lru_cache(maxsize=64)
def _predict_fn(model: BayesianModel):
    def fn(key, samples, x):
        pred = Predictive(model, posterior_samples=samples, parallel=True)
        return pred(key, x, None, record=True)

    return jax.jit(fn)


@functools.lru_cache(maxsize=64)
def _log_lik_fn(model: BayesianModel):
    return jax.jit(lambda samples, x, y: _numpyro_log_likelihood(model, samples, x, y)["y"])


@functools.lru_cache(maxsize=64)
def _log_joint_fn(model: BayesianModel):
    def one(sample, x, y):
        return log_density(model, (x, y), {}, sample)[0]

    return jax.jit(jax.vmap(one, in_axes=(0, None, None)))


@dataclass(frozen=True)
class FitResult:
    """What :func:`bnn.fit` returns, whatever the method.

    Attributes:
        method: the ``method`` given to :func:`bnn.fit` (``"map"``, ``"nuts"``, ``"chees"``...).
        samples: site name -> draws with leading ``(chain, draw)`` dimensions. A point
            estimate is one chain of one draw, so every method predicts and converts alike.
        losses: the optimisation trace (per-datum negative log density, or negative ELBO per
            datum for SVI), or None for samplers.
        stats: sampler statistics with ``(chain, draw)`` dimensions (``diverging``,
            ``num_steps``, ``tree_depth``, ``accept_prob``, ``step_size``), or None.
        model: the NumPyro model all methods share.
        wall_time: seconds spent in ``fit`` (compilation included).
    """

    method: str
    samples: dict
    model: BayesianModel
    x: np.ndarray
    y: np.ndarray
    scaling: Scaling
    losses: np.ndarray | None = None
    stats: dict | None = None
    wall_time: float = float("nan")
    extras: dict = field(default_factory=dict, repr=False)

    # ---------------------------------------------------------------- draws and estimates
    @property
    def num_chains(self) -> int:
        return int(next(iter(self.samples.values())).shape[0])

    @property
    def num_draws(self) -> int:
        return int(next(iter(self.samples.values())).shape[1])

    @property
    def is_point(self) -> bool:
        return self.method in POINT_METHODS

    @property
    def params(self) -> dict:
        """The point estimate (MLE/MAP) as site values, without chain/draw dimensions."""
        if not self.is_point:
            raise AttributeError(
                f"params is the point estimate of 'mle'/'map' fits; a {self.method!r} fit has "
                "draws in .samples (chain, draw, ...)"
            )
        return {k: v[0, 0] for k, v in self.samples.items()}

    @property
    def net_params(self) -> dict:
        """The network's point estimate as Flax variables, ready for ``module.apply``.

        Note that with ``standardize=True`` the network maps standardised inputs to
        standardised outputs.
        """
        return self.model.unflatten(self.params)

    def _flat_samples(self, num_draws: int | None, key) -> dict:
        flat = {k: jnp.reshape(v, (-1, *v.shape[2:])) for k, v in self.samples.items()}
        total = self.num_chains * self.num_draws
        if num_draws is not None and positive_int("num_draws", num_draws) < total:
            idx = jnp.linspace(0, total - 1, num_draws).round().astype(int)
            flat = {k: v[idx] for k, v in flat.items()}
        return flat

    def _x(self, x, name="x"):
        x = check_x(x, name)
        if x.shape[1] != self.model.input_dim:
            raise ValueError(
                f"{name} has {x.shape[1]} feature(s) but the network was fitted on "
                f"{self.model.input_dim}"
            )
        return jnp.asarray(self.scaling.x(x))

    # ---------------------------------------------------------------- prediction
    def predict(
        self, x, *, key=0, num_draws: int | None = None, linearize: bool | None = None
    ) -> Prediction:
        """Predictive distribution at inputs ``x`` (``(n,)`` or ``(n, d)``).

        Args:
            x: new inputs.
            key: PRNG key (int or key) for the observation draws ``y_samples``.
            num_draws: use at most this many posterior draws (evenly thinned).
            linearize: Laplace fits only: predict with the network linearised at the MAP
                (the default for ``"laplace"``) instead of pushing draws through it.
        """
        xs = self._x(x)
        samples = self._flat_samples(num_draws, key)
        if linearize is None:
            linearize = self.method == "laplace"
        if linearize:
            if self.method != "laplace":
                raise ValueError("linearize=True needs a method='laplace' fit")
            from bnn.inference.laplace import linearized_predictive

            out = linearized_predictive(self.laplace, self.model, as_key(key), samples, xs)
        else:
            out = _predict_fn(self.model)(as_key(key), samples, xs)
        lik = self.model.likelihood
        kind = type(lik).__name__.lower()
        if lik.task == "classification":
            return Prediction(
                "classification", np.asarray(out["f"]), np.asarray(out["y"]), kind=kind
            )
        s = self.scaling
        f = np.asarray(out["f"]) * s.y_scale + s.y_mean
        y = np.asarray(out["y"]) * s.y_scale + s.y_mean
        noise = self._noise_std(samples, out, f.shape) * s.y_scale
        return Prediction("regression", f, y, noise, kind=kind)

    def _noise_std(self, samples, out, shape):
        if "noise_std" in out:
            return np.asarray(out["noise_std"])
        if "sigma" in samples:
            return np.broadcast_to(np.asarray(samples["sigma"])[:, None], shape)
        return np.full(shape, float(self.model.likelihood.noise))

    @property
    def laplace(self):
        """The Laplace state (mean, precision, evidence) of a ``method="laplace"`` fit."""
        if "laplace" not in self.extras:
            raise AttributeError(f"a {self.method!r} fit has no Laplace approximation")
        return self.extras["laplace"]

    @property
    def log_evidence(self) -> float:
        """Laplace approximation of ``log p(y)`` (``method="laplace"``), in the units of y."""
        if self.model.likelihood.task != "regression":
            return self.laplace.log_evidence
        return self.laplace.log_evidence - self.y.shape[0] * np.log(self.scaling.y_scale)

    # ---------------------------------------------------------------- scores
    def _xy(self, x, y):
        xs = self._x(x)
        lik = self.model.likelihood
        ys = lik.check_y(y, self.model.output_dim)
        check_same_length(np.asarray(xs), ys)
        if lik.task == "regression":
            ys = self.scaling.y(ys)
        return xs, jnp.asarray(ys)

    def log_likelihood(self, x, y, *, linearize: bool | None = None) -> np.ndarray:
        """Pointwise ``log p(y_i | theta_s, x_i)``, shape ``(chains, draws, n)``, units of y.

        Laplace fits score the network linearised at the MAP, as :meth:`predict` does,
        unless ``linearize=False``.
        """
        xs, ys = self._xy(x, y)
        samples = self._flat_samples(None, 0)
        if linearize is None:
            linearize = self.method == "laplace"
        if linearize:
            from bnn.inference.laplace import linearized_log_likelihood

            ll = linearized_log_likelihood(self.laplace, self.model, samples, xs, ys)
        else:
            ll = _log_lik_fn(self.model)(samples, xs, ys)
        if self.model.likelihood.task == "regression":
            ll = ll - np.log(self.scaling.y_scale)
        return np.asarray(ll).reshape(self.num_chains, self.num_draws, -1)

    def log_predictive_density(self, x, y, *, linearize: bool | None = None) -> np.ndarray:
        """Pointwise ``log (1/S) sum_s p(y_i | theta_s)``, shape ``(n,)``: minus it is the NLL."""
        ll = self.log_likelihood(x, y, linearize=linearize)
        ll = ll.reshape(self.num_chains * self.num_draws, -1)
        return np.asarray(jax.scipy.special.logsumexp(ll, axis=0) - np.log(ll.shape[0]))

    def log_joint(self) -> np.ndarray:
        """``log p(y, theta_s)`` on the training data for each draw, shape ``(chains, draws)``."""
        xs, ys = self._xy(self.x, self.y)
        lp = _log_joint_fn(self.model)(self._flat_samples(None, 0), xs, ys)
        return np.asarray(lp).reshape(self.num_chains, self.num_draws)

    # ---------------------------------------------------------------- diagnostics
    def function_diagnostics(self, x) -> dict:
        """Split R-hat and bulk ESS of f at inputs ``x`` (NumPyro's estimators, no ArviZ)."""
        from bnn.diagnostics import function_space

        return function_space(self, x)

    def to_arviz(self, *, x_pred=None):
        """ArviZ ``InferenceData``; see :func:`bnn.diagnostics.to_arviz`."""
        from bnn.diagnostics import to_arviz

        return to_arviz(self, x_pred=x_pred)

    def summary(self, var_names=None, **kwargs):
        """ArviZ summary (mean, sd, HDI, R-hat, ESS) of the draws; see ``arviz.summary``."""
        from bnn.diagnostics import summary

        return summary(self, var_names=var_names, **kwargs)

    def __repr__(self) -> str:
        what = (
            f"{self.num_chains} chain(s) x {self.num_draws} draw(s)"
            if not self.is_point
            else "point estimate"
        )
        return (
            f"FitResult(method={self.method!r}, {what}, network={type(self.model.module).__name__},"
            f" likelihood={type(self.model.likelihood).__name__}, wall_time={self.wall_time:.2f}s)"
        )


def short_name(site: str) -> str:
    return site[len(NET) + 1 :] if site.startswith(NET + "/") else site


