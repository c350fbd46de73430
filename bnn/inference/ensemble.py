"""Deep ensembles (``"ensemble"``): K MAP fits from independent initialisations.

All members run vectorised (``vmap``) inside one compiled loop; they predict as an
equal-weight mixture. In the result each member is one chain of one draw, so
``samples[site]`` has shape ``(K, 1, ...)`` and every method of the result treats the
ensemble as a mixture of its members (Lakshminarayanan et al., 2017; here with the prior of
the model as the regulariser, i.e. MAP members).
"""

from __future__ import annotations

from bnn._checks import positive_int
from bnn.inference import optimize

OPTIONS = {**optimize.OPTIONS, "num_members": 5}


def fit_ensemble(model, x, y, key, options, progress_bar):
    num_members = positive_int("num_members", options["num_members"])
    map_options = {k: options[k] for k in optimize.OPTIONS}
    params, losses = optimize.fit_point(
        model, x, y, key, include_prior=True, options=map_options, progress_bar=progress_bar,
        num_members=num_members,
    )
    samples = {k: v[:, None] for k, v in params.items()}
    return samples, losses
