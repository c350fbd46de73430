"""Point fits: ``bnn.fit(method="map")`` against the hand-written floor and the notebook loop.

All three run ``num_steps`` Adam steps (learning rate 1e-2) of MLP (10, 10, 1) tanh from the
network's Flax initialisation:

* ``bnn``: ``bnn.fit(net, x, y, method="map", prior=Normal(1), likelihood=Gaussian(0.1))``;
* ``handwritten``: the same MAP objective written by hand in JAX, one ``jax.jit`` of a
  ``lax.scan`` over optax steps after Flax's eager initialisation (the issue's and DESIGN.md's
  floor);
* ``handwritten_jit_init``: the same with the initialiser compiled into the jitted function,
  the strongest floor (it saves the eager initialiser's op-by-op compilation);
* ``notebook``: the teaching notebook's loop, a Python ``for`` over un-jitted
  ``jax.value_and_grad`` and ``optimizer.update`` calls on its MSE loss. It costs tens of
  milliseconds a step, so it runs ``notebook_steps`` steps (once per size) and its
  ``num_steps`` times are extrapolated: cold = cold(k steps) + (num_steps - k) x warm step.

Each is timed cold (right after ``_common.clear_caches()``, as in a fresh process) and warm,
interleaved in one process so that they share the machine's load.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from benchmarks._common import cold_and_warm, median, network

NOISE = 0.1
PRIOR_SCALE = 1.0
LEARNING_RATE = 1e-2


def _data(n: int):
    import bnn

    d = bnn.datasets.seed_regression() if n == 40 else bnn.datasets.seed_regression(n=n)
    return jnp.asarray(d.x), jnp.asarray(d.y)


def bnn_map(net, x, y, num_steps):
    import bnn

    def run():
        return bnn.fit(net, x, y, method="map", prior=bnn.priors.Normal(PRIOR_SCALE),
                       likelihood=bnn.likelihoods.Gaussian(NOISE), num_steps=num_steps,
                       learning_rate=LEARNING_RATE, key=0).samples

    return run


def handwritten_map(net, x, y, num_steps, jit_init: bool = False):
    """The floor: the MAP loss by hand, Adam steps in one jitted ``lax.scan``.

    As the issue and the notebook write it, Flax's initialiser runs eagerly before the jitted
    loop. ``jit_init=True`` compiles the initialiser into the same function as the loop: the
    strongest floor a careful user could write, reported beside it.
    """
    optimizer = optax.adam(LEARNING_RATE)
    n = x.shape[0]

    def loss(params, x, y):
        f = net.apply(params, x)[:, 0]
        sq = sum(jnp.sum(w**2) for w in jax.tree.leaves(params))
        return (0.5 * jnp.sum((y - f) ** 2) / NOISE**2 + 0.5 * sq / PRIOR_SCALE**2) / n

    def fit(params, x, y):
        def step(carry, _):
            params, state = carry
            value, grad = jax.value_and_grad(loss)(params, x, y)
            updates, state = optimizer.update(grad, state, params)
            return (optax.apply_updates(params, updates), state), value

        return jax.lax.scan(step, (params, optimizer.init(params)), None, length=num_steps)

    def init(key):
        return net.init(key, jnp.ones((1, 1)))

    if jit_init:
        fit_from_key = jax.jit(lambda key, x, y: fit(init(key), x, y))

        def run():
            (params, _), losses = fit_from_key(jax.random.PRNGKey(0), x, y)
            return params, losses
    else:
        fit_jit = jax.jit(fit)

        def run():
            (params, _), losses = fit_jit(init(jax.random.PRNGKey(0)), x, y)
            return params, losses

    return run


def notebook_loop(net, x, y, num_steps):
    """The notebook's own training loop (its MSE loss; a Python loop of un-jitted steps)."""
    optimizer = optax.adam(LEARNING_RATE)
    y2 = y[:, None]

    def compute_loss(params, x, y):
        return jnp.mean(optax.l2_loss(net.apply(params, x), y))

    def run():
        params = net.init(jax.random.PRNGKey(0), jnp.zeros(shape=(1, 1)))
        state = optimizer.init(params)
        loss = []
        for _ in range(num_steps):
            loss_val, grads = jax.value_and_grad(compute_loss)(params, x, y2)
            updates, state = optimizer.update(grads, state, params)
            params = optax.apply_updates(params, updates)
            loss.append(loss_val)
        return params

    return run


def _notebook(net, x, y, num_steps, timed_steps):
    """The notebook loop for ``timed_steps`` steps, its times scaled to ``num_steps``."""
    loop = notebook_loop(net, x, y, timed_steps)

    def measure():
        t = cold_and_warm(loop)
        per_step = t["warm_s"] / timed_steps
        rest = (num_steps - timed_steps) * per_step
        return {"cold_s": t["cold_s"] + rest, "warm_s": t["warm_s"] + rest,
                "timed_steps": timed_steps, "timed_cold_s": t["cold_s"],
                "timed_warm_s": t["warm_s"]}

    return measure


def run(config: dict) -> dict:
    """``config``: ``num_steps``, ``sizes``, ``repeats``, ``notebook_steps``,
    ``notebook_max_n`` (above it the notebook loop is skipped; it runs in the first repeat)."""
    net = network(10)
    num_steps = config["num_steps"]
    k = min(config.get("notebook_steps", num_steps), num_steps)
    out = {"num_steps": num_steps, "notebook_steps_timed": k, "sizes": {}}
    for n in config["sizes"]:
        x, y = _data(n)
        variants = {"bnn": bnn_map(net, x, y, num_steps),
                    "handwritten": handwritten_map(net, x, y, num_steps),
                    "handwritten_jit_init": handwritten_map(net, x, y, num_steps, jit_init=True)}
        notebook = _notebook(net, x, y, num_steps, k) if n <= config["notebook_max_n"] else None
        times = {name: [] for name in variants}
        if notebook:
            times["notebook"] = [notebook()]
        for r in range(config["repeats"]):
            order = list(variants)[r % len(variants):] + list(variants)[: r % len(variants)]
            for name in order:
                times[name].append(cold_and_warm(variants[name]))
        row = {"notebook_extrapolated_from_steps": k} if notebook else {}
        for name, reps in times.items():
            row[name] = {
                "cold_s": median(t["cold_s"] for t in reps),
                "warm_s": median(t["warm_s"] for t in reps),
                "cold_s_all": [t["cold_s"] for t in reps],
                "warm_s_all": [t["warm_s"] for t in reps],
            }
            row[name]["warm_us_per_step"] = 1e6 * row[name]["warm_s"] / num_steps
        row["ratios"] = _ratios(times)
        out["sizes"][str(n)] = row
    return out


def _ratios(times) -> dict:
    """Median over repeats of per-repeat ratios (each repeat measured side by side)."""
    out = {}
    pairs = [("bnn", "handwritten"), ("bnn", "handwritten_jit_init"), ("notebook", "handwritten"),
             ("notebook", "bnn")]
    for a, b in pairs:
        if a not in times or b not in times:
            continue
        for kind in ("cold_s", "warm_s"):
            ratios = [ta[kind] / tb[kind] for ta, tb in zip(times[a], times[b], strict=False)]
            out[f"{a}/{b} {kind[:-2]}"] = median(ratios)
    return out
