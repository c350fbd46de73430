r"""Stochastic variational inference (``"svi"``) with NumPyro autoguides.

Maximises the ELBO :math:`E_q[\log p(y, \theta) - \log q(\theta)]` with NumPyro's ``SVI``,
stepped by the same compiled loop as MAP. Guides:

* ``"normal"`` (mean field, ``AutoNormal``),
* ``"lowrank"`` (``AutoLowRankMultivariateNormal``, option ``rank``),
* ``"fullrank"`` (``AutoMultivariateNormal``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree
from numpyro import handlers
from numpyro.infer import SVI, Trace_ELBO, TraceMeanField_ELBO, autoguide, init_to_value
from numpyro.infer.svi import SVIState

from bnn._checks import positive_float, positive_int
from bnn.inference._driver import make_loop, run_loop
from bnn.inference.optimize import NonFiniteLossError, default_optimizer, initial_values
from bnn.model import latent_sites

OPTIONS = {
    "guide": "normal",
    "num_steps": 5000,
    "learning_rate": 1e-2,
    "optimizer": None,
    "num_samples": 1000,
    "num_particles": 1,
    "rank": None,
    "init_scale": 0.01,
}

GUIDES = {
    "normal": autoguide.AutoNormal,
    "mean_field": autoguide.AutoNormal,
    "lowrank": autoguide.AutoLowRankMultivariateNormal,
    "low_rank": autoguide.AutoLowRankMultivariateNormal,
    "fullrank": autoguide.AutoMultivariateNormal,
    "full_rank": autoguide.AutoMultivariateNormal,
}


class _Parts(NamedTuple):
    guide: autoguide.AutoGuide
    svi: SVI
    init: Callable  # svi.init, compiled
    run: Callable  # the optimisation loop (bnn.inference._driver.make_loop)
    finish: Callable  # num_samples -> compiled (state, key) -> (guide params, draws)


@functools.lru_cache(maxsize=32)
def _svi_parts(model, guide_name, rank, init_scale, optimizer, num_particles):
    cls = GUIDES[guide_name]
    kwargs = {"init_scale": init_scale}
    if rank is not None:
        kwargs["rank"] = rank
    # init locations come in through the SVI state below, not the strategy
    guide = cls(model, init_loc_fn=init_to_value(values={}), **kwargs)
    elbo = (TraceMeanField_ELBO if cls is autoguide.AutoNormal else Trace_ELBO)(
        num_particles=num_particles
    )
    svi = SVI(model, guide, optimizer, elbo)

    def step(state, data):
        x, y = data
        return svi.update(state, x, y)

    @functools.lru_cache(maxsize=8)
    def finish(num_samples):
        """Compiled ``(state, key) -> (guide params, draws)``: run eagerly, NumPyro's
        ``sample_posterior`` compiled op by op (seconds on a new model)."""

        def run(state, key):
            params = svi.get_params(state)
            return params, guide.sample_posterior(key, params, sample_shape=(num_samples,))

        return jax.jit(run)

    return _Parts(guide, svi, jax.jit(svi.init), make_loop(step, "svi"), finish)


def fit_svi(model, x, y, key, options, progress_bar):
    guide_name = options["guide"]
    if guide_name not in GUIDES:
        raise ValueError(f"unknown guide {guide_name!r}; use one of {sorted(set(GUIDES))}")
    num_steps = positive_int("num_steps", options["num_steps"])
    num_samples = positive_int("num_samples", options["num_samples"])
    num_particles = positive_int("num_particles", options["num_particles"])
    init_scale = positive_float("init_scale", options["init_scale"])
    rank = options["rank"]
    if rank is not None:
        if GUIDES[guide_name] is not autoguide.AutoLowRankMultivariateNormal:
            raise TypeError("rank is an option of guide='lowrank' only")
        rank = positive_int("rank", rank)
    optimizer = options["optimizer"]
    if optimizer is None:
        optimizer = default_optimizer(positive_float("learning_rate", options["learning_rate"]))
    elif not isinstance(optimizer, optax.GradientTransformation):
        raise TypeError(f"optimizer must be an optax transformation, got {type(optimizer)}")
    parts = _svi_parts(model, guide_name, rank, init_scale, optimizer, num_particles)
    guide, svi = parts.guide, parts.svi
    k_init, k_svi, k_draw = jax.random.split(key, 3)
    x, y = jnp.asarray(x), jnp.asarray(y)
    values = initial_values(model, k_init, x, y)
    state = _start_at(guide, svi, _init(parts, k_svi, x, y), latent_sites(model, x, y), values)
    state, losses = run_loop(parts.run, state, (x, y), num_steps, progress_bar, "SVI")
    losses = np.asarray(losses) / x.shape[0]
    bad = np.flatnonzero(~np.isfinite(losses))
    if bad.size:
        raise NonFiniteLossError(
            f"the SVI loss became {losses[bad[0]]} at step {bad[0]} of {num_steps}; lower the "
            "learning rate or pass standardize=True"
        )
    params, draws = parts.finish(num_samples)(state, k_draw)
    samples = {k: v[None] for k, v in draws.items() if k not in ("y", "f")}
    return samples, losses, {"guide": guide, "guide_params": params}


def _init(parts, key, x, y):
    """``svi.init``, compiled. The guide's prototype (NumPyro's eager trace of the model,
    which stores concrete values on the guide) is set up first, outside the compiled call,
    so nothing traced leaks into the guide; the rest of ``svi.init`` (guide and model traced
    together) then compiles as one function instead of running op by op."""
    if parts.guide.prototype_trace is None:
        with handlers.seed(rng_seed=key):
            parts.guide._setup_prototype(x, y)
    return parts.init(key, x, y)


def _start_at(guide, svi, state, sites, values):
    """The SVI state with the guide's locations at ``values`` (the Flax initialisation).

    The locations are real-valued, so they are the same in the optimiser's unconstrained
    space; the optimiser state is rebuilt around them (no second ``svi.init``, which would
    run the model and guide op by op again).
    """
    u = {name: t.inv(values[name]) for name, t in sites.transforms.items()}
    params = dict(svi.optim.get_params(state.optim_state))
    name = guide.prefix
    if f"{name}_loc" in params:  # AutoMultivariateNormal / AutoLowRank: one flat vector
        flat, _ = ravel_pytree({k: u[k] for k in guide._init_locs})
        params[f"{name}_loc"] = flat
    else:  # AutoNormal: one loc per site
        for k in u:
            if f"{k}_{name}_loc" in params:
                params[f"{k}_{name}_loc"] = u[k]
    return SVIState(svi.optim.init(params), state.mutable_state, state.rng_key)
