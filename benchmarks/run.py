"""Run the benchmark suites and write one JSON.

    python -m benchmarks.run --suite quick --out /tmp/quick.json       # tiny sizes, CI smoke
    python -m benchmarks.run --suite full --out benchmarks/results-cpu.json --plot scaling.png
    JAX_PLATFORMS=cuda python -m benchmarks.run --suite full --out benchmarks/results-gpu.json

Every comparison runs side by side in this one process (interleaved, repeated where cheap), so
ratios hold up on a shared machine better than absolute times do. The path needs neither ArviZ
nor matplotlib (the plot is skipped, with a note, when matplotlib is missing).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

SECTIONS = ("point", "mcmc", "overhead", "scaling")


def quick_config() -> dict:
    return {
        "point": {"num_steps": 20, "sizes": [40], "repeats": 1, "notebook_steps": 20,
                  "notebook_max_n": 1000},
        "mcmc": {
            "nuts": {"num_warmup": 20, "num_samples": 20, "max_tree_depth": 3},
            "numpyro_kernel": {"max_tree_depth": 3},
            "chees": {"num_warmup": 30, "num_samples": 30, "num_chains": 4, "map_steps": 50},
            "warm": False,
            "levers": {},
            "mclmc": None,
        },
        "overhead": {
            "svi": {"guides": ["normal"], "num_steps": 200, "repeats": 1},
            "bars": {
                "methods": {
                    "map": {"num_steps": 200},
                    "chees": {"num_warmup": 30, "num_samples": 30, "num_chains": 4,
                              "map_steps": 50},
                },
                "repeats": 1,
            },
        },
        "scaling": {"sizes": [100, 1000], "widths": [20], "width_n": 100,
                    "step_budget": 1e8, "min_steps": 200, "max_steps": 2000, "repeats": 2},
    }


def full_config(platform: str) -> dict:
    gpu = platform not in ("cpu",)
    nuts_levers = {
        "nuts init=map": ("nuts", {"init": "map"}, False),
        "nuts num_warmup=200": ("nuts", {"num_warmup": 200}, False),
        "nuts init=map num_warmup=200": ("nuts", {"init": "map", "num_warmup": 200}, False),
        "nuts max_tree_depth=8": ("nuts", {"max_tree_depth": 8}, False),
        "nuts dense_mass=True": ("nuts", {"dense_mass": True}, False),
    }
    chees_levers = {
        "chees init=flax": ("chees", {"init": "flax"}, True),
        "chees adapt_mass=False": ("chees", {"adapt_mass": False}, True),
        "chees num_warmup=100": ("chees", {"num_warmup": 100}, True),
        "chees num_warmup=400": ("chees", {"num_warmup": 400}, True),
        "chees num_chains=8 num_samples=1000": ("chees", {"num_chains": 8,
                                                          "num_samples": 1000}, True),
        "chees num_chains=32 num_samples=250": ("chees", {"num_chains": 32,
                                                          "num_samples": 250}, True),
        "chees num_chains=64 num_samples=125": ("chees", {"num_chains": 64,
                                                          "num_samples": 125}, True),
        "chees num_samples=1000": ("chees", {"num_samples": 1000}, True),
    }
    return {
        "point": {"num_steps": 2000, "sizes": [40, 10_000, 100_000], "repeats": 3,
                  "notebook_steps": 200, "notebook_max_n": 100_000},
        "mcmc": {
            "nuts": {"num_warmup": 500, "num_samples": 500},
            "chees": {},
            "warm": True,
            "levers": {**nuts_levers, **chees_levers},
            "mclmc": {"num_chains": 16, "num_steps": 20_000, "thinning": 20},
        },
        "overhead": {
            "svi": {"guides": ["normal", "lowrank", "fullrank"], "num_steps": 5000,
                    "repeats": 3},
            "bars": {
                "methods": {  # each run about a second, so the bar's cost is measurable
                    "mle": {"num_steps": 200_000},
                    "map": {"num_steps": 200_000},
                    "svi": {"num_steps": 50_000, "num_samples": 100},
                    "laplace": {"num_steps": 200_000},
                    "ensemble": {"num_steps": 50_000},
                    "nuts": {"num_warmup": 50, "num_samples": 50},
                    "hmc": {"num_warmup": 500, "num_samples": 5000, "num_steps": 16},
                    "chees": {"num_warmup": 200, "num_samples": 400},
                },
                "repeats": 11,
            },
        },
        "scaling": {
            "sizes": [100, 1000, 10_000, 100_000, 1_000_000] + ([10_000_000] if gpu else []),
            "widths": [10, 30, 100, 300, 1000],
            "width_n": 1000,
            "step_budget": 3e8 if gpu else 3e7,
            "min_steps": 50,
            "max_steps": 2000,
            "repeats": 3,
        },
    }


def targets(results: dict) -> dict:
    """The issue's targets, each with its numbers and whether it is met."""
    out = {}
    point = results.get("point")
    if point:
        ratios = {n: row["ratios"].get("bnn/handwritten cold") for n, row in point["sizes"].items()}
        out["map_within_1.2x_of_handwritten_incl_compile"] = {
            "ratios": ratios, "met": all(r is not None and r <= 1.2 for r in ratios.values())}
    overhead = results.get("overhead")
    if overhead:
        costs = {m: v.get("overhead") for m, v in overhead["progress_bar"].items()
                 if "overhead" in v}
        out["progress_bar_under_5pct"] = {
            "overheads": costs, "met": all(c < 0.05 for c in costs.values())}
    mcmc = results.get("mcmc")
    if mcmc:
        out["sampler_5x_numpyro_ess_per_s"] = _sampler_target(mcmc)
    return out


