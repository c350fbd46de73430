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
    from bnn.inference import fit

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
    s, sigma = prior.scale, (likelihood.noise if gaussian else 1.0)
    history, init, result = [], None, None
    for _ in range(num_rounds):
        lik = Gaussian(sigma) if gaussian else likelihood
        result = fit(model, x, y, method="laplace", prior=Normal(s), likelihood=lik, key=key,
                     standardize=standardize, init_params=init, **options)
        state = result.laplace
        history.append((s, sigma, result.log_evidence))
        init = {k: v for k, v in state.mode.items() if k.startswith("net/")}
        scale = result.scaling.y_scale if gaussian else 1.0
        rss = 0.0
        if gaussian:
            resid = (result.predict(result.x).mean - result.y) / scale
            rss = float(np.sum(resid**2))
        u = _maximise(
            jnp.log(jnp.array([s, sigma / scale])), state.lik_curvature,
            float(jnp.sum(state.mean**2)), state.num_params, result.y.shape[0], rss, gaussian,
        )
        new_s, new_sigma = float(jnp.exp(u[0])), float(jnp.exp(u[1])) * scale
        if not (np.isfinite(new_s) and np.isfinite(new_sigma)):
            raise FloatingPointError("evidence maximisation diverged; try a different start")
        done = abs(new_s / s - 1) < tol and (not gaussian or abs(new_sigma / sigma - 1) < tol)
        s, sigma = new_s, (new_sigma if gaussian else sigma)
        if done:
            break
    lik = Gaussian(sigma) if gaussian else likelihood
    result = fit(model, x, y, method="laplace", prior=Normal(s), likelihood=lik, key=key,
                 standardize=standardize, init_params=init, **options)
    history.append((s, sigma, result.log_evidence))
    return EvidenceResult(Normal(s), lik, result.log_evidence, result, tuple(history))
