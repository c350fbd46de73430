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
import warnings
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.flatten_util import ravel_pytree
from numpyro.infer import HMC, MCMC, NUTS, Predictive
from numpyro.infer.util import potential_energy

from bnn._checks import positive_float, positive_int
from bnn.inference import chees
from bnn.inference._driver import count_trace, run_in_chunks
from bnn.inference.optimize import start_values
from bnn.model import latent_sites

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
    "num_samples": 500,
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
CHEES_MIN_WARMUP = 150  # below this the ChEES trajectory length may not have grown
_KERNEL_OPTIONS = ("target_accept_prob", "max_tree_depth", "dense_mass", "step_size", "num_steps",
                   "trajectory_length")
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
            raise TypeError("give HMC num_steps or trajectory_length, not both")
        # NumPyro's default trajectory_length would otherwise fix the step size
        kwargs["trajectory_length"] = None
    if options["trajectory_length"] is not None:
        kwargs["trajectory_length"] = positive_float(
            "trajectory_length", options["trajectory_length"]
        )
    return HMC(model, **kwargs, **common)


class _Flat:
    """The model's latent sites as one unconstrained vector per chain."""

    def __init__(self, model, sites):
        self.transforms = sites.transforms
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
        missing = sorted(set(self.transforms) - set(values))
        if missing:
            raise ValueError(f"no starting value for site(s) {missing}; pass init_params")
        return ravel_pytree({k: self.transforms[k].inv(values[k]) for k in self.transforms})[0]


@functools.lru_cache(maxsize=32)
def _flat(model, sites) -> _Flat:
    return _Flat(model, sites)


def _map_fit(flat, start, data, num_steps):
    """Vectorised MAP fits (Adam 1e-2 on the per-datum log joint) from each chain's start."""
    optim = optax.adam(1e-2)

    def fit_one(z):
        loss = lambda u: -flat.logdensity(u, data) / data[0].shape[0]  # noqa: E731

        def step(carry, _):
            u, state = carry
            updates, state = optim.update(jax.grad(loss)(u), state, u)
            return (optax.apply_updates(u, updates), state), None

        end = jax.lax.scan(step, (z, optim.init(z)), None, length=num_steps)[0][0]
        return jnp.where(jnp.all(jnp.isfinite(end)) & jnp.isfinite(loss(end)), end, z)

    return jax.vmap(fit_one)(start)


def _start_fn(model, sites, init, map_steps):
    """``starts(keys, shared, data) -> (num_chains, dim)`` unconstrained starting points.

    Each chain starts from its own Flax initialisation (one key per chain), with the
    ``shared`` site values (sigma, ``init_params``) overriding it for every chain; with
    ``init="map"`` each start then runs ``map_steps`` Adam steps of MAP, vectorised.
    """
    flat = _flat(model, sites)

    def starts(keys, shared, data):
        num_chains = keys.shape[0]
        values = dict(jax.lax.map(model.network_init, keys))  # compiles faster than vmap
        for k, v in shared.items():
            values[k] = jnp.broadcast_to(v, (num_chains, *jnp.shape(v)))
        start = jax.vmap(flat.unconstrain)(values)
        return _map_fit(flat, start, data, map_steps) if init == "map" else start

    return starts


@functools.lru_cache(maxsize=32)
def _nuts_starts(model, sites, init, map_steps):
    return jax.jit(_start_fn(model, sites, init, map_steps))


def _check_init(init, map_steps):
    if init not in _INITS:
        raise ValueError(f"init must be one of {_INITS}, got {init!r}")
    return positive_int("map_steps", map_steps)


