"""``bnn.fit``: validate once, build the shared NumPyro model, dispatch to a method."""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from bnn._checks import as_key, check_options, check_x
from bnn.inference import ensemble, laplace, optimize, sampling, svi
from bnn.inference._data import prepare
from bnn.likelihoods import Gaussian
from bnn.model import make_model
from bnn.priors import Normal
from bnn.results import FitResult

__all__ = ["fit", "METHODS"]

METHODS = {
    "mle": optimize.OPTIONS,
    "map": optimize.OPTIONS,
    "prior": sampling.PRIOR_OPTIONS,
    "svi": svi.OPTIONS,
    "nuts": sampling.MCMC_OPTIONS,
    "hmc": sampling.MCMC_OPTIONS,
    "laplace": laplace.OPTIONS,
    "ensemble": ensemble.OPTIONS,
    "chees": sampling.CHEES_OPTIONS,
}


def fit(
    model,
    x,
    y,
    *,
    method: str,
    prior=None,
    likelihood=None,
    key=0,
    standardize: bool = False,
    progress_bar: bool = False,
    **options,
) -> FitResult:
    r"""Fit a Flax network to ``(x, y)`` with the chosen method; every method shares one model.

    The model is :math:`y_n \sim p(y \mid f_\theta(x_n))` (the ``likelihood``) with
    :math:`\theta \sim p(\theta)` (the ``prior``), built by lifting ``model`` with
    :func:`numpyro.contrib.module.random_flax_module`.

    Args:
        model: any ``flax.linen.Module`` mapping ``(n, d)`` inputs to ``(n, k)`` outputs.
        x: inputs, ``(n,)`` or ``(n, d)``, finite.
        y: targets, ``(n,)`` or ``(n, 1)`` (integer labels for classification).
        method: ``"mle"``, ``"map"``, ``"prior"``, ``"svi"``, ``"nuts"``, ``"hmc"``,
            ``"chees"``, ``"laplace"`` or ``"ensemble"``. For posterior draws ``"chees"`` is
            the recommended sampler: on the notebook's MLP it gave 8.5-17x (three runs) the
            function-space ESS per second of NumPyro's default NUTS at the same R-hat
            (benchmarks/RESULTS.md).
        prior: a :mod:`bnn.priors` prior, a float (isotropic Normal scale), a NumPyro
            distribution or a dict keyed by parameter path. Default ``Normal(1.0)``. MLE
            ignores it.
        likelihood: a :mod:`bnn.likelihoods` object; default ``Gaussian(noise="learn")``.
        key: an int or a JAX PRNG key.
        standardize: fit on standardised x (and y for regression), undone in predictions.
            This changes what the prior means, so it is off by default.
        progress_bar: show a tqdm bar (chunked, so it stays cheap).
        **options: method options, named as NumPyro names them:
            ``mle``/``map``: ``num_steps`` (2000), ``learning_rate`` (1e-2), ``optimizer``
            (any optax transformation; replaces ``learning_rate``), ``init_params``;
            ``prior``: ``num_samples`` (1000);
            ``svi``: ``guide`` (``"normal"``, ``"lowrank"``, ``"fullrank"``), ``num_steps``,
            ``learning_rate``, ``optimizer``, ``num_samples``, ``num_particles``, ``rank``,
            ``init_scale``;
            ``nuts``/``hmc``: ``num_warmup`` (500), ``num_samples`` (500), ``num_chains`` (4),
            ``chain_method``, ``thinning``, ``target_accept_prob``, ``max_tree_depth``,
            ``dense_mass``, ``step_size``, ``init_params``, ``init`` (``"flax"``: each chain
            from its own Flax initialisation, or ``"map"``: from there after ``map_steps``
            (1000) Adam steps of MAP); ``hmc`` also ``num_steps`` and ``trajectory_length``;
            ``chees``: ChEES-HMC (Hoffman et al., 2021), many vectorised chains with
            cross-chain adaptation of the step size, trajectory length and a diagonal mass
            matrix: ``num_chains`` (16), ``num_warmup`` (200; below 150 it warns),
            ``num_samples`` (500 per chain), ``thinning``, ``target_accept_prob`` (0.651),
            ``max_num_steps`` (1024 leapfrog steps per draw), ``learning_rate`` (0.025, of the
            trajectory-length adaptation), ``adapt_mass`` (True), ``init`` (``"map"``) and
            ``map_steps`` (1000) as for NUTS, ``init_params``;
            ``laplace``: the MAP options, ``hessian_structure`` (``"full"``, ``"diag"``),
            ``subset_of_weights`` (``"all"``, ``"last_layer"``), ``curvature`` (``"ggn"``,
            ``"hessian"``), ``num_samples`` (1000);
            ``ensemble``: the MAP options and ``num_members`` (5).

    Returns:
        A :class:`bnn.FitResult`.

    >>> import bnn
    >>> data = bnn.datasets.seed_regression()
    >>> res = bnn.fit(bnn.models.PolynomialRegressor(3), data.x, data.y, method="map",
    ...               likelihood=bnn.likelihoods.Gaussian(0.1), num_steps=500)
    >>> res.predict(data.x_test).mean.shape
    (200,)
    """
    if not isinstance(method, str) or method.lower() not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {list(METHODS)}")
    method = method.lower()
    opts = check_options(method, options, METHODS[method])
    if not isinstance(progress_bar, bool):
        raise TypeError(f"progress_bar must be True or False, got {progress_bar!r}")
    prior = Normal(1.0) if prior is None else prior
    likelihood = Gaussian("learn") if likelihood is None else likelihood
    rng = as_key(key)
    start = time.perf_counter()

    x_checked = check_x(x)
    bayes = make_model(model, prior, likelihood, x_checked.shape[1])
    xs, ys, scaling = prepare(x_checked, y, likelihood, bayes.output_dim, standardize)
    if standardize and isinstance(likelihood, Gaussian) and not likelihood.learned:
        # a known noise is given in the units of y: carry it into standardised units
        inner = Gaussian(likelihood.noise / scaling.y_scale)
        bayes = make_model(model, prior, inner, x_checked.shape[1])

    losses = stats = None
    extras = {}
    if method in ("mle", "map"):
        params, losses = optimize.fit_point(
            bayes, xs, ys, rng, include_prior=method == "map", options=opts,
            progress_bar=progress_bar,
        )
        # through numpy: jax's indexing would compile one small function per site
        samples = {k: jnp.asarray(np.asarray(v)[None, None]) for k, v in params.items()}
    elif method == "prior":
        samples = sampling.sample_prior(bayes, xs, ys, rng, opts)
    elif method == "svi":
        samples, losses, extras = svi.fit_svi(bayes, xs, ys, rng, opts, progress_bar)
    elif method == "laplace":
        samples, losses, extras = laplace.fit_laplace(bayes, xs, ys, rng, opts, progress_bar)
    elif method == "chees":
        samples, stats, extras = sampling.sample_chees(bayes, xs, ys, rng, opts, progress_bar)
    elif method == "ensemble":
        samples, losses = ensemble.fit_ensemble(bayes, xs, ys, rng, opts, progress_bar)
    else:
        samples, stats = sampling.sample_mcmc(bayes, xs, ys, rng, method, opts, progress_bar)
    samples = jax.block_until_ready(samples)
    return FitResult(
        method=method,
        samples=samples,
        model=bayes,
        x=x_checked,
        y=likelihood.check_y(y, bayes.output_dim),
        scaling=scaling,
        losses=losses,
        stats=stats,
        wall_time=time.perf_counter() - start,
        extras=extras,
    )
