"""The UCI regression protocol on Boston housing and concrete strength.

The protocol of Hernández-Lobato and Adams (2015), used by MC dropout (Gal and Ghahramani
2016) and deep ensembles (Lakshminarayanan et al. 2017): 20 random 90/10 train/test splits,
one hidden layer of 50 units, inputs and targets standardised on the training split, and test
RMSE and test log-likelihood per point reported in the original units of the target.

Every method fits the same model: ``MLP((50, 1), activation="relu")``, a ``FanIn(s, s)``
prior (kernels ``N(0, s^2 / fan_in)``, biases ``N(0, s^2)``) and a Gaussian likelihood of
fixed noise ``sigma``, in standardised units. ``s`` and ``sigma`` are chosen per split from
the training rows alone (``--tune validation``, see :func:`tune`; MC dropout tuned its dropout
rate and noise precision the same way), then shared by every method. ``--tune none`` uses
``FanIn(--prior-scale)`` and a learned noise ``sigma ~ HalfNormal(1)`` instead. Nothing looks at
the test rows before the final scores.

    python -m benchmarks.uci --datasets boston concrete --splits 20 \
        --methods map ensemble laplace svi nuts --out benchmarks/uci-results.json

``--quick`` runs 2 splits with tiny step counts (a smoke test, not a result).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from pathlib import Path
from typing import NamedTuple

import jax
import numpy as np
import numpyro.distributions as dist
from scipy.special import logsumexp
from scipy.stats import norm

import bnn
from bnn.datasets import split_indices

ALL_METHODS = ("map", "ensemble", "laplace", "svi", "nuts")

# published test RMSE / test log-likelihood per point, means over the 20 splits
PUBLISHED = {
    "boston": {"PBP": (3.01, -2.57), "MC dropout": (2.97, -2.46), "deep ensembles": (3.28, -2.41)},
    "concrete": {
        "PBP": (5.67, -3.16), "MC dropout": (5.23, -3.04), "deep ensembles": (6.03, -3.06),
    },
}
SOURCES = (
    "Published: PBP, Hernández-Lobato and Adams (2015); MC dropout, Gal and Ghahramani (2016); "
    "deep ensembles, Lakshminarayanan et al. (2017); means over the same protocol's 20 splits."
)

FULL = {
    "map": {"num_steps": 5000, "learning_rate": 1e-2},
    "ensemble": {"num_steps": 5000, "learning_rate": 1e-2, "num_members": 5},
    "laplace": {
        "num_steps": 5000, "learning_rate": 1e-2, "hessian_structure": "full",
        "subset_of_weights": "all", "curvature": "ggn", "num_samples": 200,
    },
    "svi": {"guide": "normal", "num_steps": 10000, "learning_rate": 1e-2, "num_samples": 200},
    "nuts": {"num_warmup": 200, "num_samples": 200, "num_chains": 2, "max_tree_depth": 8},
}
QUICK = {
    "map": {"num_steps": 200, "learning_rate": 1e-2},
    "ensemble": {"num_steps": 200, "learning_rate": 1e-2, "num_members": 2},
    "laplace": {
        "num_steps": 200, "learning_rate": 1e-2, "hessian_structure": "full",
        "subset_of_weights": "all", "curvature": "ggn", "num_samples": 20,
    },
    "svi": {"guide": "normal", "num_steps": 200, "learning_rate": 1e-2, "num_samples": 20},
    "nuts": {"num_warmup": 20, "num_samples": 20, "num_chains": 1, "max_tree_depth": 4},
}
# sigma / s: the MAP fit depends on the prior scale s and the noise sigma only through this
# ratio (its weight decay is ratio**2), so the grid is one-dimensional
RATIOS = (0.05, 0.07, 0.1, 0.15, 0.2, 0.3, 0.5)
QUICK_RATIOS = (0.2, 0.5)


class Hyper(NamedTuple):
    """The prior scale s (kernels N(0, s^2/fan_in), biases N(0, s^2)) and the noise."""

    prior_scale: float
    noise: float | str  # a fixed std in standardised units, or "learn"

    def prior(self):
        s = self.prior_scale
        return bnn.priors.FanIn(s, bias_scale=s)

    def likelihood(self):
        if self.noise == "learn":
            return bnn.likelihoods.Gaussian("learn", noise_prior=dist.HalfNormal(1.0))
        return bnn.likelihoods.Gaussian(float(self.noise))


def network():
    return bnn.models.MLP((50, 1), activation="relu")


def tune(split, key: int, ratios, map_options) -> tuple[Hyper, dict]:
    """Choose (s, sigma) on the training split alone, as MC dropout chose its rate and tau.

    Hold out 20% of the training rows; for each ratio r = sigma / s fit MAP on the rest (its
    optimum depends on r only); keep the r with the lowest validation RMSE, take sigma as that
    RMSE (the validation maximum-likelihood noise) and s = sigma / r.
    """
    inner, valid = split_indices(len(split.y_train), key=10_000 + key, test_fraction=0.2)
    x, y = split.x_train, split.y_train
    scores = {}
    for r in ratios:
        res = bnn.fit(network(), x[inner], y[inner], method="map", prior=Hyper(1.0, r).prior(),
                      likelihood=Hyper(1.0, r).likelihood(), key=key, **map_options)
        scores[r] = float(np.sqrt(np.mean((res.predict(x[valid]).mean - y[valid]) ** 2)))
    best = min(scores, key=scores.get)
    return Hyper(scores[best] / best, scores[best]), scores


def score(res, split, y_test) -> dict:
    """Test RMSE and log predictive density per point, in the original units of y.

    Both come from one predictive, ``res.predict``: the RMSE of its mean, and
    ``log (1/S) sum_s N(y | f_s, sigma_s)`` over its draws (for Laplace, the linearised
    network's). ``ll_model`` is ``res.log_predictive_density`` (draws of the parameters pushed
    through the network), the same number for every method but Laplace.
    """
    pred = res.predict(split.x_test)
    f = split.y_scaler.inverse_transform(pred.f_samples).astype(np.float64)
    sd = split.y_scaler.inverse_scale(pred.noise_std).astype(np.float64)
    log_p = norm.logpdf(y_test.astype(np.float64), f, sd)
    lpd = logsumexp(log_p, axis=0) - math.log(log_p.shape[0])
    lpd_model = res.log_predictive_density(split.x_test, split.y_test) - split.y_scaler.log_scale
    rmse = np.sqrt(np.mean((split.y_scaler.inverse_transform(pred.mean) - y_test) ** 2))
    return {"rmse": float(rmse), "ll": float(np.mean(lpd)), "ll_model": float(np.mean(lpd_model))}


def diagnostics(res, split) -> dict:
    out = {"noise_original_units": None}
    if "sigma" in res.samples:
        sigma = np.asarray(res.samples["sigma"]) * float(split.y_scaler.scale)
        out["noise_original_units"] = float(sigma.mean())
    elif not res.model.likelihood.learned:
        out["noise_original_units"] = float(res.model.likelihood.noise * split.y_scaler.scale)
    if res.stats is not None:
        out["divergences"] = int(np.sum(res.stats["diverging"]))
        out["mean_leapfrog_steps"] = float(np.mean(res.stats["num_steps"]))
        fd = res.function_diagnostics(split.x_test)
        out["f_rhat_max"], out["f_ess_min"] = fd["max_rhat"], fd["min_ess"]
    return out


def label(method: str, opts: dict) -> str:
    """The method's name, with the Laplace variant when it is not the full-network default."""
    if method != "laplace":
        return method
    parts = [opts["subset_of_weights"].replace("_", " ")] if opts["subset_of_weights"] != "all" \
        else []
    parts += ["diag"] if opts["hessian_structure"] == "diag" else []
    return "laplace" + (f" ({', '.join(parts)})" if parts else "")