def sample_mcmc(model, x, y, key, method, options, progress_bar):
    """NumPyro NUTS/HMC draws and sampler statistics with ``(chain, draw)`` leading.

    With ``chain_method="vectorized"`` (the default) NumPyro's kernel runs in bnn's own
    compiled loop (:func:`_vectorized_fns`): compiled once per model and settings, resumable in
    chunks for a cheap progress bar. Other chain methods go through ``numpyro.infer.MCMC``.
    """
    num_warmup = positive_int("num_warmup", options["num_warmup"])
    num_samples = positive_int("num_samples", options["num_samples"])
    num_chains = positive_int("num_chains", options["num_chains"])
    thinning = positive_int("thinning", options["thinning"])
    chain_method = options["chain_method"]
    if chain_method not in _CHAIN_METHODS:
        raise ValueError(f"chain_method must be one of {_CHAIN_METHODS}, got {chain_method!r}")
    _mcmc_kernel(model, method, options)  # validate the options before anything runs
    map_steps = _check_init(options["init"], options["map_steps"])
    x, y = jnp.asarray(x), jnp.asarray(y)
    k_init, k_run = jax.random.split(key)
    sites = latent_sites(model, x, y)
    shared = start_values(model, sites, y, options["init_params"])
    starts = _nuts_starts(model, sites, options["init"], map_steps)
    start = starts(jax.random.split(k_init, num_chains), shared, (x, y))
    init = jax.vmap(_flat(model, sites).unravel)(start)
    if chain_method == "vectorized":
        samples, raw = _run_vectorized(model, method, options, num_warmup, num_samples,
                                       num_chains, thinning, k_run, init, (x, y), progress_bar)
    else:
        samples, raw = _run_mcmc(model, method, options, num_warmup, num_samples, num_chains,
                                 thinning, chain_method, k_run, init, (x, y), progress_bar)
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


def _run_mcmc(model, method, options, num_warmup, num_samples, num_chains, thinning,
              chain_method, key, init, data, progress_bar):
    mcmc = MCMC(
        _mcmc_kernel(model, method, options),
        num_warmup=num_warmup,
        num_samples=num_samples,
        num_chains=num_chains,
        thinning=thinning,
        chain_method=chain_method,
        progress_bar=progress_bar,
    )
    if num_chains == 1:
        init = {k: v[0] for k, v in init.items()}
    mcmc.run(key, *data, init_params=init, extra_fields=_STATS)
    return mcmc.get_samples(group_by_chain=True), mcmc.get_extra_fields(group_by_chain=True)


class _Loop(NamedTuple):
    iteration: jax.Array
    state: object  # numpyro HMCState, batched over chains
    draws: dict  # site -> (num_draws, num_chains, ...), unconstrained
    stats: dict  # field -> (num_draws, num_chains)
    num_steps: jax.Array  # (num_warmup + num_samples, num_chains): leapfrog steps


def _field(state, name):
    for part in name.split("."):
        state = getattr(state, part)
    return state


