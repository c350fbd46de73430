"""How time per optimisation step and per gradient grows with n and with width (warm).

* ``map_step``: ``bnn.fit(method="map", num_steps=K)`` less ``num_steps=1``, over K - 1
  (``map_step_fixed``: the one-step fit, i.e. the per-fit cost outside the loop);
* ``handwritten_step``: the same for the hand-written jitted scan of :mod:`benchmarks.point`;
* ``gradient``: one gradient of the log joint that bnn's samplers use (the model flattened to
  one unconstrained vector), timed as a compiled loop of K gradients, over K.

K shrinks as the work per step grows so that each point takes about the same time.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from benchmarks._common import network, timed
from benchmarks.point import bnn_map, handwritten_map


def _steps(work: float, budget: float, lo: int, hi: int) -> int:
    return int(max(lo, min(hi, budget / max(work, 1.0))))


def _gradient_loop(net, x, y, num_grads):
    import bnn
    from bnn.inference import sampling
    from bnn.model import latent_sites, make_model

    model = make_model(net, bnn.priors.Normal(1.0), bnn.likelihoods.Gaussian(0.1), 1)
    sites = latent_sites(model, x, y)
    flat = sampling._flat(model, sites)
    grad = jax.grad(flat.logdensity)

    @jax.jit
    def loop(z, data):
        return jax.lax.fori_loop(0, num_grads, lambda i, u: u + 1e-9 * grad(u, data), z)

    z0 = jnp.zeros(flat.dim)
    return lambda: loop(z0, (x, y))


def _point(net, n: int, work: float, config: dict) -> dict:
    import bnn

    d = bnn.datasets.seed_regression(n=n)
    x, y = jnp.asarray(d.x), jnp.asarray(d.y)
    k = _steps(work, config["step_budget"], config["min_steps"], config["max_steps"])
    row = {"n": n, "num_steps": k}
    for name, make in (("map_step", lambda m: bnn_map(net, x, y, m)),
                       ("handwritten_step", lambda m: handwritten_map(net, x, y, m))):
        # a fit of k steps less a fit of one step: the per-fit fixed cost (initialisation,
        # dispatch, result) cancels, leaving the time of k - 1 steps
        t = {}
        for m in (1, k):
            fn = make(m)
            fn()  # compile
            t[m] = min(timed(fn)[0] for _ in range(config["repeats"]))
        # nan, not a made-up number, when the machine's noise swamped the k - 1 steps
        row[f"{name}_s"] = (t[k] - t[1]) / (k - 1) if t[k] > t[1] else float("nan")
        row[f"{name}_fixed_s"] = t[1]
    fn = _gradient_loop(net, x, y, k)
    fn()  # compile
    row["gradient_s"] = min(timed(fn)[0] for _ in range(config["repeats"])) / k
    return row


def run(config: dict) -> dict:
    """``config``: ``sizes``, ``widths``, ``width_n``, ``step_budget`` (flops-ish per point),
    ``min_steps``, ``max_steps``, ``repeats``."""
    by_n = []
    net = network(10)
    for n in config["sizes"]:
        by_n.append(_point(net, n, n * 120.0, config))
    by_width = []
    for w in config["widths"]:
        row = _point(network(w), config["width_n"], config["width_n"] * (w * w + 2 * w), config)
        row["width"] = w
        by_width.append(row)
    return {"by_n": by_n, "by_width": by_width, "width_n": config["width_n"]}
