"""Ready-made Flax modules: the notebook's polynomial regressor and multilayer perceptron.

Any ``flax.linen.Module`` that maps an ``(n, d)`` input to ``(n, k)`` outputs works with
:func:`bnn.fit`; these two are the ones the teaching notebook builds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import flax.linen as nn
import jax.numpy as jnp

__all__ = ["MLP", "PolynomialRegressor", "resolve_activation", "ACTIVATIONS"]


def _identity(x):
    return x


ACTIVATIONS: dict[str, Callable] = {
    "tanh": nn.tanh,
    "sigmoid": nn.sigmoid,
    "relu": nn.relu,
    "gelu": nn.gelu,
    "elu": nn.elu,
    "silu": nn.silu,
    "swish": nn.swish,
    "softplus": nn.softplus,
    "leaky_relu": nn.leaky_relu,
    "sin": jnp.sin,
    "identity": _identity,
    "linear": _identity,
}


def resolve_activation(activation: str | Callable | None) -> Callable:
    """Turn an activation name (``"tanh"``, ``"relu"``, ``"identity"``, ...) into a callable.

    >>> resolve_activation("tanh") is nn.tanh
    True
    """
    if activation is None:
        return _identity
    if callable(activation):
        return activation
    if isinstance(activation, str):
        try:
            return ACTIVATIONS[activation.lower()]
        except KeyError:
            raise ValueError(
                f"unknown activation {activation!r}; use one of {sorted(ACTIVATIONS)} "
                "or pass a callable such as flax.linen.tanh"
            ) from None
    raise TypeError(f"activation must be a name or a callable, got {type(activation).__name__}")


def _as_2d(x):
    return x[:, None] if x.ndim == 1 else x


class PolynomialRegressor(nn.Module):
    r"""Linear regression on a polynomial basis, :math:`f(x) = \langle w, \phi(x)\rangle + b`.

    :math:`\phi(x) = [x, x^2, \ldots, x^{degree}]`, applied to each input column, followed by a
    ``Dense(1)`` layer (the notebook's model, with its ``range(]`` typo mended).

    Attributes:
        degree: the highest power of ``x`` in the basis (``>= 1``).

    >>> import jax
    >>> m = PolynomialRegressor(degree=3)
    >>> params = m.init(jax.random.PRNGKey(0), jnp.zeros((1, 1)))
    >>> params["params"]["Dense_0"]["kernel"].shape
    (3, 1)
    """

    degree: int

    @nn.compact
    def __call__(self, x):
        if int(self.degree) < 1:
            raise ValueError(f"PolynomialRegressor needs degree >= 1, got {self.degree}")
        x = _as_2d(x)
        phi = jnp.concatenate([x ** (k + 1) for k in range(self.degree)], axis=-1)
        return nn.Dense(1, use_bias=True)(phi)


class MLP(nn.Module):
    """Multilayer perceptron: ``Dense`` layers with an activation between them, none after the last.

    Attributes:
        hidden: the width of every layer, the output layer included (``(10, 10, 1)`` is two
            hidden layers of 10 units and one output, as in the notebook).
        activation: a callable or a name from :data:`ACTIVATIONS` (``"tanh"``, ``"sigmoid"``,
            ``"relu"``, ``"identity"``...). The notebook's default is the sigmoid.
        kernel_init: Flax initialiser of the kernels (the notebook's default, LeCun normal).

    >>> import jax
    >>> m = MLP((10, 10, 1), activation="tanh")
    >>> m.apply(m.init(jax.random.PRNGKey(0), jnp.zeros((1, 1))), jnp.zeros((5, 1))).shape
    (5, 1)
    """

    hidden: Sequence[int]
    activation: Any = "sigmoid"
    kernel_init: Callable = nn.initializers.lecun_normal()

    def __post_init__(self):
        hidden = self.hidden
        if isinstance(hidden, int):
            hidden = (hidden,)
        hidden = tuple(int(h) for h in hidden)
        if not hidden or min(hidden) < 1:
            raise ValueError(f"MLP needs at least one layer of positive width, got {self.hidden}")
        object.__setattr__(self, "hidden", hidden)
        resolve_activation(self.activation)  # fail early on an unknown name
        super().__post_init__()

    @nn.compact
    def __call__(self, x):
        act = resolve_activation(self.activation)
        x = _as_2d(x)
        for k, width in enumerate(self.hidden):
            x = nn.Dense(width, kernel_init=self.kernel_init)(x)
            if k != len(self.hidden) - 1:
                x = act(x)
        return x
