"""How do the degree of a polynomial basis and the noise level change what a regressor learns?

The notebook's first model: ``f(x) = <w, phi(x)> + b`` with ``phi(x) = [x, x^2, ..., x^d]``,
trained by minimising the mean squared error with Adam. In ``bnn`` that is ``method="mle"``
with a Gaussian likelihood of known noise (the MSE is the negative log likelihood up to
constants), and ``fit.losses`` holds the loss of every step, so the loss curve the notebook
meant to draw comes for free. The model is linear in its parameters, so the exact least
squares fit is drawn too (thin dotted line): where Adam has not reached it yet, train longer.

Proposed activities (notebook): change ``--degree``; increase ``--noise`` and repeat. Both
flags take comma-separated lists, e.g. ``--degree 1,3,6,15 --noise 0.1,0.3``.
"""

from __future__ import annotations

import argparse
import math
import os

import numpy as np
from _cli import save_figure


def int_list(text: str) -> list[int]:
    values = [int(v) for v in text.split(",") if v.strip()]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers like 3,6,12, got {text!r}")
    return values


def float_list(text: str) -> list[float]:
    values = [float(v) for v in text.split(",") if v.strip()]
    if not values or min(values) <= 0:
        raise argparse.ArgumentTypeError(f"expected positive numbers like 0.1,0.3, got {text!r}")
    return values


def mse_from_losses(losses, noise: float) -> np.ndarray:
    r"""Training MSE from bnn's MLE trace: loss = MSE / (2 sigma^2) + log sigma + log(2 pi) / 2."""
    return 2 * noise**2 * (np.asarray(losses) - math.log(noise) - 0.5 * math.log(2 * math.pi))


def least_squares(x, y, degree: int, x_new) -> np.ndarray:
    """The exact MLE of the same model: least squares on ``[1, x, ..., x^degree]``."""
    basis = lambda t: np.vander(np.asarray(t)[:, 0], degree + 1, increasing=True)  # noqa: E731
    coef, *_ = np.linalg.lstsq(basis(x), y, rcond=None)
    return basis(x_new) @ coef


def fit_degrees(data, degrees, args):
    import bnn

    fits = {}
    for degree in degrees:
        fits[degree] = bnn.fit(
            bnn.models.PolynomialRegressor(degree=degree), data.x, data.y, method="mle",
            likelihood=bnn.likelihoods.Gaussian(data.noise), key=args.seed,
            num_steps=args.num_steps, learning_rate=args.learning_rate,
        )
    return fits


def main(args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import bnn
    import bnn.plots

    os.makedirs(args.out, exist_ok=True)
    rows = len(args.noise)
    fig, axes = plt.subplots(rows, 2, figsize=(12, 4.2 * rows), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for r, noise in enumerate(args.noise):
        data = bnn.datasets.seed_regression(noise=noise, key=args.seed)
        fits = fit_degrees(data, args.degree, args)
        ax_loss, ax_fit = axes[r]
        ax_fit.set_xlim(-1.5, 1.5)
        for i, (degree, fit) in enumerate(fits.items()):
            color = colors[i % len(colors)]
            mse = mse_from_losses(fit.losses, noise)
            bnn.plots.loss_curve(ax_loss, mse, label=f"degree {degree}", color=color,
                                 ylabel="training MSE", logy=True)
            pred = fit.predict(data.x_test)
            exact = least_squares(data.x, data.y, degree, data.x_test)
            train_mse = float(np.mean((fit.predict(data.x).mean - data.y) ** 2))
            inside = np.abs(data.x_test[:, 0]) <= 1
            rmse = float(np.sqrt(np.mean((pred.mean - data.f_test)[inside] ** 2)))
            ax_fit.plot(data.x_test[:, 0], pred.mean, color=color, lw=2,
                        label=f"degree {degree} (train MSE {train_mse:.4f}, RMSE f {rmse:.3f})")
            ax_fit.plot(data.x_test[:, 0], exact, color=color, lw=1, ls=":")
            print(f"noise {noise:g}  degree {degree:2d}: train MSE {train_mse:.4f} (least squares"
                  f" {np.mean((least_squares(data.x, data.y, degree, data.x) - data.y) ** 2):.4f})"
                  f", RMSE against f on [-1,1] {rmse:.3f}")
        ax_loss.axhline(noise**2, color="0.4", ls="--", lw=1, label=f"noise variance {noise**2:g}")
        ax_loss.set_title(f"Training loss (noise {noise:g}, Adam lr {args.learning_rate:g})")
        ax_loss.legend(fontsize=8)
        bnn.plots.true_function(ax_fit, data.x_test, data.f_test)
        bnn.plots.data_points(ax_fit, data.x, data.y)
        ax_fit.set_ylim(-2, 2)
        bnn.plots.extrapolation(ax_fit)
        ax_fit.set_title(f"Test prediction after {args.num_steps} steps (dotted: exact least "
                         "squares)")
        ax_fit.legend(fontsize=7, loc="lower center", ncol=2)
    fig.suptitle("Polynomial regression by maximum likelihood (= minimum MSE)")
    path = save_figure(fig, args.out, "polynomial_regression.png")
    return path


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="figures", help="folder for the figure")
    p.add_argument("--degree", type=int_list, default=[1, 3, 6, 12],
                   help="degree(s) of the basis, comma separated (notebook: 6)")
    p.add_argument("--noise", type=float_list, default=[0.1],
                   help="noise std(s) of the data, comma separated; one row of panels each")
    p.add_argument("--num-steps", "--steps", type=int, default=3000,
                   help="Adam steps (the notebook ran 100, too few to converge)")
    p.add_argument("--learning-rate", type=float, default=1e-2)
    p.add_argument("--seed", type=int, default=0)
    return p


if __name__ == "__main__":
    main(build_parser().parse_args())
