"""(module, prior, likelihood) -> one NumPyro model, lifted with ``random_flax_module``.

Every method of :func:`bnn.fit` runs on the model built here, so MLE, MAP, SVI and NUTS
answer questions about the same log joint density

    log p(y, theta) = sum_n log p(y_n | f_theta(x_n)) + sum_k log p(theta_k)

The sample sites are ``"net/<path>"`` for each network parameter (``"net/Dense_0.kernel"``),
``"sigma"`` when the Gaussian noise is learned, and the observed ``"y"``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import flax
import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro import handlers
from numpyro.contrib.module import ParamShape, random_flax_module
from numpyro.distributions import biject_to

from bnn import priors as _priors
from bnn.likelihoods import Likelihood

__all__ = ["BayesianModel", "make_model", "latent_sites", "Sites", "NET"]

NET = "net"  # the NumPyro name of the lifted module; its sites are "net/<path>"


@dataclass(frozen=True, eq=False)
class BayesianModel:
    """A NumPyro model callable as ``model(x, y=None, record=False)``.

    ``record=True`` adds the deterministic site ``"f"`` (the latent function at ``x``), used
    for prediction; fitting leaves it out so that samplers do not store ``f`` at every draw.
    """

    module: flax.linen.Module
    likelihood: Likelihood
    prior_dists: tuple  # ((path, numpyro distribution), ...)
    param_shapes: tuple  # ((path, shape), ...)
    input_dim: int
    output_dim: int

    def __call__(self, x, y=None, record: bool = False, hyper: dict | None = None):
        # hand random_flax_module the parameter shapes, so it never runs the Flax initialiser
        # inside the model (every parameter is a sample site; only shapes are needed)
        template = flax.traverse_util.unflatten_dict(
            {tuple(p.split(".")): ParamShape(s) for p, s in self.param_shapes}
        )
        priors = dict(self.prior_dists)
        noise = None
        if hyper is not None:  # traced hyperparameters (evidence tuning): no recompilation
            priors = {p: _rescaled(d, hyper["prior_scale"]) for p, d in priors.items()}
            noise = hyper.get("noise")
        with handlers.substitute(data={f"{NET}$params": template}):
            net = random_flax_module(
                NET, self.module, prior=priors, input_shape=(1, self.input_dim)
            )
        out = net(x)
        out = jnp.reshape(out, (x.shape[0], self.output_dim))
        f = self.likelihood.observe(out, y, noise=noise)
        if record:
            numpyro.deterministic("f", f)
        return f

    @property
    def param_paths(self) -> list[str]:
        return [p for p, _ in self.param_shapes]

    @property
    def net_sites(self) -> list[str]:
        return [f"{NET}/{p}" for p, _ in self.param_shapes]

    def network_init(self, key) -> dict:
        """Network parameters from the module's own Flax initialisers, keyed by site name.

        Compiled once per model: run eagerly, Flax's initialisers compile op by op (about a
        second in a fresh process).
        """
        return _compiled_init(self)(key)

    def unflatten(self, values: dict) -> dict:
        """Site values ``{"net/Dense_0.kernel": ...}`` -> Flax variables ``{"params": {...}}``."""
        flat = {k[len(NET) + 1 :]: v for k, v in values.items() if k.startswith(NET + "/")}
        return {"params": flax.traverse_util.unflatten_dict(flat, sep=".")}

    def describe_prior(self) -> dict[str, str]:
        return {p: _priors._fmt(d) for p, d in self.prior_dists}


@functools.lru_cache(maxsize=128)
def _compiled_init(model: BayesianModel):
    def init(key):
        variables = model.module.init(key, jnp.ones((1, model.input_dim)))
        flat = flax.traverse_util.flatten_dict(flax.core.unfreeze(variables["params"]), sep=".")
        return {f"{NET}/{p}": v for p, v in flat.items()}

    return jax.jit(init)


class Sites(tuple):
    """``((name, shape, support), ...)`` of the latent sites, hashed by names and shapes (a
    cache key for compiled code per model)."""

    def _key(self):
        return tuple((name, shape) for name, shape, _ in self)

    def __hash__(self):
        return hash(self._key())

    def __eq__(self, other):
        return isinstance(other, Sites) and self._key() == other._key()

    @property
    def supports(self) -> dict:
        return {name: support for name, _, support in self}

    @property
    def shapes(self) -> dict:
        return {name: shape for name, shape, _ in self}

    @property
    def transforms(self) -> dict:
        """Site name -> the bijection from unconstrained space onto its support."""
        return {name: biject_to(support) for name, _, support in self}


def latent_sites(model: BayesianModel, x, y) -> Sites:
    """The model's latent sites, found by tracing it abstractly on one row of ``(x, y)``
    (nothing runs or compiles); cached per model and row shapes."""
    x_row = jax.ShapeDtypeStruct((1, *jnp.shape(x)[1:]), jnp.result_type(x))
    y_row = None if y is None else jax.ShapeDtypeStruct((1, *jnp.shape(y)[1:]), jnp.result_type(y))
    return _latent_sites(model, x_row, y_row)


@functools.lru_cache(maxsize=128)
def _latent_sites(model, x_row, y_row) -> Sites:
    supports = {}

    def probe(key, x, y):
        tr = handlers.trace(handlers.seed(model, key)).get_trace(x, y)
        latent = {n: s for n, s in tr.items() if s["type"] == "sample" and not s["is_observed"]}
        supports.update({n: s["fn"].support for n, s in latent.items()})
        return {n: s["value"] for n, s in latent.items()}

    shapes = jax.eval_shape(probe, jax.random.PRNGKey(0), x_row, y_row)
    return Sites((n, tuple(v.shape), supports[n]) for n, v in shapes.items())


def _rescaled(d, factor):
    if not isinstance(d, dist.Normal):
        raise TypeError("hyperparameter tuning rescales Normal priors only")
    return dist.Normal(d.loc, d.scale * factor)


def _inspect(module, input_dim: int):
    """Parameter shapes and output width of ``module`` on ``(1, input_dim)`` inputs."""
    x = jnp.ones((1, input_dim))
    try:
        variables = jax.eval_shape(module.init, jax.random.PRNGKey(0), x)
        out = jax.eval_shape(module.apply, variables, x)
    except Exception as err:
        raise ValueError(
            f"the network {type(module).__name__} failed on inputs of shape (n, {input_dim}): "
            f"{type(err).__name__}: {err}"
        ) from err
    if "params" not in variables:
        raise ValueError(f"the network {type(module).__name__} has no parameters to fit")
    others = sorted(set(variables) - {"params"})
    if others:
        raise ValueError(
            f"the network has mutable collections {others} (e.g. BatchNorm); bnn fits modules "
            "whose only variables are 'params'"
        )
    flat = flax.traverse_util.flatten_dict(flax.core.unfreeze(variables["params"]), sep=".")
    shapes = {p: tuple(v.shape) for p, v in flat.items()}
    out_shape = tuple(out.shape)
    if len(out_shape) == 1:
        n_out = 1
    elif len(out_shape) == 2:
        n_out = out_shape[1]
    else:
        raise ValueError(
            f"the network must return (n,) or (n, k) outputs, got shape {out_shape} for 1 input"
        )
    return shapes, int(n_out)


def _build(module, prior, likelihood, input_dim: int) -> BayesianModel:
    if not isinstance(module, flax.linen.Module):
        raise TypeError(
            f"model must be a flax.linen.Module (e.g. bnn.models.MLP((10, 1))), got "
            f"{type(module).__name__}"
        )
    if not isinstance(likelihood, Likelihood):
        raise TypeError(
            "likelihood must be one of bnn.likelihoods (Gaussian, Bernoulli, Categorical, ...), "
            f"got {type(likelihood).__name__}"
        )
    shapes, n_out = _inspect(module, input_dim)
    likelihood.check_output(n_out)
    dists = _priors.resolve(prior, shapes)
    return BayesianModel(
        module=module,
        likelihood=likelihood,
        prior_dists=tuple((p, dists[p]) for p in shapes),
        param_shapes=tuple(shapes.items()),
        input_dim=int(input_dim),
        output_dim=n_out,
    )


@functools.lru_cache(maxsize=128)
def _build_cached(module, prior, likelihood, input_dim):
    return _build(module, prior, likelihood, input_dim)


def make_model(module, prior, likelihood, input_dim: int) -> BayesianModel:
    """Build (or reuse) the NumPyro model. Equal hashable specs give the same model object,
    so compiled fitting code is reused by a second fit of the same shapes."""
    try:
        hash((module, prior, likelihood))
    except TypeError:
        return _build(module, prior, likelihood, input_dim)
    return _build_cached(module, prior, likelihood, int(input_dim))


def stack_values(values: list[dict]) -> dict:
    return {k: jnp.stack([v[k] for v in values]) for k in values[0]}


def as_numpy(tree):
    return jax.tree.map(np.asarray, tree)
