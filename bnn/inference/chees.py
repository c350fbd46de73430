r"""ChEES-HMC: jittered HMC on many vectorised chains, tuned across chains.

The kernel is plain HMC with a diagonal mass matrix. Every chain takes the same number of
leapfrog steps in an iteration, :math:`\lceil u_t T / \epsilon \rceil` with :math:`u_t` a Halton
jitter in (0, 1], so the chains run as one batched loop with no tree building and no
per-chain branching. During warmup the ensemble tunes, across chains (Hoffman, Radul and
Sountsov 2021):

* the step size :math:`\epsilon` by dual averaging of the harmonic-mean acceptance
  probability towards ``target_accept_prob``;
* the trajectory length :math:`T` by Adam ascent of the ChEES criterion (the change in the
  ensemble's expected squared distance from its mean),

  .. math:: \nabla_T \approx \frac{\sum_c a_c\, u_t T\,
     (\|\theta'_c - \bar\theta'\|^2_{M} - \|\theta_c - \bar\theta\|^2_{M})\,
     (\theta'_c - \bar\theta')^\top p'_c}{\sum_c a_c};

* the inverse mass matrix, the within-chain variance averaged over chains, re-estimated at
  the end of three windows (at 15%, 40% and 75% of warmup); at each, dual averaging restarts
  from its averaged step size. The sampling phase uses the averaged step size and the
  moving average of log T.

``T`` starts at four leapfrog steps; within a short warmup Adam (rate 0.025 on log T) is what
limits how far it grows, so ``num_warmup`` also sets the trajectory length (on the notebook's
MLP, 200 iterations gave about 130 steps per draw; 400 gave longer trajectories and fewer
effective draws per gradient). Chains need not agree on a mode: the step size, length and
mass are shared, the positions are not.

Layout follows blackjax: :func:`init` makes a state, :func:`build_kernel` a pure
``step(key, state, ...)``, and :func:`build_sampler` wires warmup and sampling into one
compiled ``while`` loop that can run in chunks (for a progress bar).

References: M. D. Hoffman, A. Radul, P. Sountsov, "An adaptive MCMC scheme for setting
trajectory lengths in Hamiltonian Monte Carlo", AISTATS 2021; M. D. Hoffman, A. Gelman,
"The No-U-Turn sampler", JMLR 2014 (dual averaging).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

__all__ = ["HMCState", "HMCInfo", "Adaptation", "init", "build_kernel", "halton",
           "find_step_size", "build_sampler", "window_ends"]

MAX_DELTA_ENERGY = 1000.0  # an energy error above this counts as a divergence (as NumPyro)
WINDOWS = (0.15, 0.4, 0.75)  # mass-matrix re-estimation points, fractions of warmup


class HMCState(NamedTuple):
    """Positions of all chains, ``(num_chains, dim)``, with their log density and gradient."""

    position: jax.Array
    logdensity: jax.Array
    grad: jax.Array


class HMCInfo(NamedTuple):
    acceptance_rate: jax.Array  # (num_chains,)
    is_divergent: jax.Array  # (num_chains,)
    proposal: HMCState
    momentum: jax.Array  # at the end of the trajectory, (num_chains, dim)


def init(logdensity_fn: Callable, position: jax.Array, data) -> HMCState:
    """Batched state at ``position`` (``(num_chains, dim)``); ``logdensity_fn(z, data)``."""
    value, grad = jax.vmap(jax.value_and_grad(logdensity_fn), (0, None))(position, data)
    return HMCState(position, value, grad)


def build_kernel(logdensity_fn: Callable) -> Callable:
    """``step(key, state, data, step_size, inverse_mass, num_steps) -> (state, info)``.

    One Metropolis-adjusted HMC transition of every chain, ``num_steps`` leapfrog steps each
    (a scalar shared by the chains, so the loop is not masked per chain).
    """
    value_and_grad = jax.vmap(jax.value_and_grad(logdensity_fn), (0, None))

    def leapfrog(state, momentum, data, step_size, inverse_mass, num_steps):
        def body(_, carry):
            z, p, g, _value = carry
            p = p + 0.5 * step_size * g
            z = z + step_size * inverse_mass * p
            value, g = value_and_grad(z, data)
            return z, p + 0.5 * step_size * g, g, value

        init_carry = (state.position, momentum, state.grad, state.logdensity)
        z, p, g, value = jax.lax.fori_loop(0, num_steps, body, init_carry)
        return HMCState(z, value, g), p

    def step(key, state, data, step_size, inverse_mass, num_steps):
        key_momentum, key_accept = jax.random.split(key)
        p0 = jax.random.normal(key_momentum, state.position.shape) / jnp.sqrt(inverse_mass)
        proposal, p1 = leapfrog(state, p0, data, step_size, inverse_mass, num_steps)
        energy0 = -state.logdensity + 0.5 * jnp.sum(inverse_mass * p0**2, -1)
        energy1 = -proposal.logdensity + 0.5 * jnp.sum(inverse_mass * p1**2, -1)
        delta = jnp.where(jnp.isfinite(energy1), energy1 - energy0, jnp.inf)
        accept_prob = jnp.exp(-jnp.clip(delta, 0.0, None))
        accept = jax.random.uniform(key_accept, accept_prob.shape) < accept_prob
        new = jax.tree.map(lambda a, b: jnp.where(_rows(accept, a), a, b), proposal, state)
        return new, HMCInfo(accept_prob, delta > MAX_DELTA_ENERGY, proposal, p1)

    return step


def _rows(mask, a):
    return mask.reshape(mask.shape + (1,) * (a.ndim - 1))


def halton(index, base: int = 2, bits: int = 24) -> jax.Array:
    """The van der Corput (one-dimensional Halton) point number ``index + 1``, in (0, 1)."""
    i = jnp.asarray(index, jnp.int32) + 1

    def body(_, carry):
        f, r, i = carry
        f = f / base
        return f, r + f * (i % base), i // base

    return jax.lax.fori_loop(0, bits, body, (1.0, 0.0, i))[1]


def find_step_size(key, logdensity_fn, state, data, inverse_mass):
    """The largest power of two (from 2^-14 to 4) whose single leapfrog step is accepted with
    mean probability above one half, the usual starting point of dual averaging."""
    step = build_kernel(logdensity_fn)
    candidates = 2.0 ** jnp.arange(-14.0, 3.0)

    def mean_accept(eps):  # one traced copy of the kernel, mapped over the candidates
        return jnp.mean(step(key, state, data, eps, inverse_mass, 1)[1].acceptance_rate)

    accept = jax.lax.map(mean_accept, candidates)
    return jnp.max(jnp.where(accept > 0.5, candidates, candidates[0]))


class Adaptation(NamedTuple):
    """Cross-chain warmup state: dual averaging, ChEES/Adam on log T, pooled Welford."""

    log_step_size: jax.Array
    da_log_avg: jax.Array
    da_error: jax.Array
    da_mu: jax.Array
    da_count: jax.Array
    log_length: jax.Array  # log T, the (unjittered) trajectory length
    log_length_avg: jax.Array
    adam: optax.OptState
    inverse_mass: jax.Array
    count: jax.Array
    mean: jax.Array  # (num_chains, dim)
    m2: jax.Array  # (num_chains, dim)


def window_ends(num_warmup: int) -> tuple[int, ...]:
    """Iterations after which the mass matrix is re-estimated (none for a short warmup)."""
    if num_warmup < 20:
        return ()
    return tuple(int(w * num_warmup) for w in WINDOWS)


def _adaptation_init(position, step_size, optim):
    log_eps = jnp.log(step_size)
    log_t = log_eps + jnp.log(4.0)  # start with four leapfrog steps
    zeros = jnp.zeros_like(position)
    scalar = jnp.zeros((), jnp.float32)
    return Adaptation(log_eps, log_eps, scalar, jnp.log(10.0) + log_eps, scalar, log_t, log_t,
                      optim.init(log_t), jnp.ones(position.shape[1]), scalar, zeros, zeros)


def _dual_averaging(a: Adaptation, accept_stat, target):
    t = a.da_count + 1.0
    error = (1.0 - 1.0 / (t + 10.0)) * a.da_error + (target - accept_stat) / (t + 10.0)
    log_eps = a.da_mu - jnp.sqrt(t) / 0.05 * error
    eta = t**-0.75
    return log_eps, eta * log_eps + (1.0 - eta) * a.da_log_avg, error, t


def _chees_gradient(before, info, jitter, length, inverse_mass):
    """Acceptance-weighted ChEES gradient with respect to log T (whitened by the metric)."""
    z0 = before.position - jnp.mean(before.position, 0)
    z1 = info.proposal.position - jnp.mean(info.proposal.position, 0)
    change = jnp.sum(z1**2 / inverse_mass, -1) - jnp.sum(z0**2 / inverse_mass, -1)
    per_chain = jitter * length * change * jnp.sum(z1 * info.momentum, -1)
    ok = ~info.is_divergent & jnp.isfinite(per_chain)
    weight = jnp.where(ok, info.acceptance_rate, 0.0)
    return jnp.sum(weight * jnp.where(ok, per_chain, 0.0)) / jnp.maximum(jnp.sum(weight), 1e-10)


def _adapt(a: Adaptation, before, after, info, jitter, window_end, *, target, optim,
           max_num_steps):
    valid = jnp.where(info.is_divergent, jnp.nan, jnp.maximum(info.acceptance_rate, 1e-10))
    harmonic = 1.0 / jnp.nanmean(1.0 / valid)
    harmonic = jnp.where(jnp.isfinite(harmonic), harmonic, 0.0)
    log_eps, log_avg, error, count = _dual_averaging(a, harmonic, target)

    grad = _chees_gradient(before, info, jitter, jnp.exp(a.log_length), a.inverse_mass)
    updates, adam = optim.update(-grad, a.adam, a.log_length)
    log_t = optax.apply_updates(a.log_length, updates)
    log_t = jnp.minimum(log_t, log_avg + jnp.log(max_num_steps))
    log_t_avg = 0.5 * (a.log_length_avg + log_t)

    n = a.count + 1.0
    delta = after.position - a.mean
    mean = a.mean + delta / n
    m2 = a.m2 + delta * (after.position - mean)
    pooled = n * mean.shape[0]
    var = jnp.mean(m2, 0) / jnp.maximum(n - 1.0, 1.0)
    var = (pooled / (pooled + 5.0)) * var + 1e-3 * (5.0 / (pooled + 5.0))
    # at a window end: the new mass matrix, and dual averaging restarts from its average
    log_eps_new = jnp.where(window_end, log_avg, log_eps)
    restart = lambda fresh, old: jnp.where(window_end, fresh, old)  # noqa: E731
    zero = jnp.zeros_like(error)
    return Adaptation(
        log_eps_new,
        restart(log_eps_new, log_avg),
        restart(zero, error),
        restart(jnp.log(10.0) + log_eps_new, a.da_mu),
        restart(zero, count),
        log_t,
        log_t_avg,
        adam,
        restart(var, a.inverse_mass),
        restart(zero, n),
        restart(jnp.zeros_like(mean), mean),
        restart(jnp.zeros_like(m2), m2),
    )


class Carry(NamedTuple):
    iteration: jax.Array
    state: HMCState
    adaptation: Adaptation
    key: jax.Array
    draws: jax.Array  # (num_draws, num_chains, dim)
    accept_prob: jax.Array  # (num_draws, num_chains)
    diverging: jax.Array  # (num_draws, num_chains)
    logdensity: jax.Array  # (num_draws, num_chains)
    num_steps: jax.Array  # (num_warmup + num_samples,): leapfrog steps per iteration


def build_sampler(logdensity_fn: Callable, *, num_warmup: int, num_samples: int,
                  thinning: int = 1, target_accept_prob: float = 0.651,
                  learning_rate: float = 0.025, max_num_steps: int = 1024,
                  adapt_mass: bool = True, on_trace: Callable | None = None):
    """``(init_carry, run, final_parameters)`` for a warmup-then-sample ChEES-HMC run.

    ``init_carry(key, position, data)`` makes the loop state from ``(num_chains, dim)``
    starting positions; ``run(carry, data, stop)`` (compiled) advances it to iteration
    ``stop`` of ``num_warmup + num_samples``, so it can be called in chunks; the draws sit
    in ``carry.draws``, ``(num_samples // thinning, num_chains, dim)``.
    ``final_parameters(adaptation)`` gives the step size, trajectory length and inverse mass
    used for sampling.
    """
    kernel = build_kernel(logdensity_fn)
    optim = optax.adam(learning_rate)
    ends = jnp.asarray(window_ends(num_warmup) or (-1,), jnp.int32)
    num_draws = -(-num_samples // thinning)

    def final_parameters(a: Adaptation):
        return jnp.exp(a.da_log_avg), jnp.exp(a.log_length_avg), a.inverse_mass

    def init_carry(key, position, data):
        key, sub = jax.random.split(key)
        state = init(logdensity_fn, position, data)
        eps = find_step_size(sub, logdensity_fn, state, data, jnp.ones(position.shape[1]))
        a = _adaptation_init(position, eps, optim)
        c, d = position.shape
        return Carry(jnp.zeros((), jnp.int32), state, a, key,
                     jnp.zeros((num_draws, c, d), position.dtype), jnp.zeros((num_draws, c)),
                     jnp.zeros((num_draws, c), bool), jnp.zeros((num_draws, c)),
                     jnp.zeros((num_warmup + num_samples,), jnp.int32))

    def body(carry: Carry, data) -> Carry:
        it, a = carry.iteration, carry.adaptation
        warming = it < num_warmup
        eps_s, length_s, _ = final_parameters(a)
        eps = jnp.where(warming, jnp.exp(a.log_step_size), eps_s)
        length = jnp.where(warming, jnp.exp(a.log_length), length_s)
        jitter = halton(it)
        n = jnp.clip(jnp.ceil(jitter * length / eps), 1, max_num_steps).astype(jnp.int32)
        key, sub = jax.random.split(carry.key)
        state, info = kernel(sub, carry.state, data, eps, a.inverse_mass, n)
        adapted = _adapt(a, carry.state, state, info, jitter, adapt_mass & jnp.any(it + 1 == ends),
                         target=target_accept_prob, optim=optim, max_num_steps=max_num_steps)
        a = jax.tree.map(lambda new, old: jnp.where(warming, new, old), adapted, a)
        offset = it - num_warmup
        keep = (offset >= 0) & (offset % thinning == 0)
        j = jnp.clip(offset // thinning, 0, num_draws - 1)

        def put(buf, value):
            old = jax.lax.dynamic_index_in_dim(buf, j, keepdims=False)
            return jax.lax.dynamic_update_index_in_dim(buf, jnp.where(keep, value, old), j, 0)

        return Carry(it + 1, state, a, key, put(carry.draws, state.position),
                     put(carry.accept_prob, info.acceptance_rate),
                     put(carry.diverging, info.is_divergent),
                     put(carry.logdensity, state.logdensity), carry.num_steps.at[it].set(n))

    def run(carry: Carry, data, stop):
        if on_trace is not None:
            on_trace()
        return jax.lax.while_loop(lambda c: c.iteration < stop, lambda c: body(c, data), carry)

    return init_carry, jax.jit(run), final_parameters
