"""Speed and accuracy of bnn against its anchors; run ``python -m benchmarks.run --help``.

Sections (each a module with ``run(config) -> dict``):

* :mod:`benchmarks.point`: ``bnn.fit(method="map")`` against a hand-written ``jax.jit`` of a
  ``lax.scan`` over optax steps and against the notebook's per-step Python loop;
* :mod:`benchmarks.mcmc`: bnn's samplers against plain NumPyro NUTS on the same posterior,
  in function-space ESS per second and per 1000 gradients, and the levers tried one by one;
* :mod:`benchmarks.overhead`: SVI steps per second and the cost of each progress bar;
* :mod:`benchmarks.scaling`: time per optimisation step and per gradient as n and width grow.

Nothing here imports ArviZ or needs matplotlib (the plot is optional), so the same entry point
runs on an accelerator image that lacks them.
"""
