"""Samplers on one posterior: bnn against plain NumPyro NUTS, in function space.

The posterior: MLP (10, 10, 1) tanh, Normal(0, 1) on every weight and bias, sigma ~
HalfNormal(0.5), Gaussian likelihood, the notebook's 40 points (raw, not standardised).

* ``numpyro``: the anchor. A model written by hand with ``random_flax_module`` and NumPyro's
  ``NUTS`` at its default settings (``init_to_uniform``, target 0.8, tree depth 10, diagonal
  mass), ``MCMC`` with 4 chains and its default ``chain_method`` (one device: sequential);
  the progress bar is off, as it would otherwise dominate (DESIGN.md).
* ``bnn_nuts``: ``bnn.fit(method="nuts")`` with its defaults.
* ``bnn_chees``: ``bnn.fit(method="chees")`` with its defaults (ChEES-HMC, many vectorised
  chains started from MAP fits, cross-chain adaptation).
* levers (full suite): one change at a time to bnn_nuts or bnn_chees, and MCLMC (BlackJAX,
  when it is installed).

Metric: the minimum bulk ESS of f(x*) over 50 points on [-1.5, 1.5] (NumPyro's estimator) per
second of sampling wall time, cold (compilation included) and warm, and per 1000 gradient
evaluations; the maximum split R-hat of f(x*); divergences.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks._common import GRID, clear_caches, function_space, network, posterior_spec

NUM_CHAINS = 4


def _data():
    import bnn

    d = bnn.datasets.seed_regression()
    return jnp.asarray(d.x), jnp.asarray(d.y)


# ------------------------------------------------------------------ the anchor
def numpyro_default(options: dict, kernel_options: dict | None = None):
    """Plain NumPyro: the model by hand, ``NUTS(model)`` with every default (the quick suite
    alone passes ``kernel_options``, a shallow tree, to stay quick)."""
    import flax
    import numpyro
    import numpyro.distributions as dist
    from numpyro.contrib.module import random_flax_module
    from numpyro.infer import MCMC, NUTS

    net = network(10)
    x, y = _data()

    def model(x, y=None):
        nn = random_flax_module("nn", net, prior=dist.Normal(0.0, 1.0), input_shape=(1, 1))
        sigma = numpyro.sample("sigma", dist.HalfNormal(0.5))
        f = nn(x)[:, 0]
        numpyro.sample("y", dist.Normal(f, sigma), obs=y)

    def f_grid(samples):
        def one(p):
            flat = {k[len("nn/"):]: v for k, v in p.items() if k.startswith("nn/")}
            params = flax.traverse_util.unflatten_dict(flat, sep=".")
            return net.apply({"params": params}, jnp.asarray(GRID))[:, 0]

        return jax.jit(jax.vmap(jax.vmap(one)))(samples)

    def run(key):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "not enough devices": sequential
            mcmc = MCMC(NUTS(model, **(kernel_options or {})), num_warmup=options["num_warmup"],
                        num_samples=options["num_samples"], num_chains=NUM_CHAINS,
                        progress_bar=False)
        start = time.perf_counter()
        mcmc.run(jax.random.PRNGKey(key), x, y, extra_fields=("num_steps", "diverging"))
        samples = jax.block_until_ready(mcmc.get_samples(group_by_chain=True))
        wall = time.perf_counter() - start
        extra = mcmc.get_extra_fields(group_by_chain=True)
        return {
            "wall_s": wall,
            "f": np.asarray(f_grid(samples)),
            "sampling_grads": int(np.sum(extra["num_steps"])),
            "total_grads": None,
            "divergences": int(np.sum(extra["diverging"])),
            "num_chains": NUM_CHAINS,
            "mean_steps_per_draw": float(np.mean(extra["num_steps"])),
        }

    return run


# ------------------------------------------------------------------ bnn
def _fit_chees(net, x, y, *, prior, likelihood, key, progress_bar=False, **options):
    """``bnn.fit(method="chees")``, or the same steps by hand while fit does not list it."""
    import bnn

    if "chees" in bnn.METHODS:
        return bnn.fit(net, x, y, method="chees", prior=prior, likelihood=likelihood, key=key,
                       progress_bar=progress_bar, **options)
    from bnn._checks import as_key, check_options, check_x
    from bnn.inference import sampling
    from bnn.inference._data import prepare
    from bnn.model import make_model
    from bnn.results import FitResult

    opts = check_options("chees", options, sampling.CHEES_OPTIONS)
    start = time.perf_counter()
    xc = check_x(x)
    bayes = make_model(net, prior, likelihood, xc.shape[1])
    xs, ys, scaling = prepare(xc, y, likelihood, bayes.output_dim, False)
    samples, stats, extras = sampling.sample_chees(bayes, xs, ys, as_key(key), opts,
                                                   progress_bar)
    samples = jax.block_until_ready(samples)
    return FitResult(method="chees", samples=samples, model=bayes, x=xc,
                     y=likelihood.check_y(y, bayes.output_dim), scaling=scaling, stats=stats,
                     wall_time=time.perf_counter() - start, extras=extras)


def bnn_sampler(method: str, options: dict):
    import bnn

    net = network(10)
    x, y = _data()
    prior, likelihood = posterior_spec()

    def run(key):
        start = time.perf_counter()
        if method == "chees":
            fit = _fit_chees(net, x, y, prior=prior, likelihood=likelihood, key=key, **options)
        else:
            fit = bnn.fit(net, x, y, method=method, prior=prior, likelihood=likelihood,
                          key=key, **options)
        wall = time.perf_counter() - start
        f = fit.predict(GRID).f_samples.reshape(fit.num_chains, fit.num_draws, -1)
        return {
            "wall_s": wall,
            "f": f,
            "sampling_grads": int(np.sum(fit.stats["num_steps"])),
            "total_grads": fit.extras.get("num_grad_evals"),
            "divergences": int(np.sum(fit.stats["diverging"])),
            "num_chains": fit.num_chains,
            "mean_steps_per_draw": float(np.mean(fit.stats["num_steps"])),
        }

    return run


# ------------------------------------------------------------------ MCLMC (optional)
def mclmc_blackjax(options: dict):
    """Unadjusted MCLMC from BlackJAX (tuned per chain, vectorised), chains from MAP fits."""
    import blackjax

    from bnn.inference import sampling
    from bnn.inference.optimize import start_values
    from bnn.model import latent_sites, make_model

    net = network(10)
    x, y = _data()
    prior, likelihood = posterior_spec()

    model = make_model(net, prior, likelihood, 1)
    num_chains, num_steps, thin = options["num_chains"], options["num_steps"], options["thinning"]

    def run(key):
        start = time.perf_counter()
        sites = latent_sites(model, x, y)
        flat = sampling._flat(model, sites)
        shared = start_values(model, sites, y, None)
        keys0 = jax.random.split(jax.random.PRNGKey(key), num_chains)
        z0 = sampling._nuts_starts(model, sites, "map", 1000)(keys0, shared, (x, y))
        logdensity = lambda z: flat.logdensity(z, (x, y))  # noqa: E731
        kernel = blackjax.mcmc.mclmc.build_kernel()

        def chain(k, z):
            k1, k2, k3 = jax.random.split(k, 3)
            state = blackjax.mcmc.mclmc.init(z, logdensity, k1)
            state, params, _ = blackjax.mclmc_find_L_and_step_size(
                mclmc_kernel=kernel, num_steps=num_steps, state=state, rng_key=k2,
                logdensity_fn=logdensity, diagonal_preconditioning=True)

            def draw(st, kk):
                def inner(i, st):
                    return kernel(jax.random.fold_in(kk, i), st, logdensity,
                                  params.inverse_mass_matrix, params.L, params.step_size)[0]

                st = jax.lax.fori_loop(0, thin, inner, st)
                return st, st.position

            return jax.lax.scan(draw, state, jax.random.split(k3, num_steps // thin))[1]

        keys = jax.random.split(jax.random.PRNGKey(key + 1), num_chains)
        zs = jax.block_until_ready(jax.jit(jax.vmap(chain))(keys, z0))
        wall = time.perf_counter() - start
        draws = jax.vmap(jax.vmap(flat.constrain))(zs)
        f = _f_from_sites(model, draws)
        grads = 2 * num_chains * num_steps  # two gradients per McLachlan step, sampling only
        return {"wall_s": wall, "f": f, "sampling_grads": grads,
                "total_grads": int(grads * 1.35 + num_chains * 1000), "divergences": 0,
                "num_chains": num_chains, "mean_steps_per_draw": 2.0 * thin}

    return run


def _f_from_sites(model, draws):
    from bnn.results import FitResult

    c, s = next(iter(draws.values())).shape[:2]
    fit = FitResult(method="mclmc", samples=draws, model=model, x=np.zeros((1, 1), np.float32),
                    y=np.zeros(1, np.float32), scaling=_identity())
    return fit.predict(GRID).f_samples.reshape(c, s, -1)


def _identity():
    from bnn.inference._data import Scaling

    return Scaling.identity(1)


# ------------------------------------------------------------------ driver
def _summary(name: str, runs: list[dict]) -> dict:
    rows = []
    for label, r in runs:
        diag = function_space(r["f"])
        rows.append({
            "run": label,
            "wall_s": r["wall_s"],
            "min_ess": diag["min_ess"],
            "max_rhat": diag["max_rhat"],
            "ess_per_s": diag["min_ess"] / r["wall_s"],
            "ess_per_1k_sampling_grads": 1000 * diag["min_ess"] / max(r["sampling_grads"], 1),
            "ess_per_1k_total_grads": (1000 * diag["min_ess"] / r["total_grads"]
                                       if r["total_grads"] else None),
            "sampling_grads": r["sampling_grads"],
            "total_grads": r["total_grads"],
            "divergences": r["divergences"],
            "num_chains": r["num_chains"],
            "num_draws": int(np.prod(r["f"].shape[:2])),
            "mean_steps_per_draw": r["mean_steps_per_draw"],
        })
    return {"sampler": name, "runs": rows}


def _measure(samplers: dict, warm: bool) -> dict:
    """Cold runs of every sampler (caches cleared), then warm runs, interleaved."""
    runs = {name: [] for name in samplers}
    for name, fn in samplers.items():
        clear_caches()
        runs[name].append(("cold", fn(0)))
    if warm:
        for name, fn in samplers.items():
            runs[name].append(("warm", fn(1)))
    return {name: _summary(name, r) for name, r in runs.items()}


def _compare(lever: dict, results: dict, default: str) -> None:
    """Lever's ESS/s over its default's and over NumPyro's, run by run (cold, warm)."""
    for run in lever["runs"]:
        for ref in (default, "numpyro"):
            other = {r["run"]: r for r in results[ref]["runs"]}.get(run["run"])
            if other:
                run[f"ess_per_s_vs_{ref}"] = run["ess_per_s"] / other["ess_per_s"]


