"""Matplotlib figures for fitted networks: data, predictive bands, function draws, losses.

Every function draws on a matplotlib ``Axes`` (``ax=None`` makes a new figure) and returns
it, so panels compose freely. The training data are black points, as in the teaching notebook;
a predictive band is the central interval of ``p(y* | x*)`` (lightly shaded) with, for methods
that have draws, the interval of the latent ``f`` inside it (darker). Matplotlib is imported
only when a function runs, so ``import bnn`` stays light; use ``import bnn.plots``.

>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import numpy as np, bnn, bnn.plots
>>> data = bnn.datasets.seed_regression()
>>> ax = bnn.plots.data_points(None, data.x, data.y)
>>> ax = bnn.plots.true_function(ax, data.x_test, data.f_test)
>>> ax.get_xlabel()
'x'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = [
    "METHOD_COLORS",
    "color_for",
    "data_points",
    "true_function",
    "extrapolation",
    "predictive_band",
    "function_draws",
    "loss_curve",
    "regression_panel",
    "compare_regression",
    "uncertainty_curves",
    "class_points",
    "probability_map",
    "uncertainty_map",
    "posterior_vs_point",
]

# one colour per method, the same in every figure
METHOD_COLORS = {
    "mle": "#e5ae38",
    "map": "#fc4f30",
    "svi": "#6d904f",
    "nuts": "#30a2da",
    "hmc": "#8b4ac9",
    "prior": "#30a2da",
}
_TRUTH = "#555555"
_FALLBACK = ("#30a2da", "#fc4f30", "#e5ae38", "#6d904f", "#8b4ac9", "#810f7c")


def color_for(name: str, index: int = 0) -> str:
    """The colour of a method (``"nuts"`` -> blue, ...), or one from a fixed cycle."""
    return METHOD_COLORS.get(str(name).lower(), _FALLBACK[index % len(_FALLBACK)])


def _axes(ax):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(6, 4))
    return ax


def _flat(a) -> np.ndarray:
    a = np.asarray(a)
    return a[:, 0] if a.ndim == 2 and a.shape[1] == 1 else a


def data_points(ax, x, y, *, label: str | None = "Train data", size: float = 14, **kwargs):
    """The training data as black points (the notebook's ``hv.Points(..., color='black')``)."""
    ax = _axes(ax)
    style = {"color": "black", "s": size, "zorder": 5, "label": label, **kwargs}
    ax.scatter(_flat(x), _flat(y), **style)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    return ax


def true_function(ax, x, f, *, label: str | None = "True f(x) = x sin(5x)", **kwargs):
    """The true function as a dashed grey line."""
    ax = _axes(ax)
    style = {"color": _TRUTH, "ls": "--", "lw": 1.2, "zorder": 4, "label": label, **kwargs}
    ax.plot(_flat(x), _flat(f), **style)
    ax.set_xlabel("x")
    return ax


def extrapolation(ax, low: float = -1.0, high: float = 1.0, *, label: str | None = "no data"):
    """Shade the inputs outside ``[low, high]``, where the network extrapolates."""
    ax = _axes(ax)
    x0, x1 = ax.get_xlim()
    style = {"color": "0.92", "zorder": 0, "lw": 0}
    if x0 < low:
        ax.axvspan(x0, low, label=label, **style)
        label = None
    if x1 > high:
        ax.axvspan(high, x1, label=label, **style)
    ax.set_xlim(x0, x1)
    return ax


def predictive_band(
    ax,
    x,
    pred,
    *,
    prob: float = 0.9,
    color: str = "#30a2da",
    label: str | None = None,
    f_band: bool = True,
    mean: bool = True,
    alpha: float = 0.2,
):
    """Predictive mean and central ``prob`` intervals of a regression :class:`bnn.Prediction`.

    The light band is the interval of ``y*`` (noise included); the darker band inside it is
    the interval of ``f(x*)`` (drawn only when the prediction has more than one draw).

    Args:
        ax: matplotlib axes or None.
        x: ``(n,)`` or ``(n, 1)`` sorted inputs the prediction was made at.
        pred: a regression :class:`bnn.Prediction`.
        prob: interval probability.
        color: colour of the line and bands.
        label: legend label of the mean (the bands get ``label`` plus their meaning).
        f_band: draw the interval of f as well.
        mean: draw the predictive mean.
        alpha: opacity of the light band.
    """
    ax = _axes(ax)
    xs = _flat(x)
    pct = f"{round(100 * prob)}%"
    name = f"{label} " if label else ""
    lo, hi = pred.interval(prob)
    ax.fill_between(xs, lo, hi, color=color, alpha=alpha, lw=0, label=f"{name}{pct} interval of y")
    if f_band and pred.num_draws > 1:
        f_lo, f_hi = pred.f_interval(prob)
        ax.fill_between(
            xs, f_lo, f_hi, color=color, alpha=min(1.0, 2 * alpha), lw=0,
            label=f"{name}{pct} interval of f",
        )
    if mean:
        ax.plot(xs, pred.mean, color=color, lw=2, label=f"{name}mean" if label else "mean")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    return ax


def function_draws(
    ax, x, f_samples, *, num: int = 100, color: str = "#30a2da", alpha: float = 0.1,
    label: str | None = None, highlight: int = 0,
):
    """Up to ``num`` draws of the function, one thin line each (the notebook's prior plots).

    ``highlight=k`` redraws the first ``k`` draws thicker and darker, so that the shape of
    single functions stands out of the cloud.
    """
    ax = _axes(ax)
    f = np.asarray(f_samples)
    xs = _flat(x)
    for i in range(min(num, f.shape[0])):
        ax.plot(xs, f[i], color=color, alpha=alpha, lw=1, label=label if i == 0 else None)
    for i in range(min(highlight, f.shape[0])):
        ax.plot(xs, f[i], color="#1b4f72", alpha=0.9, lw=1.3,
                label="a few single draws" if i == 0 else None)
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    return ax


def loss_curve(
    ax, losses, *, label: str | None = "loss", color: str | None = None,
    ylabel: str = "loss per data point", logy: bool = False, start: int = 1,
    smooth: int | None = None,
):
    """An optimisation trace (``fit.losses``) against the step number.

    With ``smooth=k`` the raw trace is drawn faintly and its running mean over ``k`` steps
    on top (useful for the noisy ELBO of SVI).
    """
    ax = _axes(ax)
    values = np.asarray(losses, dtype=float)
    steps = np.arange(start, start + values.shape[0])
    if smooth and 1 < smooth < values.shape[0]:
        line = ax.plot(steps, values, color=color, lw=0.8, alpha=0.35, label=label)[0]
        kernel = np.ones(smooth) / smooth
        running = np.convolve(values, kernel, mode="valid")
        ax.plot(steps[smooth - 1:], running, color=line.get_color(), lw=1.8,
                label=f"running mean ({smooth} steps)")
    else:
        ax.plot(steps, values, color=color, lw=1.2, label=label)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    return ax


def regression_panel(
    ax, data, pred, *, color: str = "#30a2da", title: str | None = None, prob: float = 0.9,
    data_range: tuple[float, float] = (-1.0, 1.0), ylim: tuple[float, float] | None = None,
    legend: bool = True,
):
    """One method's prediction on the seed problem: band, mean, truth, data, no-data region.

    ``data`` is a :class:`bnn.datasets.RegressionData` (``x``, ``y``, ``x_test``, ``f_test``)
    and ``pred`` its prediction at ``data.x_test``.
    """
    ax = _axes(ax)
    predictive_band(ax, data.x_test, pred, color=color, prob=prob)
    true_function(ax, data.x_test, data.f_test)
    data_points(ax, data.x, data.y)
    xs = _flat(data.x_test)
    ax.set_xlim(xs.min(), xs.max())
    if ylim is not None:
        ax.set_ylim(*ylim)
    extrapolation(ax, *data_range)
    if title:
        ax.set_title(title, fontsize=10)
    if legend:
        ax.legend(loc="upper center", fontsize=7, ncol=2, framealpha=0.9)
    return ax


def _band_legend(prob: float):
    """Neutral (grey) legend entries for panels that each use their method's colour."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    pct = f"{round(100 * prob)}%"
    handles = [
        Patch(color="0.5", alpha=0.25, lw=0),
        Patch(color="0.5", alpha=0.55, lw=0),
        Line2D([], [], color="0.35", lw=2),
        Line2D([], [], color=_TRUTH, ls="--", lw=1.2),
        Line2D([], [], color="black", marker="o", ls="", ms=4),
        Patch(color="0.92", lw=0),
    ]
    labels = [
        f"{pct} interval of y", f"{pct} interval of f (methods with draws)", "predictive mean",
        "true f(x) = x sin(5x)", "training data", "no data (extrapolation)",
    ]
    return handles, labels


def compare_regression(
    preds: Mapping, data, *, titles: Mapping | None = None, prob: float = 0.9, ncols: int = 2,
    ylim: tuple[float, float] | None = (-2.0, 2.0), suptitle: str | None = None,
):
    """A grid of :func:`regression_panel`, one per method; returns the figure.

    Args:
        preds: method name -> :class:`bnn.Prediction` at ``data.x_test``.
        data: the regression data (``x``, ``y``, ``x_test``, ``f_test``).
        titles: method name -> panel title (default: the name in capitals).
        prob: interval probability.
        ncols: panels per row.
        ylim: shared y limits (None: automatic).
        suptitle: figure title.
    """
    import matplotlib.pyplot as plt

    names = list(preds)
    nrows = -(-len(names) // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(5.2 * ncols, 3.7 * nrows + 0.9), sharex=True, sharey=True,
        squeeze=False,
    )
    for i, name in enumerate(names):
        ax = axes.flat[i]
        title = (titles or {}).get(name, name.upper())
        regression_panel(
            ax, data, preds[name], color=color_for(name, i), title=title, prob=prob, ylim=ylim,
            legend=False,
        )
        if i % ncols:
            ax.set_ylabel("")
        if i < len(names) - ncols:
            ax.set_xlabel("")
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    fig.legend(*_band_legend(prob), loc="lower center", ncol=3, fontsize=8, frameon=False)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def uncertainty_curves(
    ax, x, preds: Mapping, *, data_x=None, data_range=(-1.0, 1.0), epistemic: bool = False
):
    """Predictive standard deviation against x, one line per method, data marked as a rug."""
    ax = _axes(ax)
    xs = _flat(x)
    for i, (name, pred) in enumerate(preds.items()):
        std = pred.epistemic_std if epistemic else pred.std
        point = pred.num_draws == 1  # point estimates coincide often: dash them
        ax.plot(xs, std, color=color_for(name, i), lw=2.5 if point else 2,
                ls=(0, (4, 3 + 2 * i)) if point else "-",
                label=name.upper() + (" (noise only)" if point and not epistemic else ""))
    if data_x is not None:
        ax.plot(_flat(data_x), np.zeros(len(_flat(data_x))), "|", color="black", ms=12,
                label="training inputs")
    ax.set_xlim(xs.min(), xs.max())
    extrapolation(ax, *data_range)
    ax.set_xlabel("x")
    ax.set_ylabel("std of f(x)" if epistemic else "predictive std of y")
    ax.legend(fontsize=8, loc="upper center", ncol=3)
    return ax


def class_points(ax, x, labels, *, size: float = 14):
    """Two-class data: class 0 white, class 1 black, both with black edges."""
    ax = _axes(ax)
    x = np.asarray(x)
    labels = np.asarray(labels)
    for k, face in ((0, "white"), (1, "black")):
        sel = labels == k
        ax.scatter(x[sel, 0], x[sel, 1], s=size, c=face, edgecolors="black", linewidths=0.7,
                   zorder=5, label=f"class {k}")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return ax


def probability_map(ax, grid0, grid1, probs, *, x=None, labels=None, title=None, colorbar=True):
    """Filled contours of p(class 1) on a grid with the decision boundary p = 0.5 in black.

    ``grid0``, ``grid1`` are the ``meshgrid`` arrays and ``probs`` has their shape (or is flat).
    """
    ax = _axes(ax)
    p = np.asarray(probs).reshape(np.shape(grid0))
    cs = ax.contourf(grid0, grid1, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.8)
    ax.contour(grid0, grid1, p, levels=[0.5], colors="black", linewidths=2)
    if colorbar:
        ax.figure.colorbar(cs, ax=ax, label="p(class 1 | x)")
    if x is not None:
        class_points(ax, x, labels)
    if title:
        ax.set_title(title)
    return ax


def uncertainty_map(
    ax, grid0, grid1, values, *, x=None, labels=None, title=None, label="entropy (nats)",
    vmax: float | None = None, cmap: str = "viridis",
):
    """Filled contours of an uncertainty (predictive entropy, mutual information) on a grid."""
    ax = _axes(ax)
    v = np.asarray(values).reshape(np.shape(grid0))
    top = float(np.nanmax(v)) if vmax is None else vmax
    levels = np.linspace(0.0, max(top, 1e-6), 12)
    cs = ax.contourf(grid0, grid1, np.clip(v, 0.0, levels[-1]), levels=levels, cmap=cmap)
    ax.figure.colorbar(cs, ax=ax, label=label, format="%.2f")
    if x is not None:
        class_points(ax, x, labels, size=8)
    if title:
        ax.set_title(title)
    return ax


def posterior_vs_point(
    ax, draws, point=None, *, truth=None, label: str = "", point_label: str = "MAP",
    color: str = "#30a2da", chains: bool = True, bins: int = 30, prior_pdf=None,
):
    """Histogram of posterior draws (one outline per chain when ``draws`` is ``(chain, draw)``).

    The point estimate is a red vertical line, the true value (if known) a dashed grey one,
    and ``prior_pdf`` (a callable density), if given, a dotted black curve.
    """
    ax = _axes(ax)
    d = np.asarray(draws)
    groups: Sequence = list(d) if (chains and d.ndim == 2) else [d.ravel()]
    edges = np.histogram_bin_edges(d.ravel(), bins=bins)
    many = len(groups) > 1
    for i, g in enumerate(groups):
        ax.hist(np.ravel(g), bins=edges, density=True, histtype="step" if many else "stepfilled",
                color=color, alpha=0.8 if many else 0.5, lw=1.2,
                label=("posterior, one line per chain" if many else "posterior draws")
                if i == 0 else None)
    if prior_pdf is not None:
        grid = np.linspace(edges[0], edges[-1], 200)
        ax.plot(grid, prior_pdf(grid), color="black", ls=":", lw=1.5, label="prior")
    if point is not None:
        ax.axvline(float(point), color=METHOD_COLORS["map"], lw=2, label=point_label)
    if truth is not None:
        ax.axvline(float(truth), color=_TRUTH, ls="--", lw=1.5, label="true value")
    ax.set_xlabel(label)
    ax.set_ylabel("density")
    return ax
