import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from bnn.models import MLP, PolynomialRegressor, resolve_activation


def test_polynomial_features_and_dense():
    m = PolynomialRegressor(degree=3)
    v = m.init(jax.random.PRNGKey(0), jnp.zeros((1, 1)))
    w = v["params"]["Dense_0"]["kernel"][:, 0]
    b = v["params"]["Dense_0"]["bias"][0]
    x = jnp.linspace(-1, 1, 7)[:, None]
    expected = b + w[0] * x[:, 0] + w[1] * x[:, 0] ** 2 + w[2] * x[:, 0] ** 3
    np.testing.assert_allclose(m.apply(v, x)[:, 0], expected, rtol=1e-5, atol=1e-6)
    # 1-d input is treated as one feature
    np.testing.assert_allclose(m.apply(v, x[:, 0]), m.apply(v, x), rtol=1e-6)


def test_polynomial_rejects_degree_zero():
    with pytest.raises(ValueError, match="degree"):
        PolynomialRegressor(degree=0).init(jax.random.PRNGKey(0), jnp.zeros((1, 1)))


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "identity", nn.gelu])
def test_mlp_no_activation_after_last_layer(activation):
    m = MLP((4, 3), activation=activation)
    v = m.init(jax.random.PRNGKey(1), jnp.zeros((1, 2)))
    x = jax.random.normal(jax.random.PRNGKey(2), (5, 2))
    act = resolve_activation(activation)
    p = v["params"]
    h = act(x @ p["Dense_0"]["kernel"] + p["Dense_0"]["bias"])
    out = h @ p["Dense_1"]["kernel"] + p["Dense_1"]["bias"]  # linear output layer
    np.testing.assert_allclose(m.apply(v, x), out, rtol=1e-5, atol=1e-6)


def test_mlp_identity_activation_is_linear():
    m = MLP((20, 20, 1), activation="identity")
    v = m.init(jax.random.PRNGKey(0), jnp.zeros((1, 1)))
    x = jnp.linspace(-2, 2, 9)[:, None]
    f = m.apply(v, x)[:, 0]
    second_diff = f[2:] - 2 * f[1:-1] + f[:-2]
    np.testing.assert_allclose(second_diff, 0.0, atol=1e-5)


def test_mlp_hidden_accepts_list_and_int():
    assert MLP([10, 1]).hidden == (10, 1)
    assert MLP(1).hidden == (1,)
    hash(MLP([10, 10, 1], activation="tanh"))  # hashable: compiled fits can be reused


@pytest.mark.parametrize("hidden", [(), (0, 1), (3, -1)])
def test_mlp_rejects_bad_widths(hidden):
    with pytest.raises(ValueError, match="width"):
        MLP(hidden)


def test_unknown_activation_lists_names():
    with pytest.raises(ValueError, match="tanh"):
        MLP((3, 1), activation="tanhh")
    with pytest.raises(TypeError):
        resolve_activation(3)
