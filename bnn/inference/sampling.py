"""Draws: the prior predictive (``"prior"``) and Hamiltonian Monte Carlo (``"nuts"``, ``"hmc"``).

Both use NumPyro's own machinery on the shared model: ``Predictive`` for the prior, ``MCMC``
with ``NUTS`` or ``HMC`` (compiled ``fori_loop`` drivers) for the posterior.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from numpyro.infer import HMC, MCMC, NUTS, Predictive
from numpyro.infer.util import unconstrain_fn

from bnn._checks import positive_float, positive_int
from bnn.inference.optimize import initial_values

PRIOR_OPTIONS = {"num_samples": 1000}

MCMC_OPTIONS = {
    "num_warmup": 500,
    "num_samples": 500,
    "num_chains": 4,
    "chain_method": "vectorized",
    "thinning": 1,
    "target_accept_prob": 0.8,
    "max_tree_depth": 10,
    "dense_mass": False,
    "step_size": 1.0,
    "num_steps": None,  # HMC only: leapfrog steps per draw (None lets NumPyro adapt)
    "trajectory_length": None,  # HMC only
    "init_params": None,
}

_CHAIN_METHODS = ("vectorized", "sequential", "parallel")
_STATS = ("diverging", "num_steps", "accept_prob", "potential_energy", "adapt_state.step_size")


@functools.lru_cache(maxsize=32)
def _prior_fn(model, num_samples):
    predictive = Predictive(model, num_samples=num_samples, parallel=True)
    return jax.jit(lambda key, x: predictive(key, x, None, record=False))


def sample_prior(model, x, y, key, options):
    num_samples = positive_int("num_samples", options["num_samples"])
    draws = _prior_fn(model, num_samples)(key, jnp.asarray(x))
    latent = {k: v[None] for k, v in draws.items() if k not in ("y", "f")}
    return latent


def _mcmc_kernel(model, method, options):
    common = dict(
        target_accept_prob=positive_float("target_accept_prob", options["target_accept_prob"]),
        dense_mass=bool(options["dense_mass"]),
        step_size=positive_float("step_size", options["step_size"]),
    )
    if not 0 < common["target_accept_prob"] < 1:
        raise ValueError(
            f"target_accept_prob must lie in (0, 1), got {common['target_accept_prob']}"
        )
    if method == "nuts":
        for name in ("num_steps", "trajectory_length"):
            if options[name] is not None:
                raise TypeError(f"{name} is an option of method='hmc', not 'nuts'")
        depth = positive_int("max_tree_depth", options["max_tree_depth"])
        return NUTS(model, max_tree_depth=depth, **common)
    kwargs = {}
    if options["num_steps"] is not None:
        kwargs["num_steps"] = positive_int("num_steps", options["num_steps"])
    if options["trajectory_length"] is not None:
        kwargs["trajectory_length"] = positive_float(
            "trajectory_length", options["trajectory_length"]
        )
    return HMC(model, **kwargs, **common)


def _chain_inits(model, key, x, y, num_chains, init_params):
    """Each chain starts from its own Flax initialisation (unconstrained, chain-leading)."""
    keys = jax.random.split(key, num_chains)
    values = [initial_values(model, k, x, y) for k in keys]
    if init_params is not None:
        values = [{**v, **{k: jnp.asarray(p) for k, p in init_params.items()}} for v in values]
    unconstrained = [unconstrain_fn(model, (x, y), {}, v) for v in values]
    return {k: jnp.stack([u[k] for u in unconstrained]) for k in unconstrained[0]}


def sample_mcmc(model, x, y, key, method, options, progress_bar):
    num_warmup = positive_int("num_warmup", options["num_warmup"])
    num_samples = positive_int("num_samples", options["num_samples"])
    num_chains = positive_int("num_chains", options["num_chains"])
    thinning = positive_int("thinning", options["thinning"])
    chain_method = options["chain_method"]
    if chain_method not in _CHAIN_METHODS:
        raise ValueError(f"chain_method must be one of {_CHAIN_METHODS}, got {chain_method!r}")
    kernel = _mcmc_kernel(model, method, options)
    mcmc = MCMC(
        kernel,
        num_warmup=num_warmup,
        num_samples=num_samples,
        num_chains=num_chains,
        thinning=thinning,
        chain_method=chain_method,
        progress_bar=progress_bar,
    )
    x, y = jnp.asarray(x), jnp.asarray(y)
    k_init, k_run = jax.random.split(key)
    init = _chain_inits(model, k_init, x, y, num_chains, options["init_params"])
    if num_chains == 1:
        init = {k: v[0] for k, v in init.items()}
    mcmc.run(k_run, x, y, init_params=init, extra_fields=_STATS)
    samples = mcmc.get_samples(group_by_chain=True)
    raw = mcmc.get_extra_fields(group_by_chain=True)
    stats = {
        "diverging": np.asarray(raw["diverging"]),
        "num_steps": np.asarray(raw["num_steps"]),
        "tree_depth": np.floor(np.log2(np.maximum(np.asarray(raw["num_steps"]), 1))).astype(int)
        + 1,
        "accept_prob": np.asarray(raw["accept_prob"]),
        "potential_energy": np.asarray(raw["potential_energy"]),
        "step_size": np.asarray(raw["adapt_state.step_size"]),
    }
    if method == "hmc":
        del stats["tree_depth"]
    return dict(samples), stats