def run_split(data, index: int, args, options, grid) -> list[dict]:
    split = data.split(key=index, test_fraction=0.1, standardize=True)
    y_test = data.y[split.test_index]
    start = time.perf_counter()
    if args.tune == "validation":
        hyper, scores = tune(split, index, grid, options["map"])
    else:
        hyper, scores = Hyper(args.prior_scale, "learn"), {}
    tune_seconds = time.perf_counter() - start
    records, init = [], None
    for method in args.methods:
        if method == "nuts" and index >= args.nuts_splits:
            continue
        opts = dict(options[method])
        if method == "nuts" and args.nuts_init == "map" and init is not None:
            opts["init_params"] = init
        start = time.perf_counter()
        res = bnn.fit(network(), split.x_train, split.y_train, method=method,
                      prior=hyper.prior(), likelihood=hyper.likelihood(), key=index, **opts)
        fit_seconds = time.perf_counter() - start
        if method == "map":
            init = res.params
        rec = {"dataset": data.name, "split": index, "method": method,
               "label": label(method, opts),
               "prior_scale": hyper.prior_scale, "noise": hyper.noise,
               "fit_seconds": fit_seconds, **score(res, split, y_test),
               **diagnostics(res, split)}
        rec["score_seconds"] = time.perf_counter() - start - fit_seconds
        records.append(rec)
        print(f"  {data.name} split {index:2d} {rec['label']:10s} rmse {rec['rmse']:6.3f} "
              f"ll {rec['ll']:7.3f}  {fit_seconds:6.1f}s", flush=True)
    for rec in records:
        rec["tune_seconds"] = tune_seconds
        rec["validation_rmse"] = {str(k): v for k, v in scores.items()}
    return records


