"""Which functions does an MLP believe in before it sees any data?

The notebook draws the weights and biases of an MLP from ``Normal(0, 5^2)`` and plots 100 of
the resulting functions on [-1, 1], for one and for two hidden layers of 100 units. Here that
is ``bnn.fit(..., method="prior")``: draws from the prior of the same NumPyro model that MAP,
SVI and NUTS later condition on data. (The notebook's code put the prior on the kernels only,
its biases stayed at zero; its text means every parameter, which is what this script does.)

Proposed activities (notebook): remove the nonlinearity (``--activation identity``), change
it (``--activation sigmoid tanh relu``), change the number of units and add layers
(``--hidden 10 100 100,100 100,100,100``). Each activation is a row of panels, each network
a column. ``--prior fanin`` scales each kernel's prior by 1/sqrt(fan-in), which keeps deep
and wide networks from producing ever wilder functions.
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from _cli import hidden_arg, save_figure


def prior_functions(hidden, activation, args, x):
    """``(num_draws, len(x))`` draws of f from the prior of an MLP with one output."""
    import bnn

    prior = (
        bnn.priors.FanIn(scale=args.prior_scale, bias_scale=args.prior_scale)
        if args.prior == "fanin"
        else bnn.priors.Normal(args.prior_scale)
    )
    net = bnn.models.MLP((*hidden, 1), activation=activation)
    fit = bnn.fit(net, x, np.zeros(len(x)), method="prior", prior=prior,
                  likelihood=bnn.likelihoods.Gaussian(1.0), key=args.seed,
                  num_samples=args.num_draws)
    return fit.predict(x).f_samples


def main(args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import bnn.plots

    os.makedirs(args.out, exist_ok=True)
    x = np.linspace(-1, 1, args.num_points, dtype=np.float32)[:, None]
    rows, cols = len(args.activation), len(args.hidden)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.4 * rows), squeeze=False)
    prior_name = (f"FanIn(scale {args.prior_scale:g})" if args.prior == "fanin"
                  else f"Normal(0, {args.prior_scale:g}²)")
    for r, activation in enumerate(args.activation):
        for c, hidden in enumerate(args.hidden):
            f = prior_functions(hidden, activation, args, x)
            ax = axes[r, c]
            bnn.plots.function_draws(ax, x, f, num=args.num_draws, alpha=0.25, highlight=3,
                                     label=f"{len(f)} draws of f")
            lo, hi = np.quantile(f, [0.05, 0.95], axis=0)
            ax.plot(x[:, 0], lo, color="black", lw=1, ls="--", label="5% and 95% quantiles")
            ax.plot(x[:, 0], hi, color="black", lw=1, ls="--")
            layers = "hidden layer" if len(hidden) == 1 else "hidden layers"
            ax.set_title(f"{activation}, {len(hidden)} {layers} ({','.join(map(str, hidden))})",
                         fontsize=10)
            ax.set_xlim(-1, 1)
            ax.set_xticks([-1, -0.5, 0, 0.5, 1])
            if r == 0 and c == 0:
                ax.legend(fontsize=7, loc="upper left")
            wiggle = np.mean(np.abs(np.diff(f, 2, axis=1))) * (len(x) - 1) ** 2 / 4
            print(f"{activation:>9s} hidden {','.join(map(str, hidden)):>12s}: std of f(0) "
                  f"{np.std(f[:, len(x) // 2]):8.2f}, mean |f''| {wiggle:10.1f}")
    fig.suptitle(f"Prior predictive of an MLP: weights and biases ~ {prior_name}")
    path = save_figure(fig, args.out, "prior_predictive.png")
    return path


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="figures", help="folder for the figure")
    p.add_argument("--hidden", type=hidden_arg, nargs="+", default=[(100,), (100, 100)],
                   help="one or more networks, each its hidden widths, e.g. 100 100,100")
    p.add_argument("--activation", nargs="+", default=["sigmoid", "tanh", "identity"],
                   help="one or more of sigmoid (the notebook's), tanh, relu, sin, identity, ...")
    p.add_argument("--prior-scale", type=float, default=5.0, help="prior std (notebook: 5)")
    p.add_argument("--prior", choices=("normal", "fanin"), default="normal",
                   help="normal: the same std for every parameter; fanin: kernels / sqrt(fan-in)")
    p.add_argument("--num-draws", "--num-samples", type=int, default=100,
                   help="functions drawn from the prior")
    p.add_argument("--num-points", type=int, default=500, help="grid points on [-1, 1]")
    p.add_argument("--seed", type=int, default=0)
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
