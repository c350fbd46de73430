r"""Evidence-tuned priors: choose the prior scale and the noise by the Laplace evidence.

For an isotropic prior :math:`\theta \sim N(0, s^2 I)` and Gaussian noise :math:`\sigma`, the
Laplace log evidence at a MAP :math:`\theta_*` with likelihood curvature eigenvalues
:math:`\lambda_i` (for unit noise) is

.. math::
    \log Z(s, \sigma) = -\frac{\|r\|^2}{2\sigma^2} - n\log\sigma - \frac{\|\theta_*\|^2}{2s^2}
      - p\log s - \frac n2 \log 2\pi - \frac12\sum_i \log\left(\frac{\lambda_i}{\sigma^2}
      + \frac1{s^2}\right)

with :math:`r` the residuals. :func:`tune_evidence` alternates a MAP fit at the current
:math:`(s, \sigma)` with maximising this in :math:`(\log s, \log\sigma)` (optax L-BFGS),
the scheme of MacKay (1992). Its fixed point is a stationary point of the evidence itself, so
on a model linear in its parameters it is the closed-form evidence maximiser. For
classification likelihoods only :math:`s` is tuned.
"""

from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax

from bnn._checks import positive_float, positive_int
from bnn.likelihoods import Gaussian
from bnn.priors import Normal

__all__ = ["EvidenceResult", "tune_evidence"]


@dataclass(frozen=True)
class EvidenceResult:
    """The evidence-maximising prior and likelihood, and the Laplace fit made with them.

    Attributes:
        prior: ``Normal(s)`` with the tuned scale.
        likelihood: ``Gaussian(sigma)`` with the tuned noise (the input likelihood for
            classification).
        log_evidence: Laplace log evidence of the final fit, in the units of y.
        fit: the final ``method="laplace"`` :class:`bnn.FitResult`.
        history: ``(prior_scale, noise, log_evidence)`` after each round.
    """

    prior: Normal
    likelihood: object
    log_evidence: float
    fit: object
    history: tuple


def _objective(lam, theta2, p, n, rss, gaussian):
    def neg_log_z(u):
        log_s, log_sigma = u[0], u[1]
        s2, sig2 = jnp.exp(2 * log_s), jnp.exp(2 * log_sigma)
        out = -0.5 * theta2 / s2 - p * log_s - 0.5 * jnp.sum(
            jnp.log(jnp.where(gaussian, lam / sig2, lam) + 1 / s2)
        )
        lik = -0.5 * rss / sig2 - n * log_sigma
        return -(out + jnp.where(gaussian, lik, 0.0))

    return neg_log_z


@jax.jit
def _maximise(u0, lam, theta2, p, n, rss, gaussian):
    fn = _objective(lam, theta2, p, n, rss, gaussian)
    opt = optax.lbfgs()
    value_and_grad = optax.value_and_grad_from_state(fn)

    def step(carry, _):
        u, state = carry
        value, grad = value_and_grad(u, state=state)
        grad = jnp.where(gaussian, grad, grad.at[1].set(0.0))
        updates, state = opt.update(grad, state, u, value=value, grad=grad, value_fn=fn)
        return (optax.apply_updates(u, updates), state), value

    (u, _), _ = jax.lax.scan(step, (u0, opt.init(u0)), length=100)
    return u