@functools.lru_cache(maxsize=32)
def _vectorized_fns(model, method, kernel_options, num_warmup, num_samples, thinning):
    """``(init, run, constrain)`` compiled for one model and one set of sampler settings.

    ``init(keys, params, data)`` makes the loop state; ``run(loop, data, stop)`` advances it
    to iteration ``stop`` (so it can run in chunks); ``constrain`` maps the draws back.
    """
    kernel = _mcmc_kernel(model, method, dict(kernel_options))
    num_draws = -(-num_samples // thinning)

    def init(keys, params, data):
        # one chain's init, vmapped here: kernel.init on a batch of keys would wrap the
        # kernel's sample function in another vmap at every retrace
        state = jax.vmap(
            lambda k, p: kernel.init(k, num_warmup, p, model_args=data, model_kwargs={})
        )(keys, params)
        c = keys.shape[0]
        draws = jax.tree.map(lambda v: jnp.zeros((num_draws, *v.shape), v.dtype), state.z)
        stats = {f: jnp.zeros((num_draws, c), jnp.result_type(_field(state, f)))
                 for f in _STATS}
        return _Loop(jnp.zeros((), jnp.int32), state, draws, stats,
                     jnp.zeros((num_warmup + num_samples, c), jnp.int32))

    def body(loop, data):
        state = jax.vmap(kernel.sample, in_axes=(0, None, None))(loop.state, data, {})
        offset = loop.iteration - num_warmup
        keep = (offset >= 0) & (offset % thinning == 0)
        j = jnp.clip(offset // thinning, 0, num_draws - 1)

        def put(buf, value):
            old = jax.lax.dynamic_index_in_dim(buf, j, keepdims=False)
            return jax.lax.dynamic_update_index_in_dim(buf, jnp.where(keep, value, old), j, 0)

        return _Loop(
            loop.iteration + 1, state, jax.tree.map(put, loop.draws, state.z),
            {f: put(b, _field(state, f)) for f, b in loop.stats.items()},
            loop.num_steps.at[loop.iteration].set(state.num_steps.astype(jnp.int32)),
        )

    def run(loop, data, stop):
        count_trace(method)
        return jax.lax.while_loop(lambda c: c.iteration < stop, lambda c: body(c, data), loop)

    def constrain(draws, data):
        fn = kernel.postprocess_fn(data, {})
        return jax.vmap(jax.vmap(fn))(draws)

    return jax.jit(init), jax.jit(run), jax.jit(constrain)


def _run_vectorized(model, method, options, num_warmup, num_samples, num_chains, thinning,
                    key, init, data, progress_bar):
    kernel_options = tuple(sorted((k, options[k]) for k in _KERNEL_OPTIONS))
    init_fn, run, constrain = _vectorized_fns(model, method, kernel_options, num_warmup,
                                              num_samples, thinning)
    loop = init_fn(jax.random.split(key, num_chains), init, data)
    loop = _run_in_chunks(run, loop, data, num_warmup + num_samples, progress_bar,
                          method.upper())
    samples = constrain(loop.draws, data)
    samples = {k: jnp.swapaxes(v, 0, 1) for k, v in samples.items()}
    raw = {f: np.asarray(v).T for f, v in loop.stats.items()}
    return samples, raw


@functools.lru_cache(maxsize=32)
def _chees_fns(model, sites, init, map_steps, num_warmup, num_samples, thinning, target,
               learning_rate, max_num_steps, adapt_mass):
    """Compiled pieces of a ChEES run: ``start`` (starting points and the loop state, one
    compiled call), ``run`` (the loop, resumable), ``final`` and ``constrain``."""
    flat = _flat(model, sites)
    init_carry, run, final = chees.build_sampler(
        flat.logdensity, num_warmup=num_warmup, num_samples=num_samples, thinning=thinning,
        target_accept_prob=target, learning_rate=learning_rate, max_num_steps=max_num_steps,
        adapt_mass=adapt_mass, on_trace=lambda: count_trace("chees"),
    )
    starts = _start_fn(model, sites, init, map_steps)

    def start(keys, shared, key, data):
        return init_carry(key, starts(keys, shared, data), data)

    constrain = jax.jit(jax.vmap(jax.vmap(flat.constrain)))
    return jax.jit(start), run, final, constrain


def _run_in_chunks(run, carry, data, total, progress_bar, desc):
    """Advance a resumable sampler loop ``run(carry, data, stop)`` to ``total``."""
    return run_in_chunks(lambda c, _start, stop: run(c, data, stop), carry, total, progress_bar,
                         desc)


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
    if num_warmup < CHEES_MIN_WARMUP:
        warnings.warn(
            f"chees with num_warmup={num_warmup}: its cross-chain adaptation needs about "
            f"{CHEES_MIN_WARMUP} warmup iterations; with fewer the trajectories may stay a few "
            "steps long and the chains mix poorly (check R-hat)", UserWarning, stacklevel=3)
    map_steps = _check_init(options["init"], options["map_steps"])
    x, y = jnp.asarray(x), jnp.asarray(y)
    k_init, k_run = jax.random.split(key)
    sites = latent_sites(model, x, y)
    start, run, final, constrain = _chees_fns(
        model, sites, options["init"], map_steps, num_warmup, num_samples, thinning, target,
        learning_rate, max_num_steps, options["adapt_mass"],
    )
    shared = start_values(model, sites, y, options["init_params"])
    carry = start(jax.random.split(k_init, num_chains), shared, k_run, (x, y))
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
