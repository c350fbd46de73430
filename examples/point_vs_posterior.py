"""How does one trained network (MAP) sit inside the posterior over networks?

The notebook ends on "conventional neural network training yields MLE/MAP point estimates".
This script fits the notebook's MLP by MAP and by NUTS, on the same model, and looks at both
with ArviZ:

* the posterior of a few weights (one histogram per chain) with the prior and the MAP value:
  hidden units can be permuted and their signs flipped without changing f, so the data pin
  down f, not single weights, whose posteriors stay close to their prior; the MAP is one
  point of one of the many equivalent modes;
* the posterior of f at chosen inputs ``--x-points``, with the MAP value and the true f: the
  symmetries vanish there, and the MAP is a single value where the posterior has a spread that
  grows outside the data's range [-1, 1];
* trace plots of the weights, rank plots of weights and of f(x), and the ArviZ summary table
  of both (R-hat and ESS). Symmetries can make weight-space R-hat look bad when chains sit in
  different copies of a mode; judge convergence on f(x).
"""

from __future__ import annotations

import argparse
import os
import re
import warnings

import numpy as np
from _cli import noise_arg

DEFAULT_WEIGHTS = "sigma,Dense_2.bias[0],Dense_2.kernel[0,0],Dense_0.kernel[0,0]"


def float_list(text: str) -> list[float]:
    return [float(v) for v in text.split(",") if v.strip()]


def parse_weight(spec: str):
    """Parse a parameter spec: ``"Dense_0.kernel[0,3]"`` -> ``("Dense_0.kernel", (0, 3))``."""
    m = re.fullmatch(r"\s*([\w.]+)\s*(?:\[([\d,\s]*)\])?\s*", spec)
    if m is None:
        raise argparse.ArgumentTypeError(
            f"cannot read weight {spec!r}; write e.g. Dense_0.kernel[0,3]"
        )
    index = tuple(int(i) for i in (m.group(2) or "").split(",") if i.strip())
    return m.group(1), index


def weights_arg(text: str):
    return [parse_weight(s) for s in re.split(r",(?![^\[]*\])", text) if s.strip()]


def site(path: str) -> str:
    return path if path == "sigma" else f"net/{path}"


def pick(samples: dict, path: str, index: tuple) -> np.ndarray:
    """``(chain, draw)`` values of one scalar parameter."""
    name = site(path)
    if name not in samples:
        known = sorted(k.removeprefix("net/") for k in samples)
        raise SystemExit(f"no parameter {path!r}; the parameters are {known}")
    values = np.asarray(samples[name])
    return values[(slice(None), slice(None), *index)]


def label(path: str, index: tuple) -> str:
    return path + (f"[{','.join(map(str, index))}]" if index else "")