def tune_evidence(
    model,
    x,
    y,
    *,
    prior: Normal | None = None,
    likelihood=None,
    key=0,
    num_rounds: int = 30,
    tol: float = 1e-4,
    standardize: bool = False,
    **options,
) -> EvidenceResult:
    """Maximise the Laplace evidence over an isotropic prior scale and the Gaussian noise.

    Args:
        model: the Flax module.
        x, y: the data.
        prior: the starting ``bnn.priors.Normal`` (default ``Normal(1.0)``).
        likelihood: the starting ``Gaussian(noise)`` (a fixed float noise; default 0.1 times
            the spread of y), or a classification likelihood (then only the prior is tuned).
        key: PRNG key of the MAP fits.
        num_rounds: at most this many MAP + hyperparameter rounds.
        tol: stop when both hyperparameters change by less than this fraction.
        standardize: passed to :func:`bnn.fit`.
        **options: ``method="laplace"`` options of :func:`bnn.fit` (``num_steps``,
            ``hessian_structure``, ``subset_of_weights``, ...).

    >>> import bnn
    >>> d = bnn.datasets.seed_regression()
    >>> ev = tune_evidence(bnn.models.PolynomialRegressor(4), d.x, d.y, num_steps=1000)
    >>> 0.05 < ev.likelihood.noise < 0.2
    True
    """
    from bnn._checks import as_key, check_options, check_x
    from bnn.inference import laplace, optimize
    from bnn.inference._data import prepare
    from bnn.model import make_model
    from bnn.results import FitResult

    prior = Normal(1.0) if prior is None else prior
    if not isinstance(prior, Normal) or prior.loc != 0:
        raise TypeError("tune_evidence tunes a zero-mean isotropic bnn.priors.Normal prior")
    if likelihood is None:
        likelihood = Gaussian(0.1 * float(np.std(np.asarray(y))) or 0.1)
    gaussian = isinstance(likelihood, Gaussian)
    if gaussian and likelihood.learned:
        raise ValueError("tune_evidence tunes the noise itself: start from a fixed Gaussian(noise)")
    if not gaussian and likelihood.task != "classification":
        raise TypeError("tune_evidence supports Gaussian(noise) and classification likelihoods")
    num_rounds = positive_int("num_rounds", num_rounds)
    tol = positive_float("tol", tol)
    opts = check_options("laplace", options, laplace.OPTIONS)
    if opts["init_params"] is not None:
        raise TypeError("tune_evidence chooses init_params itself")
    map_opts = {k: opts[k] for k in optimize.OPTIONS}
    x_checked = check_x(x)
    # one model for every round: the prior scale and the noise enter as traced values
    base = make_model(model, prior, likelihood, x_checked.shape[1])
    xs, ys, scaling = prepare(x_checked, y, likelihood, base.output_dim, standardize)
    scale = scaling.y_scale if gaussian else 1.0
    n = ys.shape[0]
    shift = n * np.log(scale) if gaussian else 0.0
    rng = as_key(key)
    s, sigma = prior.scale, (likelihood.noise / scale if gaussian else 1.0)
    history, mode = [], None
    for _ in range(num_rounds):
        hyper = {"prior_scale": jnp.float32(s / prior.scale), "noise": jnp.float32(sigma)}
        map_opts["init_params"] = mode
        mode, _ = optimize.fit_point(base, xs, ys, rng, include_prior=True, options=map_opts,
                                     progress_bar=False, hyper=hyper)
        state = laplace.laplace_at(
            base, mode, xs, ys, structure=opts["hessian_structure"],
            subset=opts["subset_of_weights"], curvature=opts["curvature"], hyper=hyper,
        )
        history.append((s, sigma * scale, state.log_evidence - shift))
        rss = 0.0
        if gaussian:
            f = base.module.apply(base.unflatten(mode), jnp.asarray(xs)).reshape(n)
            rss = float(jnp.sum((jnp.asarray(ys) - f) ** 2))
        u = _maximise(
            jnp.log(jnp.array([s, sigma])), state.lik_curvature, float(jnp.sum(state.mean**2)),
            state.num_params, n, rss, gaussian,
        )
        new_s, new_sigma = float(jnp.exp(u[0])), float(jnp.exp(u[1]))
        if not (np.isfinite(new_s) and np.isfinite(new_sigma)):
            raise FloatingPointError("evidence maximisation diverged; try a different start")
        done = abs(new_s / s - 1) < tol and (not gaussian or abs(new_sigma / sigma - 1) < tol)
        s, sigma = new_s, (new_sigma if gaussian else sigma)
        if done:
            break
    # the final MAP at the tuned values (same compiled code), then a Laplace fit whose model
    # carries the tuned prior and noise
    hyper = {"prior_scale": jnp.float32(s / prior.scale), "noise": jnp.float32(sigma)}
    map_opts["init_params"] = mode
    mode, losses = optimize.fit_point(base, xs, ys, rng, include_prior=True, options=map_opts,
                                      progress_bar=False, hyper=hyper)
    lik = Gaussian(sigma * scale) if gaussian else likelihood
    final = make_model(model, Normal(s), Gaussian(sigma) if gaussian else likelihood,
                       x_checked.shape[1])
    state = laplace.laplace_at(
        final, mode, xs, ys, structure=opts["hessian_structure"],
        subset=opts["subset_of_weights"], curvature=opts["curvature"],
    )
    samples = laplace.sample(state, jax.random.fold_in(rng, 1), opts["num_samples"])
    result = FitResult(
        method="laplace", samples=samples, model=final, x=x_checked,
        y=likelihood.check_y(y, base.output_dim), scaling=scaling, losses=losses,
        extras={"laplace": state},
    )
    history.append((s, sigma * scale, result.log_evidence))
    return EvidenceResult(Normal(s), lik, result.log_evidence, result, tuple(history))