def summarize(records: list[dict]) -> dict:
    """Mean and standard error over splits of RMSE and log-likelihood per (dataset, method)."""
    groups: dict = {}
    for rec in records:
        key = rec.get("label", rec["method"])
        groups.setdefault(rec["dataset"], {}).setdefault(key, []).append(rec)
    out = {}
    for name, by_method in groups.items():
        out[name] = {}
        for method, recs in by_method.items():
            row = {"num_splits": len(recs),
                   "fit_seconds_mean": float(np.mean([r["fit_seconds"] for r in recs]))}
            for metric in ("rmse", "ll"):
                v = np.array([r[metric] for r in recs])
                se = float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else float("nan")
                row[metric] = float(v.mean())
                row[metric + "_se"] = se
            out[name][method] = row
    return out


def markdown(summary: dict) -> str:
    lines = []
    for name, by_method in summary.items():
        lines += [f"**{name}** (test RMSE and test log-likelihood per point; mean ± standard "
                  "error over splits)", "",
                  "| method | splits | RMSE | log-likelihood | fit s/split |",
                  "|---|---:|---:|---:|---:|"]
        order = sorted(by_method, key=lambda k: (ALL_METHODS.index(k.split(" ")[0]), k))
        for method in order:
            row = by_method[method]
            lines.append(
                f"| bnn {method} | {row['num_splits']} | {row['rmse']:.2f} ± {row['rmse_se']:.2f}"
                f" | {row['ll']:.2f} ± {row['ll_se']:.2f} | {row['fit_seconds_mean']:.1f} |"
            )
        for method, (r, ll) in PUBLISHED.get(name, {}).items():
            lines.append(f"| {method} (published) | 20 | {r:.2f} | {ll:.2f} | |")
        lines.append("")
    lines.append(SOURCES)
    return "\n".join(lines)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--datasets", nargs="+", default=["boston", "concrete"])
    p.add_argument("--splits", type=int, default=20)
    p.add_argument("--methods", nargs="+", default=list(ALL_METHODS), choices=ALL_METHODS)
    p.add_argument("--nuts-splits", type=int, default=None,
                   help="run NUTS on the first N splits only (default: all)")
    p.add_argument("--nuts-warmup", type=int, default=None)
    p.add_argument("--nuts-samples", type=int, default=None)
    p.add_argument("--nuts-chains", type=int, default=None)
    p.add_argument("--nuts-init", choices=("map", "flax"), default="map",
                   help="start every NUTS chain at the split's MAP fit, or at Flax inits")
    p.add_argument("--laplace-subset", choices=("all", "last_layer"), default=None,
                   help="subset_of_weights of the Laplace fit (default: all)")
    p.add_argument("--laplace-structure", choices=("full", "diag"), default=None,
                   help="hessian_structure of the Laplace fit (default: full)")
    p.add_argument("--tune", choices=("validation", "none"), default="validation")
    p.add_argument("--prior-scale", type=float, default=1.0, help="FanIn scale with --tune none")
    p.add_argument("--first-split", type=int, default=0,
                   help="run splits first-split .. splits-1 (to extend an earlier run)")
    p.add_argument("--merge", nargs="+", default=None, metavar="JSON",
                   help="fit nothing: merge the records of earlier runs into --out")
    p.add_argument("--quick", action="store_true", help="2 splits, tiny step counts")
    p.add_argument("--out", default="benchmarks/uci-results.json")
    p.add_argument("--markdown", default=None, help="also write the table to this file")
    args = p.parse_args(argv)
    if args.quick:
        args.splits = min(args.splits, 2)
    if args.nuts_splits is None:
        args.nuts_splits = args.splits
    args.methods = [m for m in ALL_METHODS if m in args.methods]  # map first: it starts NUTS
    if "nuts" in args.methods and args.nuts_init == "map" and "map" not in args.methods:
        p.error("--nuts-init map needs map in --methods (or pass --nuts-init flax)")
    missing = [m for m in args.methods if m not in bnn.METHODS]
    if missing:
        p.error(f"this bnn has no method(s) {missing}; it has {sorted(bnn.METHODS)}")
    return args


