"""Draws: the prior predictive (``"prior"``) and Hamiltonian Monte Carlo (``"nuts"``, ``"hmc"``,
``"chees"``).

The prior and ``"nuts"``/``"hmc"`` use NumPyro's own machinery on the shared model:
``Predictive`` for the prior, ``MCMC`` with ``NUTS`` or ``HMC`` (compiled ``fori_loop``
drivers) for the posterior. ``"chees"`` runs :mod:`bnn.inference.chees` (jittered HMC on many
vectorised chains with cross-chain adaptation) on the same log joint, flattened to one vector
per chain, with chains started from MAP fits.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree
from numpyro import handlers
from numpyro.distributions import biject_to
from numpyro.infer import HMC, MCMC, NUTS, Predictive
from numpyro.infer.util import potential_energy

from bnn._checks import positive_float, positive_int
from bnn.inference import chees
from bnn.inference._driver import NUM_CHUNKS, TRACE_COUNTS
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
    "init": "flax",
    "map_steps": 1000,
}

CHEES_OPTIONS = {
    "num_warmup": 200,
    "num_samples": 250,
    "num_chains": 16,
    "thinning": 1,
    "target_accept_prob": 0.651,
    "max_num_steps": 1024,
    "learning_rate": 0.025,
    "adapt_mass": True,
    "init": "map",
    "map_steps": 1000,
    "init_params": None,
}

_INITS = ("map", "flax")
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


class _Flat:
    """The model's latent sites as one unconstrained vector per chain."""

    def __init__(self, model, sites):
        self.transforms = {name: biject_to(support) for name, _, support in sites}
        example = {
            name: jnp.zeros(self.transforms[name].inverse_shape(shape), jnp.float32)
            for name, shape, _ in sites
        }
        flat, self.unravel = ravel_pytree(example)
        self.dim = int(flat.shape[0])

        def logdensity(z, data):
            x, y = data
            return -potential_energy(model, (x, y), {}, self.unravel(z))

        self.logdensity = logdensity

    def constrain(self, z):
        return {k: self.transforms[k](v) for k, v in self.unravel(z).items()}

    def unconstrain(self, values):
        return ravel_pytree({k: self.transforms[k].inv(values[k]) for k in self.transforms})[0]


def _sites(model, x, y, values):
    tr = handlers.trace(handlers.substitute(handlers.seed(model, 0), data=values)).get_trace(x, y)
    return tuple(
        (name, tuple(jnp.shape(site["value"])), site["fn"].support)
        for name, site in tr.items()
        if site["type"] == "sample" and not site["is_observed"]
    )


@functools.lru_cache(maxsize=32)
def _flat(model, sites) -> _Flat:
    return _Flat(model, sites)


@functools.lru_cache(maxsize=32)
def _network_inits(model):
    return jax.jit(jax.vmap(model.network_init))


@functools.lru_cache(maxsize=32)
def _map_fn(model, sites, num_steps):
    """Vectorised MAP fits (Adam, per-datum log joint) from each chain's start."""
    flat = _flat(model, sites)
    optim = optax.adam(1e-2)

    def fit_one(z, data):
        loss = lambda u: -flat.logdensity(u, data) / data[0].shape[0]  # noqa: E731

        def step(carry, _):
            u, state = carry
            updates, state = optim.update(jax.grad(loss)(u), state, u)
            return (optax.apply_updates(u, updates), state), None

        end = jax.lax.scan(step, (z, optim.init(z)), None, length=num_steps)[0][0]
        ok = jnp.all(jnp.isfinite(end)) & jnp.isfinite(loss(end))
        return jnp.where(ok, end, z)

    return jax.jit(jax.vmap(fit_one, in_axes=(0, None)))


def _starts(model, key, x, y, num_chains, init_params, init, map_steps):
    """``(sites, flat model, (num_chains, dim))``: unconstrained starting points, one per chain.

    Each chain starts from its own Flax initialisation (sigma at half the spread of y), with
    ``init_params`` overriding sites for every chain; ``init="map"`` then runs ``map_steps``
    Adam steps of MAP from each start, vectorised over chains.
    """
    if init not in _INITS:
        raise ValueError(f"init must be one of {_INITS}, got {init!r}")
    keys = jax.random.split(key, num_chains)
    values = initial_values(model, keys[0], x, y)
    if init_params is not None:
        values = {**values, **{k: jnp.asarray(p) for k, p in init_params.items()}}
    sites = _sites(model, x, y, values)
    flat = _flat(model, sites)
    nets = _network_inits(model)(keys)
    per_chain = {k: jnp.broadcast_to(v, (num_chains, *jnp.shape(v))) for k, v in values.items()}
    if init_params is not None:
        nets = {k: v for k, v in nets.items() if k not in init_params}
    start = jax.vmap(flat.unconstrain)({**per_chain, **nets})
    if init == "map":
        start = _map_fn(model, sites, positive_int("map_steps", map_steps))(start, (x, y))
    return sites, flat, start


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
    _, flat, start = _starts(model, k_init, x, y, num_chains, options["init_params"],
                             options["init"], options["map_steps"])
    init = jax.vmap(flat.unravel)(start)
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