def _ratio(results, a: str, b: str, kind: str) -> float | None:
    ra = {r["run"]: r for r in results[a]["runs"]}
    rb = {r["run"]: r for r in results[b]["runs"]}
    if kind not in ra or kind not in rb:
        return None
    return ra[kind]["ess_per_s"] / rb[kind]["ess_per_s"]


def run(config: dict) -> dict:
    """``config``: ``nuts`` and ``chees`` options, ``warm``, ``levers`` (dict of name ->
    (method, options)), ``mclmc`` options or None."""
    samplers = {
        "numpyro": numpyro_default(config["nuts"], config.get("numpyro_kernel")),
        "bnn_nuts": bnn_sampler("nuts", config["nuts"]),
        "bnn_chees": bnn_sampler("chees", config["chees"]),
    }
    results = _measure(samplers, config["warm"])
    ratios = {}
    for a in ("bnn_nuts", "bnn_chees"):
        for kind in ("cold", "warm"):
            value = _ratio(results, a, "numpyro", kind)
            if value is not None:
                ratios[f"{a}/numpyro ess_per_s {kind}"] = value
    levers = {}
    for name, (method, options, warm) in config.get("levers", {}).items():
        levers[name] = _measure({name: bnn_sampler(method, options)}, warm)[name]
        levers[name].update(method=method, options=_jsonable(options))
        _compare(levers[name], results, f"bnn_{method}")
    if config.get("mclmc"):
        try:
            levers["mclmc_blackjax"] = _measure(
                {"mclmc_blackjax": mclmc_blackjax(config["mclmc"])}, True
            )["mclmc_blackjax"]
            _compare(levers["mclmc_blackjax"], results, "bnn_chees")
        except ImportError as err:
            levers["mclmc_blackjax"] = {"skipped": f"blackjax not importable: {err}"}
    return {
        "posterior": "MLP(10,10,1) tanh; Normal(0,1) weights; sigma ~ HalfNormal(0.5); "
                     "notebook data (n=40, raw)",
        "grid": "50 points on [-1.5, 1.5]",
        "diagnostics": "numpyro.diagnostics: effective_sample_size (bulk), split_gelman_rubin",
        "settings": {"nuts": _jsonable(config["nuts"]), "chees": _jsonable(config["chees"]),
                     "numpyro_kernel": _jsonable(config.get("numpyro_kernel") or {})},
        "samplers": results,
        "ratios": ratios,
        "levers": levers,
    }


def _jsonable(options: dict) -> dict:
    return {k: (v if isinstance(v, (int, float, str, bool, type(None))) else repr(v))
            for k, v in options.items()}