def write(result: dict, args) -> None:
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, default=float))
    table = markdown(result["summary"])
    print(table)
    if args.markdown:
        Path(args.markdown).write_text(table + "\n")


def merge(paths) -> dict:
    """Records of several runs in one result (the first record of a (dataset, split, label))."""
    runs = [json.loads(Path(p).read_text()) for p in paths]
    seen, records = set(), []
    for run in runs:
        for rec in run["records"]:
            k = (rec["dataset"], rec["split"], rec.get("label", rec["method"]))
            if k not in seen:
                seen.add(k)
                records.append(rec)
    records.sort(key=lambda r: (r["dataset"], r["split"]))
    return {"config": [run["config"] for run in runs], "records": records,
            "summary": summarize(records), "wall_seconds": [run["wall_seconds"] for run in runs],
            "published": PUBLISHED, "merged_from": [str(p) for p in paths]}


def main(args) -> dict:
    if args.merge:
        result = merge(args.merge)
        write(result, args)
        return result
    options = {k: dict(v) for k, v in (QUICK if args.quick else FULL).items()}
    for opt in ("warmup", "samples", "chains"):
        value = getattr(args, f"nuts_{opt}")
        if value is not None:
            options["nuts"][f"num_{opt}"] = value
    for opt, name in (("subset", "subset_of_weights"), ("structure", "hessian_structure")):
        value = getattr(args, f"laplace_{opt}")
        if value is not None:
            options["laplace"][name] = value
    grid = QUICK_RATIOS if args.quick else RATIOS
    config = {"splits": list(range(args.first_split, args.splits)),
              "nuts_splits": args.nuts_splits, "methods": args.methods, "options": options,
              "tune": args.tune, "grid": list(grid), "network": "MLP((50, 1), relu)",
              "prior": "FanIn(s, bias_scale=s)",
              "likelihood": "Gaussian(sigma) fixed" if args.tune == "validation"
              else "Gaussian(learn, HalfNormal(1))",
              "nuts_init": args.nuts_init, "quick": args.quick,
              "jax": jax.__version__, "backend": jax.default_backend(),
              "python": platform.python_version()}
    records, start, wall = [], time.perf_counter(), {}
    for name in args.datasets:
        data = bnn.datasets.load(name)
        t0 = time.perf_counter()
        for index in range(args.first_split, args.splits):
            records += run_split(data, index, args, options, grid)
            result = {"config": config, "records": records, "summary": summarize(records),
                      "wall_seconds": {**wall, name: time.perf_counter() - t0},
                      "published": PUBLISHED}
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            Path(args.out).write_text(json.dumps(result, indent=1, default=float))
        wall[name] = time.perf_counter() - t0
    result["wall_seconds"]["total"] = time.perf_counter() - start
    write(result, args)
    return result


if __name__ == "__main__":
    main(parse_args(sys.argv[1:]))
