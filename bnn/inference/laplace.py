r"""The Laplace approximation (``"laplace"``): a Gaussian around the MAP.

With :math:`\theta_*` the MAP and :math:`P` the curvature of the negative log joint there,

.. math::  p(\theta \mid y) \approx N(\theta_*, P^{-1}), \qquad
           P = \sum_n J_n^\top \Lambda_n J_n + \nabla^2_\theta[-\log p(\theta)]

where :math:`J_n = \partial f(x_n)/\partial\theta` and :math:`\Lambda_n` is the Hessian of
:math:`-\log p(y_n \mid f)` in f: the generalised Gauss-Newton (``curvature="ggn"``, always
positive semi-definite), or the exact Hessian (``curvature="hessian"``).
``hessian_structure`` is ``"full"`` or ``"diag"``; ``subset_of_weights="last_layer"`` keeps all
but the last layer at the MAP (the names follow laplace-torch). The learned noise, if any,
stays at its MAP value. Predictions are by linearisation,
:math:`f(x, \theta) \approx f(x, \theta_*) + J(x)(\theta - \theta_*)` (default), or by pushing
the Gaussian draws through the network. The Laplace log evidence is

.. math:: \log Z \approx \log p(y \mid \theta_*) + \log p(\theta_*)
          + \tfrac{p}{2}\log 2\pi - \tfrac12 \log\det P.

On a model linear in its parameters with Gaussian noise all of this is exact.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from bnn._checks import positive_int
from bnn.inference import optimize
from bnn.model import _rescaled

OPTIONS = {
    **optimize.OPTIONS,
    "hessian_structure": "full",
    "subset_of_weights": "all",
    "curvature": "ggn",
    "num_samples": 1000,
}
STRUCTURES = ("full", "diag")
SUBSETS = ("all", "last_layer")
CURVATURES = ("ggn", "hessian")


@dataclass(frozen=True)
class LaplaceState:
    """The Gaussian ``N(mean, precision^-1)`` over the network sites in ``sites``.

    Attributes:
        mode: every site at the MAP (network weights and the noise).
        sites: the sites the Gaussian covers (all network sites or the last layer's).
        mean: flat MAP of those sites, ``(p,)``.
        precision: ``(p, p)`` for ``"full"``, ``(p,)`` for ``"diag"``.
        lik_curvature: eigenvalues (full) or diagonal (diag) of the likelihood's curvature,
            for unit noise when ``scales_with_noise`` (it is then divided by sigma^2).
        prior_curvature: ``(p,)`` second derivatives of ``-log p(theta)`` at the MAP.
        log_likelihood, log_prior: at the MAP (the prior over ``sites`` only).
        log_evidence: the Laplace approximation of ``log p(y)``.
    """

    mode: dict
    sites: tuple
    mean: jax.Array
    precision: jax.Array
    structure: str
    lik_curvature: jax.Array
    scales_with_noise: bool
    prior_curvature: jax.Array
    log_likelihood: float
    log_prior: float
    log_evidence: float

    @property
    def num_params(self) -> int:
        return int(self.mean.shape[0])

    def covariance(self) -> np.ndarray:
        if self.structure == "diag":
            return np.diag(1.0 / np.asarray(self.precision))
        return np.asarray(jnp.linalg.inv(self.precision))


def _subset(model, subset: str) -> tuple:
    sites = model.net_sites
    if subset == "all":
        return tuple(sites)
    last = model.param_paths[-1].rsplit(".", 1)[0]
    return tuple(f"net/{p}" for p in model.param_paths if p.rsplit(".", 1)[0] == last)


def _noise(model, mode):
    return mode.get("sigma") if "sigma" in mode else None


def _out_fn(model, mode, unravel, x):
    def out(theta):
        values = {**mode, **unravel(theta)}
        o = model.module.apply(model.unflatten(values), x)
        return jnp.reshape(o, (x.shape[0], model.output_dim))

    return out


@functools.partial(jax.jit, static_argnums=(0, 1))
def _prior_terms(model, sites, mode, hyper=None):
    """Flat second derivatives of -log p(theta) and the log prior over ``sites``."""
    dists = {f"net/{p}": d for p, d in model.prior_dists}
    if hyper is not None:
        dists = {k: _rescaled(d, hyper["prior_scale"]) for k, d in dists.items()}
    curv, logp = {}, 0.0
    for s in sites:
        d, v = dists[s], mode[s]
        d2 = jax.vmap(jax.grad(jax.grad(lambda t, d=d: -d.log_prob(t))))(jnp.ravel(v))
        curv[s] = jnp.reshape(d2, v.shape)
        logp = logp + jnp.sum(d.log_prob(v))
    return ravel_pytree(curv)[0], logp


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3))
def _curvature(model, sites, structure, curvature, mode, x, y, hyper):
    sub = {s: mode[s] for s in sites}
    theta, unravel = ravel_pytree(sub)
    out_fn = _out_fn(model, mode, unravel, x)
    lik = model.likelihood
    sigma = _noise(model, mode) if hyper is None else hyper.get("noise")

    def nll_out(out):
        return -jnp.sum(lik.distribution(out, sigma).log_prob(y))

    if curvature == "ggn":
        jac = jax.jacrev(out_fn)(theta)  # (n, k, p)
        per_datum = lambda o, t: -lik.distribution(o[None], sigma).log_prob(t[None])[0]  # noqa: E731
        lam = jax.vmap(jax.hessian(per_datum))(out_fn(theta), y)  # (n, k, k)
        if structure == "full":
            g = jnp.einsum("nkp,nkl,nlq->pq", jac, lam, jac)
        else:
            g = jnp.einsum("nkp,nkl,nlp->p", jac, lam, jac)
    else:
        h = jax.hessian(lambda t: nll_out(out_fn(t)))(theta)
        g = h if structure == "full" else jnp.diag(h)
    log_lik = -nll_out(out_fn(theta))
    return theta, g, log_lik


def laplace_at(
    model, mode, x, y, *, structure="full", subset="all", curvature="ggn", hyper=None
):
    """The Laplace approximation at ``mode`` (site values at a MAP).

    ``hyper`` (``{"prior_scale": k, "noise": sigma}``) rescales the Normal priors by ``k`` and
    replaces the noise, as traced values (see :func:`bnn.tune_evidence`).
    """
    for name, value, allowed in (("hessian_structure", structure, STRUCTURES),
                                 ("subset_of_weights", subset, SUBSETS),
                                 ("curvature", curvature, CURVATURES)):
        if value not in allowed:
            raise ValueError(f"unknown {name} {value!r}; use one of {allowed}")
    sites = _subset(model, subset)
    x, y = jnp.asarray(x), jnp.asarray(y)
    theta, g, log_lik = _curvature(model, sites, structure, curvature, mode, x, y, hyper)
    h_prior, log_prior = _prior_terms(model, sites, mode, hyper)
    sigma = _noise(model, mode) if hyper is None else hyper.get("noise")
    if sigma is None and getattr(model.likelihood, "noise", None) is not None:
        sigma = model.likelihood.noise
    scales = sigma is not None and type(model.likelihood).__name__ == "Gaussian"
    s2 = float(sigma) ** 2 if scales else 1.0
    if structure == "full":
        precision = g + jnp.diag(h_prior)
        chol = jnp.linalg.cholesky(precision)
        ok = bool(jnp.all(jnp.isfinite(chol)))
        logdet = 2 * jnp.sum(jnp.log(jnp.diag(chol))) if ok else jnp.nan
        lik_curv = jnp.linalg.eigvalsh(g * s2)
    else:
        precision = g + h_prior
        ok = bool(jnp.all(precision > 0))
        logdet = jnp.sum(jnp.log(precision)) if ok else jnp.nan
        lik_curv = g * s2
    if not ok:
        raise ValueError(
            "the Laplace precision is not positive definite at this point (is the MAP "
            "converged?); use curvature='ggn', more num_steps, or a stronger prior"
        )
    p = theta.shape[0]
    log_evidence = log_lik + log_prior + 0.5 * p * np.log(2 * np.pi) - 0.5 * logdet
    return LaplaceState(
        mode=mode, sites=sites, mean=theta, precision=precision, structure=structure,
        lik_curvature=lik_curv, scales_with_noise=scales, prior_curvature=h_prior,
        log_likelihood=float(log_lik), log_prior=float(log_prior),
        log_evidence=float(log_evidence),
    )


def sample(state: LaplaceState, key, num_samples: int) -> dict:
    """Draws of every site, ``(1, num_samples, ...)``: the Gaussian sites and the rest fixed."""
    z = jax.random.normal(key, (num_samples, state.num_params))
    if state.structure == "full":
        chol = jnp.linalg.cholesky(state.precision)
        # theta = mean + L^-T z has covariance (L L^T)^-1 = precision^-1
        delta = jax.scipy.linalg.solve_triangular(chol.T, z.T, lower=False).T
    else:
        delta = z / jnp.sqrt(state.precision)
    _, unravel = ravel_pytree({s: state.mode[s] for s in state.sites})
    draws = jax.vmap(unravel)(state.mean + delta)
    out = {}
    for k, v in state.mode.items():
        v = draws[k] if k in draws else jnp.broadcast_to(v, (num_samples, *jnp.shape(v)))
        out[k] = v[None]
    return out


def fit_laplace(model, x, y, key, options, progress_bar):
    k_map, k_draw = jax.random.split(key)
    num_samples = positive_int("num_samples", options["num_samples"])
    map_options = {k: options[k] for k in optimize.OPTIONS}
    mode, losses = optimize.fit_point(
        model, x, y, k_map, include_prior=True, options=map_options, progress_bar=progress_bar
    )
    state = laplace_at(
        model, mode, x, y, structure=options["hessian_structure"],
        subset=options["subset_of_weights"], curvature=options["curvature"],
    )
    return sample(state, k_draw, num_samples), losses, {"laplace": state}


def _linear_outputs(model, sites, mode, samples, x):
    """(S, n, k) outputs of the network linearised at the MAP, one per draw."""
    sub = {s: mode[s] for s in sites}
    theta, unravel = ravel_pytree(sub)
    out_fn = _out_fn(model, mode, unravel, x)
    flat = jax.vmap(lambda d: ravel_pytree({s: d[s] for s in sites})[0])(samples)
    out0, jvp = jax.vmap(lambda d: jax.jvp(out_fn, (theta,), (d - theta,)))(flat)
    return out0 + jvp  # f(x, theta_*) + J(x) (theta_s - theta_*)


@functools.lru_cache(maxsize=32)
def _linearized_log_lik_fn(model, sites):
    def fn(mode, samples, x, y):
        out = _linear_outputs(model, sites, mode, samples, x)
        lik = model.likelihood
        sigma = samples.get("sigma")
        if sigma is None:
            return jax.vmap(lambda o: lik.distribution(o).log_prob(y))(out)
        return jax.vmap(lambda o, s: lik.distribution(o, s).log_prob(y))(out, sigma)

    return jax.jit(fn)


def linearized_log_likelihood(state: LaplaceState, model, samples, x, y):
    """Pointwise ``log p(y_i | theta_s)`` of the linearised network, ``(S, n)``."""
    return _linearized_log_lik_fn(model, state.sites)(state.mode, samples, x, y)


@functools.lru_cache(maxsize=32)
def _linearized_fn(model, sites):
    def fn(key, mode, samples, x):
        out = _linear_outputs(model, sites, mode, samples, x)
        lik = model.likelihood
        sigma = samples.get("sigma")
        keys = jax.random.split(key, out.shape[0])
        if sigma is None:
            ys = jax.vmap(lambda k, o: lik.distribution(o).sample(k))(keys, out)
        else:
            ys = jax.vmap(lambda k, o, s: lik.distribution(o, s).sample(k))(keys, out, sigma)
        result = {"f": jax.vmap(lik.latent)(out), "y": ys}
        if hasattr(lik, "noise_std"):
            result["noise_std"] = jax.vmap(lik.noise_std)(out)
        return result

    return jax.jit(fn)


def linearized_predictive(state: LaplaceState, model, key, samples, x):
    """``{"f", "y"}`` draws of the linearised network at ``x`` (standardised units)."""
    return _linearized_fn(model, state.sites)(key, state.mode, samples, x)
