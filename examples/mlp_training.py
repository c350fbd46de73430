"""How many tanh units and layers does an MLP need to fit x sin(5x), and for how long?

The notebook trains ``MultiLayerPerceptron([10, 10, 1], activation=nn.tanh)`` on the 40
noisy points with Adam on the MSE, 200 epochs. In ``bnn`` that is ``method="mle"`` with a
Gaussian likelihood of known noise (``method="map"`` adds a Normal prior, i.e. weight decay).
Each network in ``--hidden`` is trained from the same seed; the figure shows the loss curves
(the notebook's loss list was never filled) and the test predictions over the data, with the
region outside [-1, 1], where there are no data, shaded.

Proposed activities (notebook): explore the solutions with a different number of units
(``--hidden 3 10 100``) and of layers (``--hidden 10 10,10 10,10,10``), tuning the number of
training steps (``--steps``).
"""

from __future__ import annotations

import argparse
import math
import os

import numpy as np
from _cli import hidden_arg, save_figure


def train(hidden, data, args):
    import bnn

    net = bnn.models.MLP((*hidden, 1), activation=args.activation)
    return bnn.fit(
        net, data.x, data.y, method=args.method, prior=bnn.priors.Normal(args.prior_scale),
        likelihood=bnn.likelihoods.Gaussian(data.noise), key=args.seed,
        num_steps=args.num_steps, learning_rate=args.learning_rate,
    )


def main(args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import bnn
    import bnn.plots

    os.makedirs(args.out, exist_ok=True)
    data = bnn.datasets.seed_regression(key=args.seed)
    fig, (ax_loss, ax_fit) = plt.subplots(1, 2, figsize=(13, 4.8))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    ax_fit.set_xlim(-1.5, 1.5)
    const = math.log(data.noise) + 0.5 * math.log(2 * math.pi)
    inside = np.abs(data.x_test[:, 0]) <= 1
    for i, hidden in enumerate(args.hidden):
        fit = train(hidden, data, args)
        name = "MLP (" + ",".join(map(str, (*hidden, 1))) + ")"
        n_params = sum(int(np.prod(s)) for _, s in fit.model.param_shapes)
        color = colors[i % len(colors)]
        if args.method == "mle":
            # per-datum negative log likelihood = MSE / (2 sigma^2) + const: plot the MSE itself
            curve, ylabel = 2 * data.noise**2 * (fit.losses - const), "training MSE"
        else:
            curve, ylabel = fit.losses, "-log p(y, θ) / n"
        bnn.plots.loss_curve(ax_loss, curve, color=color, label=f"{name}, {n_params} parameters",
                             ylabel=ylabel, logy=args.method == "mle")
        mean = fit.predict(data.x_test).mean
        rmse = float(np.sqrt(np.mean((mean - data.f_test)[inside] ** 2)))
        train_mse = float(np.mean((fit.predict(data.x).mean - data.y) ** 2))
        ax_fit.plot(data.x_test[:, 0], mean, color=color, lw=2,
                    label=f"{name}: RMSE f on [-1,1] {rmse:.3f}")
        print(f"{name:>20s} {n_params:6d} parameters: train MSE {train_mse:.4f}, RMSE against "
              f"f on [-1,1] {rmse:.3f}, {fit.wall_time:.1f} s")
    if args.method == "mle":
        ax_loss.axhline(data.noise**2, color="0.4", ls="--", lw=1,
                        label=f"noise variance {data.noise**2:g}")
    ax_loss.set_title(f"{args.method.upper()} training loss, Adam lr {args.learning_rate:g}")
    ax_loss.legend(fontsize=8)
    bnn.plots.true_function(ax_fit, data.x_test, data.f_test)
    bnn.plots.data_points(ax_fit, data.x, data.y)
    ax_fit.set_ylim(-2, 2)
    bnn.plots.extrapolation(ax_fit)
    ax_fit.set_title(f"Test prediction after {args.num_steps} steps ({args.activation})")
    ax_fit.legend(fontsize=8, loc="lower center", ncol=2)
    path = save_figure(fig, args.out, "mlp_training.png")
    return path


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="figures", help="folder for the figure")
    p.add_argument("--hidden", type=hidden_arg, nargs="+", default=[(3,), (10, 10), (50, 50, 50)],
                   help="one or more networks, each its hidden widths (notebook: 10,10)")
    p.add_argument("--activation", default="tanh", help="tanh (notebook), sigmoid, relu, ...")
    p.add_argument("--num-steps", "--steps", type=int, default=2000,
                   help="Adam steps (the notebook ran 200)")
    p.add_argument("--learning-rate", type=float, default=1e-2)
    p.add_argument("--method", choices=("mle", "map"), default="mle",
                   help="mle: plain MSE training; map: with a Normal prior (weight decay)")
    p.add_argument("--prior-scale", type=float, default=1.0, help="prior std for --method map")
    p.add_argument("--seed", type=int, default=0)
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