@functools.lru_cache(maxsize=32)
def _chees_fns(model, sites, num_warmup, num_samples, thinning, target, learning_rate,
               max_num_steps, adapt_mass):
    flat = _flat(model, sites)
    init_carry, run, final = chees.build_sampler(
        flat.logdensity, num_warmup=num_warmup, num_samples=num_samples, thinning=thinning,
        target_accept_prob=target, learning_rate=learning_rate, max_num_steps=max_num_steps,
        adapt_mass=adapt_mass, on_trace=lambda: _count("chees"),
    )
    draws = jax.jit(jax.vmap(jax.vmap(flat.constrain)))
    return jax.jit(init_carry), run, final, draws


def _count(name):
    TRACE_COUNTS[name] = TRACE_COUNTS.get(name, 0) + 1


def _run_in_chunks(run, carry, data, total, progress_bar, desc):
    """Advance the compiled loop to ``total``: in one call, or in chunks under a tqdm bar."""
    if not progress_bar:
        return run(carry, data, total)
    from tqdm.auto import tqdm

    chunk = math.ceil(total / min(NUM_CHUNKS, total))
    with tqdm(total=total, desc=desc, leave=False) as bar:
        for start in range(0, total, chunk):
            stop = min(start + chunk, total)
            carry = run(carry, data, stop)
            jax.block_until_ready(carry.iteration)
            bar.update(stop - start)
    return carry


def sample_chees(model, x, y, key, options, progress_bar):
    """ChEES-HMC draws; returns ``(samples, stats, extras)`` with ``(chain, draw)`` leading.

    ``extras`` holds the tuned ``step_size``, ``trajectory_length`` and ``inverse_mass`` and
    ``num_grad_evals``, the gradient evaluations of the whole run (MAP starts included).
    """
    num_warmup = positive_int("num_warmup", options["num_warmup"])
    num_samples = positive_int("num_samples", options["num_samples"])
    num_chains = positive_int("num_chains", options["num_chains"])
    thinning = positive_int("thinning", options["thinning"])
    max_num_steps = positive_int("max_num_steps", options["max_num_steps"])
    learning_rate = positive_float("learning_rate", options["learning_rate"])
    target = positive_float("target_accept_prob", options["target_accept_prob"])
    if not 0 < target < 1:
        raise ValueError(f"target_accept_prob must lie in (0, 1), got {target}")
    if num_chains < 2:
        raise ValueError(f"chees adapts across chains and needs num_chains >= 2, got {num_chains}")
    if not isinstance(options["adapt_mass"], bool):
        raise TypeError(f"adapt_mass must be True or False, got {options['adapt_mass']!r}")
    x, y = jnp.asarray(x), jnp.asarray(y)
    k_init, k_run = jax.random.split(key)
    sites, _, start = _starts(model, k_init, x, y, num_chains, options["init_params"],
                              options["init"], options["map_steps"])
    init_carry, run, final, constrain = _chees_fns(
        model, sites, num_warmup, num_samples, thinning, target, learning_rate, max_num_steps,
        options["adapt_mass"],
    )
    carry = init_carry(k_run, start, (x, y))
    carry = _run_in_chunks(run, carry, (x, y), num_warmup + num_samples, progress_bar, "ChEES")
    samples = constrain(jnp.swapaxes(carry.draws, 0, 1))
    step_size, length, inverse_mass = final(carry.adaptation)
    num_steps = np.asarray(carry.num_steps)
    draws_steps = num_steps[num_warmup:][::thinning]
    shape = (num_chains, draws_steps.shape[0])
    stats = {
        "diverging": np.asarray(carry.diverging).T,
        "num_steps": np.broadcast_to(draws_steps, shape).copy(),
        "accept_prob": np.asarray(carry.accept_prob).T,
        "potential_energy": -np.asarray(carry.logdensity).T,
        "step_size": np.full(shape, float(step_size), np.float32),
    }
    map_grads = options["map_steps"] if options["init"] == "map" else 0
    extras = {
        "step_size": float(step_size),
        "trajectory_length": float(length),
        "inverse_mass": np.asarray(inverse_mass),
        "num_grad_evals": int(num_chains * (num_steps.sum() + map_grads)),
    }
    return dict(samples), stats, extras
