"""Diagnostics: ArviZ conversion and summaries, and convergence of f in function space.

Weight-space R-hat and ESS of a network are distorted by its symmetries (permuting hidden
units, flipping signs), so convergence is judged on f(x) at chosen inputs.
:func:`function_space` uses NumPyro's estimators and needs no ArviZ (the GPU benchmark path).
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["to_arviz", "summary", "function_space"]

_STAT_NAMES = {
    "diverging": "diverging",
    "num_steps": "n_steps",
    "tree_depth": "tree_depth",
    "accept_prob": "acceptance_rate",
    "step_size": "step_size",
    "potential_energy": "energy",
}


def _f_draws(fit, x) -> np.ndarray:
    pred = fit.predict(x)
    f = pred.f_samples
    return f.reshape(fit.num_chains, fit.num_draws, *f.shape[1:])


def function_space(fit, x) -> dict:
    """Split R-hat and bulk ESS of ``f(x)`` for each input, shape ``(n,)`` each.

    Returns ``{"rhat": ..., "ess": ..., "max_rhat": float, "min_ess": float}``.
    """
    from numpyro.diagnostics import effective_sample_size, split_gelman_rubin

    if fit.num_draws < 4:
        raise ValueError(f"function-space diagnostics need draws; {fit.method!r} has one")
    f = _f_draws(fit, x)
    rhat = np.asarray(split_gelman_rubin(f))
    ess = np.asarray(effective_sample_size(f))
    return {
        "rhat": rhat,
        "ess": ess,
        "max_rhat": float(np.max(rhat)),
        "min_ess": float(np.min(ess)),
    }


def to_arviz(fit, *, x_pred=None):
    """``arviz.InferenceData`` of a fit.

    Groups: ``posterior`` (or ``prior`` for ``method="prior"``) with every site, named by its
    parameter path (``"Dense_0.kernel"``, ``"sigma"``); ``sample_stats`` with ``lp`` (the log
    joint) and the sampler's statistics under ArviZ's names (``diverging``, ``tree_depth``,
    ``n_steps``, ``acceptance_rate``, ``step_size``, ``energy``); ``log_likelihood`` of the
    training data (for ``az.loo``); ``observed_data`` and ``constant_data``; with ``x_pred``,
    ``predictions`` of f and y there. A point estimate is one chain of one draw.
    """
    import arviz as az

    from bnn.results import short_name

    draws = {short_name(k): np.asarray(v) for k, v in fit.samples.items()}
    stats = {"lp": fit.log_joint()}
    for name, value in (fit.stats or {}).items():
        stats[_STAT_NAMES.get(name, name)] = np.asarray(value)
    if fit.losses is not None:
        last = np.atleast_2d(fit.losses)[:, -1]  # one final loss per run (ensemble member)
        stats["loss"] = np.broadcast_to(last[:, None], (fit.num_chains, fit.num_draws)).copy()
    groups = {
        "observed_data": {"y": np.asarray(fit.y)},
        "constant_data": {"x": np.asarray(fit.x)},
    }
    if fit.method == "prior":
        groups["prior"] = draws
        groups["sample_stats_prior"] = stats
    else:
        groups["posterior"] = draws
        groups["sample_stats"] = stats
        groups["log_likelihood"] = {"y": fit.log_likelihood(fit.x, fit.y)}
    if x_pred is not None:
        pred = fit.predict(x_pred)
        shape = (fit.num_chains, fit.num_draws)
        groups["predictions"] = {
            "f": pred.f_samples.reshape(*shape, *pred.f_samples.shape[1:]),
            "y": pred.y_samples.reshape(*shape, *pred.y_samples.shape[1:]),
        }
        groups["predictions_constant_data"] = {"x_pred": np.asarray(x_pred)}
    dims = {"y": ["obs"], "x": ["obs", "feature"]}
    with warnings.catch_warnings():
        # ensembles are K chains of one draw each, on purpose
        warnings.filterwarnings("ignore", message="More chains .* than draws")
        return az.from_dict(**groups, dims=dims)


def summary(fit, var_names=None, **kwargs):
    """``arviz.summary`` of the draws (R-hat, ESS, HDI); needs more than one draw."""
    import arviz as az

    if fit.num_draws < 2:
        raise ValueError(
            f"summary() needs posterior draws; a {fit.method!r} fit is a point estimate. Use "
            ".params, or fit with method 'nuts', 'hmc', 'svi' or 'prior'"
        )
    idata = fit.to_arviz()
    group = "prior" if fit.method == "prior" else "posterior"
    return az.summary(idata, var_names=var_names, group=group, **kwargs)
