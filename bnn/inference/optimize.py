r"""Point estimates: maximum likelihood (``"mle"``) and maximum a posteriori (``"map"``).

Both minimise a per-datum negative log density of the shared NumPyro model with an optax
optimiser, as one compiled ``lax.scan``:

    MLE:  L(theta) = -(1/n) sum_n log p(y_n | theta)
    MAP:  L(theta) = -(1/n) [ sum_n log p(y_n | theta) + log p(theta) ]

Constrained latent sites (the noise ``sigma``) are optimised in unconstrained space, but the
objective has no Jacobian term, so the optimum is the mode in the original parametrisation.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
from numpyro import handlers
from numpyro.distributions import biject_to
from numpyro.infer.util import constrain_fn

from bnn._checks import positive_float, positive_int
from bnn.inference._driver import make_scan, run_chunked

OPTIONS = {
    "num_steps": 2000,
    "learning_rate": 1e-2,
    "optimizer": None,
    "init_params": None,
}


class NonFiniteLossError(ValueError):
    """The optimisation loss became NaN or infinite."""


@functools.lru_cache(maxsize=32)
def default_optimizer(learning_rate: float) -> optax.GradientTransformation:
    """``optax.adam(learning_rate)``, built once per rate so compiled fits can be reused."""
    return optax.adam(learning_rate)


def _latent_sites(model, x, y, init_values):
    tr = handlers.trace(handlers.substitute(handlers.seed(model, 0), data=init_values)).get_trace(
        x, y
    )
    return {
        name: site["fn"].support
        for name, site in tr.items()
        if site["type"] == "sample" and not site["is_observed"]
    }


def negative_log_density(model, include_prior: bool):
    """``loss(u, x, y)``: per-datum negative log joint (or log likelihood) at unconstrained u."""

    def loss(u, x, y, hyper=None):
        values = constrain_fn(model, (x, y), {"hyper": hyper}, u)
        tr = handlers.trace(handlers.substitute(model, data=values)).get_trace(
            x, y, hyper=hyper
        )
        total = 0.0
        for site in tr.values():
            if site["type"] != "sample":
                continue
            if site["is_observed"] or include_prior:
                total = total + jnp.sum(site["fn"].log_prob(site["value"]))
        return -total / x.shape[0]

    return loss


@functools.lru_cache(maxsize=64)
def _compiled(model, include_prior, optimizer, length, masked, batched):
    loss_fn = negative_log_density(model, include_prior)
    extra_args = isinstance(optimizer, optax.GradientTransformationExtraArgs)

    def step(carry, data):
        u, opt_state = carry
        x, y, hyper = data
        value, grad = jax.value_and_grad(loss_fn)(u, x, y, hyper)
        if extra_args:  # e.g. optax.lbfgs needs the objective for its line search
            updates, opt_state = optimizer.update(
                grad, opt_state, u, value=value, grad=grad,
                value_fn=lambda p: loss_fn(p, x, y, hyper),
            )
        else:
            updates, opt_state = optimizer.update(grad, opt_state, u)
        return (optax.apply_updates(u, updates), opt_state), value

    return make_scan(step, length, "optimize", masked, batched)


def initial_values(model, key, x, y):
    """Flax's own initialisation for the network; sigma starts at half the spread of y."""
    values = model.network_init(key)
    if getattr(model.likelihood, "learned", False):
        values["sigma"] = jnp.asarray(max(0.5 * float(np.std(y)), 1e-2), jnp.float32)
    return values


def _check_init(model, init_params, defaults):
    if init_params is None:
        return defaults
    if not isinstance(init_params, dict):
        raise TypeError("init_params must be a dict of site values, e.g. fit.params")
    unknown = sorted(set(init_params) - set(defaults))
    if unknown:
        raise KeyError(f"init_params has unknown sites {unknown}; sites are {sorted(defaults)}")
    out = dict(defaults)
    for k, v in init_params.items():
        v = jnp.asarray(v, jnp.float32)
        if v.shape != jnp.shape(defaults[k]):
            raise ValueError(f"init_params[{k!r}] has shape {v.shape}, expected "
                             f"{jnp.shape(defaults[k])}")
        out[k] = v
    return out


def fit_point(
    model, x, y, key, *, include_prior, options, progress_bar, num_members=None, hyper=None
):
    """Run the optimiser; return (constrained site values, loss trace).

    With ``num_members=K``, K fits from independent Flax initialisations run vectorised in
    one compiled scan: values and losses then have a leading axis of K. ``hyper`` passes
    traced hyperparameters to the model (see :class:`bnn.model.BayesianModel`).
    """
    num_steps = positive_int("num_steps", options["num_steps"])
    optimizer = options["optimizer"]
    if optimizer is None:
        optimizer = default_optimizer(positive_float("learning_rate", options["learning_rate"]))
    elif not isinstance(optimizer, optax.GradientTransformation):
        raise TypeError(
            f"optimizer must be an optax transformation such as optax.adam(1e-2), got "
            f"{type(optimizer).__name__}"
        )
    batched = num_members is not None
    keys = jax.random.split(key, num_members) if batched else [key]
    inits = [_check_init(model, options["init_params"], initial_values(model, k, x, y))
             for k in keys]
    supports = _latent_sites(model, x, y, inits[0])
    transforms = {k: biject_to(s) for k, s in supports.items()}
    u0 = [{k: transforms[k].inv(v) for k, v in values.items()} for values in inits]
    if batched:
        u0 = jax.tree.map(lambda *a: jnp.stack(a), *u0)
        carry = (u0, jax.vmap(optimizer.init)(u0))
    else:
        u0 = u0[0]
        carry = (u0, optimizer.init(u0))

    def build(length, masked):
        return _compiled(model, include_prior, optimizer, length, masked, batched)

    data = (jnp.asarray(x), jnp.asarray(y), hyper)
    desc = ("MAP" if include_prior else "MLE") + (f" x{num_members}" if batched else "")
    (u, _), losses = run_chunked(
        build, carry, data, num_steps, progress_bar, desc, axis=1 if batched else 0
    )
    losses = np.asarray(losses)
    bad = np.argwhere(~np.isfinite(np.atleast_2d(losses)))
    if bad.size:
        member, step = bad[0]
        where = f" (ensemble member {member})" if batched else ""
        raise NonFiniteLossError(
            f"the {desc} loss became {np.atleast_2d(losses)[member, step]} at step {step} of "
            f"{num_steps}{where}; lower the learning rate, pass standardize=True, or use a "
            "stronger prior"
        )
    params = {k: transforms[k](v) for k, v in u.items()}
    return params, losses
