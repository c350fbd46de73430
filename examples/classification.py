"""Where is a classifier unsure, and does a point estimate know it?

The notebook's closing remark: for classification the output layer turns into a sigmoid and
the MSE into the cross-entropy, i.e. a Bernoulli likelihood. Here an MLP classifies
scikit-learn's two moons. MAP (cross-entropy plus weight decay) gives one decision boundary
and probabilities that become certain a short way from the data; a posterior method (NUTS by
default, or SVI) averages many boundaries, so its probabilities stay near 1/2 where the data
do not decide. Two figures: decision boundaries over the predicted probability, and maps of
the predictive entropy (total uncertainty) and, for the posterior, the mutual information
between the label and the weights (the epistemic part, zero for a point estimate).
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from _cli import hidden_arg


def grid(x, margin: float, num: int):
    lo, hi = x.min(axis=0) - margin, x.max(axis=0) + margin
    g0, g1 = np.meshgrid(np.linspace(lo[0], hi[0], num), np.linspace(lo[1], hi[1], num))
    return g0, g1, np.stack([g0.ravel(), g1.ravel()], axis=1).astype(np.float32)


def fit_both(x, y, args):
    import bnn

    net = bnn.models.MLP((*args.hidden, 1), activation=args.activation)
    common = dict(prior=bnn.priors.Normal(args.prior_scale),
                  likelihood=bnn.likelihoods.Bernoulli(), key=args.seed)
    point = bnn.fit(net, x, y, method="map", num_steps=args.num_steps, **common)
    if args.method == "svi":
        options = dict(num_steps=args.svi_steps, guide=args.guide, num_samples=args.num_draws)
    else:
        options = dict(num_warmup=args.num_warmup, num_samples=args.num_samples,
                       num_chains=args.num_chains)
    posterior = bnn.fit(net, x, y, method=args.method, **options, **common)
    return point, posterior


def main(args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import bnn
    import bnn.plots

    os.makedirs(args.out, exist_ok=True)
    x, y = bnn.datasets.two_moons(args.num_data, args.noise, key=args.seed)
    x_test, y_test = bnn.datasets.two_moons(1000, args.noise, key=args.seed + 1)
    point, posterior = fit_both(x, y, args)
    g0, g1, xg = grid(x, args.margin, args.grid)
    # saturated logits far from the data make numpy warn inside bnn's entropy; the values are fine
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        maps = {}
        for name, fit in (("MAP", point), (args.method.upper(), posterior)):
            pred = fit.predict(xg, num_draws=args.predict_draws)
            test = fit.predict(x_test, num_draws=args.predict_draws)
            acc = float(np.mean(test.label == y_test))
            nll = float(-np.mean(fit.log_predictive_density(x_test, y_test)))
            maps[name] = (pred, pred.probs, pred.entropy, pred.mutual_information)
            print(f"{name:>5s}: test accuracy {acc:.3f}, test NLL {nll:.3f}, mean entropy on the "
                  f"grid {np.mean(pred.entropy):.3f} nats, {fit.wall_time:.1f} s")
    if posterior.stats is not None:
        print(f"{args.method.upper()}: {int(np.sum(posterior.stats['diverging']))} divergences, "
              f"{np.mean(posterior.stats['num_steps']):.0f} leapfrog steps per draw")

    post_name = args.method.upper()
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    for ax, name in zip(axes, maps, strict=True):
        bnn.plots.probability_map(ax, g0, g1, maps[name][1], x=x, labels=y,
                                  title=f"{name}: p(class 1) and decision boundary p = 1/2")
    # a few single posterior draws' boundaries show what the average hides
    f = maps[post_name][0].f_samples
    for i in np.linspace(0, len(f) - 1, min(args.num_boundaries, len(f))).astype(int):
        axes[1].contour(g0, g1, f[i].reshape(g0.shape), levels=[0.0], colors="white",
                        linewidths=0.6, alpha=0.6)
    axes[1].plot([], [], color="white", lw=0.8, label="boundaries of single draws")
    axes[1].legend(fontsize=8, loc="lower left", facecolor="0.7")
    axes[0].legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    paths = [os.path.join(args.out, "classification_boundary.png")]
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, 3, figsize=(17, 4.6))
    top = float(np.log(2))
    bnn.plots.uncertainty_map(axes[0], g0, g1, maps["MAP"][2], x=x, labels=y, vmax=top,
                              title="MAP: predictive entropy")
    bnn.plots.uncertainty_map(axes[1], g0, g1, maps[post_name][2], x=x, labels=y, vmax=top,
                              title=f"{post_name}: predictive entropy (total)")
    bnn.plots.uncertainty_map(axes[2], g0, g1, maps[post_name][3], x=x, labels=y,
                              label="mutual information (nats)", cmap="magma",
                              title=f"{post_name}: mutual information (epistemic)")
    fig.suptitle("Predictive uncertainty on two moons (MAP's mutual information is 0)")
    fig.tight_layout()
    paths.append(os.path.join(args.out, "classification_uncertainty.png"))
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)
    for p in paths:
        print("wrote " + p)
    return paths


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="figures", help="folder for the figures")
    p.add_argument("--num-data", type=int, default=200, help="training points")
    p.add_argument("--noise", type=float, default=0.1, help="noise of make_moons")
    p.add_argument("--hidden", type=hidden_arg, default=(16, 16), help="hidden widths")
    p.add_argument("--activation", default="tanh")
    p.add_argument("--prior-scale", type=float, default=1.0, help="Normal(0, s) prior")
    p.add_argument("--method", choices=("nuts", "hmc", "svi"), default="nuts",
                   help="the posterior method set against MAP")
    p.add_argument("--num-steps", type=int, default=3000, help="MAP optimiser steps")
    p.add_argument("--num-warmup", type=int, default=300, help="NUTS/HMC warmup per chain")
    p.add_argument("--num-samples", type=int, default=300, help="NUTS/HMC draws per chain")
    p.add_argument("--num-chains", type=int, default=4)
    p.add_argument("--svi-steps", type=int, default=10000)
    p.add_argument("--guide", default="fullrank", choices=("normal", "lowrank", "fullrank"))
    p.add_argument("--num-draws", type=int, default=1000, help="SVI guide draws")
    p.add_argument("--predict-draws", type=int, default=400,
                   help="posterior draws used on the grid (memory: draws x grid^2)")
    p.add_argument("--grid", type=int, default=120, help="grid points per axis")
    p.add_argument("--margin", type=float, default=1.5, help="grid margin around the data")
    p.add_argument("--num-boundaries", type=int, default=20,
                   help="single-draw boundaries drawn over the posterior map")
    p.add_argument("--seed", type=int, default=0)
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
