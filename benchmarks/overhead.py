"""SVI throughput and what a progress bar costs, method by method.

* SVI: ``bnn.fit(method="svi")`` steps per second (warm) for each guide.
* Progress bars: for each method of ``bnn.fit`` that takes ``progress_bar``, the warm wall time
  with the bar on over the time with it off, minus one. Both are compiled first; then on and
  off run back to back ``repeats`` times (alternating which goes first) and the overhead is
  the median over these pairs of on / off, minus one. The bar is drawn (into a
  swallowed stderr), so its real cost is paid.
"""

from __future__ import annotations

import jax.numpy as jnp

from benchmarks._common import median, network, posterior_spec, quiet_stderr, timed


def _data():
    import bnn

    d = bnn.datasets.seed_regression()
    return jnp.asarray(d.x), jnp.asarray(d.y)


def _fit(method: str, options: dict, progress_bar: bool, key: int = 0):
    import bnn
    from benchmarks.mcmc import _fit_chees

    x, y = _data()
    prior, likelihood = posterior_spec()
    net = network(10)
    if method == "chees":
        return lambda: _fit_chees(net, x, y, prior=prior, likelihood=likelihood, key=key,
                                  progress_bar=progress_bar, **options).samples
    return lambda: bnn.fit(net, x, y, method=method, prior=prior, likelihood=likelihood,
                           key=key, progress_bar=progress_bar, **options).samples


def svi_throughput(config: dict) -> dict:
    out = {}
    for guide in config["guides"]:
        options = {"guide": guide, "num_steps": config["num_steps"], "num_samples": 10}
        fn = _fit("svi", options, False)
        fn()  # compile
        wall = min(timed(fn)[0] for _ in range(config["repeats"]))
        out[guide] = {"num_steps": config["num_steps"], "warm_s": wall,
                      "steps_per_s": config["num_steps"] / wall}
    return out


def progress_bar_costs(config: dict) -> dict:
    import bnn

    out = {}
    for method, options in config["methods"].items():
        if method != "chees" and method not in bnn.METHODS:
            out[method] = {"skipped": "not a method of this bnn"}
            continue
        try:
            out[method] = _bar_cost(method, options, config["repeats"])
        except Exception as err:  # noqa: BLE001 - one broken method must not stop the suite
            out[method] = {"error": f"{type(err).__name__}: {err}"}
    return out


def _bar_cost(method: str, options: dict, repeats: int) -> dict:
    off, on = _fit(method, options, False), _fit(method, options, True)
    with quiet_stderr():
        cold_off, _ = timed(off)
        cold_on, _ = timed(on)
        times = {"off": [], "on": []}
        for r in range(repeats):
            for name in (("off", "on") if r % 2 == 0 else ("on", "off")):
                times[name].append(timed(off if name == "off" else on)[0])
    warm_off, warm_on = median(times["off"]), median(times["on"])
    # each repeat is a back-to-back pair; the median of the pairs' ratios is robust to the
    # machine's load changing between repeats (a shared core halves XLA's speed at times)
    ratios = [t_on / t_off for t_on, t_off in zip(times["on"], times["off"], strict=True)]
    return {
        "options": {k: v for k, v in options.items()},
        "warm_off_s": warm_off,
        "warm_on_s": warm_on,
        "cold_off_s": cold_off,
        "cold_on_s": cold_on,
        "overhead": median(ratios) - 1.0,
        "overhead_of_medians": warm_on / warm_off - 1.0,
        "off_s_all": times["off"],
        "on_s_all": times["on"],
    }


def run(config: dict) -> dict:
    return {"svi": svi_throughput(config["svi"]),
            "progress_bar": progress_bar_costs(config["bars"])}