def main(args):
    import matplotlib

    matplotlib.use("Agg")
    warnings.filterwarnings("ignore", category=FutureWarning)
    import arviz as az
    import matplotlib.pyplot as plt

    import bnn
    import bnn.plots

    os.makedirs(args.out, exist_ok=True)
    data = bnn.datasets.seed_regression(key=args.seed)
    net = bnn.models.MLP((*args.hidden, 1), activation=args.activation)
    common = dict(prior=bnn.priors.Normal(args.prior_scale),
                  likelihood=bnn.likelihoods.Gaussian(args.noise), key=args.seed)
    point = bnn.fit(net, data.x, data.y, method="map", num_steps=args.num_steps, **common)
    post = bnn.fit(net, data.x, data.y, method="nuts", num_warmup=args.num_warmup,
                   num_samples=args.num_samples, num_chains=args.num_chains, **common)
    print(f"MAP {point.wall_time:.1f} s; NUTS {post.num_chains} chains x {post.num_draws} draws "
          f"{post.wall_time:.1f} s, {int(np.sum(post.stats['diverging']))} divergences")

    weights = [w for w in args.weights if site(w[0]) in post.samples]
    x_star = np.asarray(args.x_points, np.float32)[:, None]
    f_post = post.predict(x_star).f_samples.reshape(post.num_chains, post.num_draws, -1)
    f_map = point.predict(x_star).mean
    # one InferenceData with the chosen weights and f(x*), for ArviZ's plots and summary
    names = [label(*w) for w in weights] + [f"f({x:g})" for x in args.x_points]
    draws = {label(*w): pick(post.samples, *w) for w in weights}
    draws.update({f"f({x:g})": f_post[..., i] for i, x in enumerate(args.x_points)})
    map_values = {label(*w): float(pick(point.samples, *w)[0, 0]) for w in weights}
    map_values.update({f"f({x:g})": float(f_map[i]) for i, x in enumerate(args.x_points)})
    idata = az.from_dict(posterior=draws)

    summary = az.summary(idata, var_names=names, kind="all", round_to=3)
    summary.insert(0, "MAP", [round(map_values[n], 3) for n in summary.index])
    print("\nArviZ summary of the NUTS draws, with the MAP value beside each:")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pandas as pd

        with pd.option_context("display.width", 160, "display.max_columns", 20):
            print(summary)
    summary.to_csv(os.path.join(args.out, "point_vs_posterior_summary.csv"))
    paths = []

    # posterior of weights with the MAP value
    fig, axes = plt.subplots(1, len(weights), figsize=(4.2 * len(weights), 3.6), squeeze=False)
    for ax, w in zip(axes[0], weights, strict=True):
        name = label(*w)
        scale = args.prior_scale
        prior_pdf = None if w[0] == "sigma" else (
            lambda t, s=scale: np.exp(-0.5 * (t / s) ** 2) / (s * np.sqrt(2 * np.pi))
        )
        bnn.plots.posterior_vs_point(ax, draws[name], map_values[name], label=name,
                                     prior_pdf=prior_pdf)
        ax.set_title(f"{name}  (R-hat {summary.loc[name, 'r_hat']:.2f})", fontsize=10)
    fig.legend(*axes[0, -1].get_legend_handles_labels(), loc="lower center", ncol=3,
               fontsize=8, frameon=False)
    fig.suptitle("Single parameters: NUTS posterior per chain, the Normal prior and the MAP value")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    paths.append(os.path.join(args.out, "point_vs_posterior_weights.png"))
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    # posterior of f(x*) with the MAP value and the truth
    k = len(args.x_points)
    fig, axes = plt.subplots(1, k, figsize=(3.6 * k, 3.6), squeeze=False)
    for i, (ax, x) in enumerate(zip(axes[0], args.x_points, strict=True)):
        name = f"f({x:g})"
        bnn.plots.posterior_vs_point(ax, draws[name], map_values[name], truth=data.f(x),
                                     chains=False, label=name)
        where = "inside the data" if abs(x) <= 1 else "extrapolation"
        ax.set_title(f"x = {x:g} ({where})", fontsize=10)
        if i == 0:
            ax.legend(fontsize=8)
    fig.suptitle("Function values: NUTS posterior of f(x), MAP value, true f(x)")
    fig.tight_layout()
    paths.append(os.path.join(args.out, "point_vs_posterior_function.png"))
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    # trace plots of the weights, MAP value as a line
    lines = [(label(*w), {}, [map_values[label(*w)]]) for w in weights]
    axes = az.plot_trace(idata, var_names=[label(*w) for w in weights], lines=lines,
                         compact=False, figsize=(11, 2.2 * len(weights)))
    fig = np.ravel(axes)[0].figure
    fig.suptitle("Trace plots of single parameters (colour = chain; grey line = MAP value)")
    fig.tight_layout()
    paths.append(os.path.join(args.out, "point_vs_posterior_trace.png"))
    fig.savefig(paths[-1], dpi=100)
    plt.close(fig)

    # rank plots: uniform bars mean the chains agree
    rank_names = names[: len(weights)] + names[len(weights):]
    ncols = min(4, len(rank_names))
    nrows = -(-len(rank_names) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols, 2.8 * nrows), squeeze=False)
    az.plot_rank(idata, var_names=rank_names, ax=axes.ravel()[: len(rank_names)])
    for ax in axes.ravel()[len(rank_names):]:
        ax.set_visible(False)
    fig.suptitle("Rank plots (flat bars = chains agree): weights, then f(x)")
    fig.tight_layout()
    paths.append(os.path.join(args.out, "point_vs_posterior_rank.png"))
    fig.savefig(paths[-1], dpi=100)
    plt.close(fig)
    for p in paths:
        print("wrote " + p)
    return summary


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="figures", help="folder for the figures and summary CSV")
    p.add_argument("--hidden", type=lambda t: tuple(int(w) for w in t.split(",")),
                   default=(10, 10), help="hidden widths")
    p.add_argument("--activation", default="tanh")
    p.add_argument("--prior-scale", type=float, default=1.0)
    p.add_argument("--noise", type=noise_arg, default="learn",
                   help="likelihood noise: 'learn' (sigma gets a posterior too) or a number")
    p.add_argument("--weights", type=weights_arg, default=weights_arg(DEFAULT_WEIGHTS),
                   help=f"parameters to show, e.g. {DEFAULT_WEIGHTS}")
    p.add_argument("--x-points", type=float_list, default=[-1.3, -0.5, 0.0, 0.9, 1.3],
                   help="inputs at which to show f(x)")
    p.add_argument("--num-steps", type=int, default=5000, help="MAP optimiser steps")
    p.add_argument("--num-warmup", type=int, default=500)
    p.add_argument("--num-samples", type=int, default=500)
    p.add_argument("--num-chains", type=int, default=4)
    p.add_argument("--seed", type=int, default=0)
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
