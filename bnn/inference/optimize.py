r"""Point estimates: maximum likelihood (``"mle"``) and maximum a posteriori (``"map"``).

Both minimise a per-datum negative log density of the shared NumPyro model with an optax
optimiser, as one compiled loop (``lax.fori_loop`` under ``jit``):

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

from bnn._checks import positive_float, positive_int
from bnn.inference._driver import make_loop, run_loop
from bnn.model import latent_sites

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


def negative_log_density(model, include_prior: bool, sites):
    """``loss(u, x, y)``: per-datum negative log joint (or log likelihood) at unconstrained u.

    One pass through the model: each latent site takes its constrained value from ``u`` as it
    is sampled (NumPyro's ``constrain_fn`` followed by a trace would run the model twice).
    """
    transforms = sites.transforms

    def loss(u, x, y, hyper=None):
        def constrained(msg):
            name = msg.get("name")
            if msg["type"] == "sample" and name in u:
                return transforms[name](u[name])
            return None

        tr = handlers.trace(handlers.substitute(model, substitute_fn=constrained)).get_trace(
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
def _compiled(model, sites, include_prior, optimizer, batched):
    loss_fn = negative_log_density(model, include_prior, sites)
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

    return make_loop(step, "optimize", batched)


@functools.lru_cache(maxsize=64)
def _start(model, sites, optimizer, batched):
    """Compiled ``start(keys, shared) -> (u0, optimiser state)``: Flax's initialisation of
    each member (one key each), overridden by the ``shared`` site values, unconstrained."""
    transforms = sites.transforms

    def one(key, shared):
        values = {**model.network_init(key), **shared}
        missing = sorted(set(transforms) - set(values))
        if missing:
            raise ValueError(f"no starting value for site(s) {missing}; pass init_params")
        u = {k: transforms[k].inv(values[k]) for k in transforms}
        return u, optimizer.init(u)

    if batched:
        return jax.jit(jax.vmap(one, in_axes=(0, None)))
    return jax.jit(one)


def start_values(model, sites, y, init_params) -> dict:
    """Start values shared by all members or chains: the learned noise ``sigma`` at half the
    spread of y, then the user's ``init_params`` (checked against the latent sites)."""
    values = {}
    if getattr(model.likelihood, "learned", False):
        values["sigma"] = max(0.5 * float(np.std(np.asarray(y))), 1e-2)
    if init_params is not None:
        if not isinstance(init_params, dict):
            raise TypeError("init_params must be a dict of site values, e.g. fit.params")
        shapes = sites.shapes
        unknown = sorted(set(init_params) - set(shapes))
        if unknown:
            raise KeyError(f"init_params has unknown sites {unknown}; sites are {sorted(shapes)}")
        for k, v in init_params.items():
            if jnp.shape(v) != shapes[k]:
                raise ValueError(f"init_params[{k!r}] has shape {jnp.shape(v)}, expected "
                                 f"{shapes[k]}")
            if not np.all(np.isfinite(np.asarray(v))):
                raise ValueError(f"init_params[{k!r}] has NaN or inf values; start from "
                                 "finite values, e.g. fit.params of a converged fit")
        values.update(init_params)
    return {k: jnp.asarray(v, jnp.float32) for k, v in values.items()}


def initial_values(model, key, x, y) -> dict:
    """Flax's own initialisation for the network; sigma starts at half the spread of y."""
    return {**model.network_init(key), **start_values(model, None, y, None)}


def fit_point(
    model, x, y, key, *, include_prior, options, progress_bar, num_members=None, hyper=None
):
    """Run the optimiser; return (constrained site values, loss trace).

    With ``num_members=K``, K fits from independent Flax initialisations run vectorised in
    one compiled loop: values and losses then have a leading axis of K. ``hyper`` passes
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
    x, y = jnp.asarray(x), jnp.asarray(y)
    sites = latent_sites(model, x, y)
    shared = start_values(model, sites, y, options["init_params"])
    keys = jax.random.split(key, num_members) if batched else key
    carry = _start(model, sites, optimizer, batched)(keys, shared)
    run = _compiled(model, sites, include_prior, optimizer, batched)
    desc = ("MAP" if include_prior else "MLE") + (f" x{num_members}" if batched else "")
    (u, _), losses = run_loop(run, carry, (x, y, hyper), num_steps, progress_bar, desc,
                              num_members)
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
    transforms = sites.transforms
    params = {k: transforms[k](v) for k, v in u.items()}
    return params, losses
