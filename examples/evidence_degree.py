"""Which polynomial degree do the data support? The Laplace evidence answers with a number.

The notebook asks the reader to change the degree and the noise and to discuss complexity,
overfitting and regularisation. For each degree this example tunes the prior scale and the
noise by maximising the evidence (exact here: the model is linear in its weights), then
reports log p(y | degree) beside the training error, which only ever falls with the degree,
and the error against the true function on the test grid.

    python examples/evidence_degree.py --max-degree 10 --noise 0.1 --out figures
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import optax
from _cli import save_figure

import bnn


def main(args):
    data = bnn.datasets.seed_regression(n=args.n, noise=args.noise, key=args.seed)
    rows = []
    for degree in range(1, args.max_degree + 1):
        ev = bnn.tune_evidence(bnn.models.PolynomialRegressor(degree), data.x, data.y,
                               optimizer=optax.lbfgs(), num_steps=args.num_steps)
        pred = ev.fit.predict(data.x_test)
        inside = np.abs(data.x_test[:, 0]) <= 1
        rows.append(dict(
            degree=degree, log_evidence=ev.log_evidence, prior_scale=ev.prior.scale,
            noise=ev.likelihood.noise,
            train_rmse=bnn.metrics.rmse(data.y, ev.fit.predict(data.x).mean),
            test_rmse=float(np.sqrt(np.mean((pred.mean - data.f_test)[inside] ** 2))),
            fit=ev.fit,
        ))
    best = max(rows, key=lambda r: r["log_evidence"])
    print(f"{'degree':>6} {'log p(y)':>10} {'prior s':>8} {'noise':>7} {'train RMSE':>10} "
          f"{'f RMSE [-1,1]':>13}")
    for r in rows:
        mark = "  <- evidence" if r is best else ""
        print(f"{r['degree']:>6} {r['log_evidence']:>10.2f} {r['prior_scale']:>8.3f} "
              f"{r['noise']:>7.3f} {r['train_rmse']:>10.4f} {r['test_rmse']:>13.4f}{mark}")
    print(f"the evidence picks degree {best['degree']} (true noise {args.noise})")
    plot(args, data, rows, best)


def plot(args, data, rows, best):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(args.out, exist_ok=True)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    deg = [r["degree"] for r in rows]
    ax1.plot(deg, [r["log_evidence"] for r in rows], "o-", color="C0", label="log evidence")
    ax1.axvline(best["degree"], color="C0", ls=":", lw=1)
    ax1.set_xlabel("polynomial degree")
    ax1.set_ylabel("log p(y | degree)  (Laplace, exact here)", color="C0")
    ax1.set_title("Evidence against degree")
    twin = ax1.twinx()
    twin.plot(deg, [r["train_rmse"] for r in rows], "s--", color="C3", label="train RMSE")
    twin.plot(deg, [r["test_rmse"] for r in rows], "^--", color="C2",
              label="RMSE to true f on [-1, 1]")
    twin.set_ylabel("RMSE")
    twin.set_yscale("log")
    lines = ax1.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    ax1.legend(lines, [h.get_label() for h in lines], loc="center right", fontsize=8)

    xt = data.x_test[:, 0]
    shown = [rows[min(2, len(rows) - 1)], best]  # a simple model against the evidence's pick
    if best is not rows[-1]:
        shown.append(rows[-1])
    for r, color in zip(_unique(shown), ("C1", "C0", "C3"), strict=False):
        pred = r["fit"].predict(data.x_test)
        lo, hi = pred.interval(0.9)
        ax2.fill_between(xt, lo, hi, color=color, alpha=0.2)
        ax2.plot(xt, pred.mean, color=color,
                 label=f"degree {r['degree']} (log p(y) = {r['log_evidence']:.1f})"
                 + ("  <- evidence" if r is best else ""))
    ax2.plot(xt, data.f_test, "k--", lw=1, label="true f(x) = x sin(5x)")
    ax2.scatter(data.x[:, 0], data.y, s=15, color="black", zorder=3, label="training data")
    ax2.axvspan(-1.5, -1, color="grey", alpha=0.08)
    ax2.axvspan(1, 1.5, color="grey", alpha=0.08)
    ax2.set_ylim(-2, 2)
    ax2.set_xlabel("x")
    ax2.set_ylabel("y")
    ax2.set_title("Evidence-tuned fits, 90% predictive intervals")
    ax2.legend(fontsize=8, loc="upper center")
    save_figure(fig, args.out, "evidence_degree.png", dpi=120)


def _unique(rows):
    seen, out = set(), []
    for r in rows:
        if r["degree"] not in seen:
            seen.add(r["degree"])
            out.append(r)
    return out


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--max-degree", type=int, default=10)
    p.add_argument("--noise", type=float, default=0.1)
    p.add_argument("--n", type=int, default=40)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--num-steps", type=int, default=200, help="L-BFGS steps per MAP fit")
    p.add_argument("--out", default="figures")
    return p.parse_args(argv)


if __name__ == "__main__":
    main(parse_args())