def _sampler_target(mcmc: dict) -> dict:
    base = {r["run"]: r for r in mcmc["samplers"]["numpyro"]["runs"]}
    best = {r["run"]: r for r in mcmc["samplers"]["bnn_chees"]["runs"]}
    rows = {}
    for kind in base:
        if kind not in best:
            continue
        b, n = best[kind], base[kind]
        rows[kind] = {
            "ratio": b["ess_per_s"] / n["ess_per_s"],
            "max_rhat": b["max_rhat"],
            "divergences": b["divergences"],
            "numpyro_divergences": n["divergences"],
            "divergence_rate": b["divergences"] / b["num_draws"],
            "numpyro_divergence_rate": n["divergences"] / n["num_draws"],
        }
    met = bool(rows) and all(
        r["ratio"] >= 5 and r["max_rhat"] <= 1.01
        and r["divergence_rate"] <= r["numpyro_divergence_rate"] for r in rows.values())
    return {"sampler": "bnn_chees", "runs": rows, "met": met,
            "note": "divergences compared as a rate per draw (the samplers draw different "
                    "numbers of draws)"}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=("quick", "full"), default="quick")
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("--plot", default=None, help="PNG of the scaling figure (optional)")
    parser.add_argument("--sections", default=",".join(SECTIONS),
                        help=f"comma-separated subset of {SECTIONS}")
    args = parser.parse_args(argv)
    sections = [s for s in args.sections.split(",") if s]
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown sections {unknown}; choose from {SECTIONS}")

    from benchmarks import _common

    env = _common.environment()
    config = quick_config() if args.suite == "quick" else full_config(env["platform"])
    results = {"suite": args.suite, "environment": env, "config": _jsonable(config)}
    start = time.perf_counter()
    for name in sections:
        module = __import__(f"benchmarks.{name}", fromlist=["run"])
        t0 = time.perf_counter()
        print(f"[benchmarks] {name} ...", file=sys.stderr, flush=True)
        results[name] = module.run(config[name])
        results[name]["elapsed_s"] = time.perf_counter() - t0
    results["targets"] = targets(results)
    results["elapsed_s"] = time.perf_counter() - start
    env["load_average_at_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    env["arviz_imported"] = "arviz" in sys.modules
    results["plot"] = _plot(results, args.plot)
    with open(args.out, "w") as fh:
        json.dump(_finite(results), fh, indent=1)
    print(f"[benchmarks] wrote {args.out} in {results['elapsed_s']:.0f} s", file=sys.stderr)
    return results


def _plot(results: dict, path: str | None):
    if not path or "scaling" not in results:
        return None
    try:
        from benchmarks.plot import scaling_figure
    except ImportError as err:  # pragma: no cover
        return {"skipped": str(err)}
    try:
        return scaling_figure(results["scaling"], f"bnn scaling on "
                              f"{results['environment']['device']}", path)
    except ImportError as err:
        return {"skipped": f"matplotlib not available: {err}"}


def _jsonable(tree):
    if isinstance(tree, dict):
        return {k: _jsonable(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [_jsonable(v) for v in tree]
    if isinstance(tree, (int, float, str, bool)) or tree is None:
        return tree
    return repr(tree)


def _finite(tree):
    """JSON has no NaN or inf: write them as null."""
    if isinstance(tree, dict):
        return {k: _finite(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [_finite(v) for v in tree]
    if isinstance(tree, float) and not math.isfinite(tree):
        return None
    if hasattr(tree, "item") and getattr(tree, "ndim", 1) == 0:
        return _finite(tree.item())
    return tree


if __name__ == "__main__":
    main()
