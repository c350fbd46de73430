import math

import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
import pytest

import bnn
from bnn.priors import FanIn, Normal, PerParameter, from_l2, resolve

SHAPES = {"Dense_0.kernel": (4, 8), "Dense_0.bias": (8,), "Dense_1.kernel": (8, 1),
          "Dense_1.bias": (1,)}


def test_normal_is_isotropic():
    d = Normal(2.0).distributions(SHAPES)
    assert set(d) == set(SHAPES)
    assert all(float(v.scale) == 2.0 and float(v.loc) == 0.0 for v in d.values())


def test_fan_in_scales_kernels_by_inputs():
    d = FanIn(scale=2.0, bias_scale=0.5).distributions(SHAPES)
    assert float(d["Dense_0.kernel"].scale) == pytest.approx(2.0 / math.sqrt(4))
    assert float(d["Dense_1.kernel"].scale) == pytest.approx(2.0 / math.sqrt(8))
    assert float(d["Dense_0.bias"].scale) == 0.5


def test_per_parameter_full_path_beats_layer_prefix():
    p = PerParameter({"Dense_0": 5.0, "Dense_0.bias": Normal(0.1)}, default=1.0)
    d = p.distributions(SHAPES)
    assert float(d["Dense_0.kernel"].scale) == 5.0
    assert float(d["Dense_0.bias"].scale) == pytest.approx(0.1)
    assert float(d["Dense_1.kernel"].scale) == 1.0


def test_per_parameter_unknown_key_lists_real_paths():
    p = PerParameter({"dense_0.kernel": 1.0}, default=1.0)
    with pytest.raises(KeyError) as err:
        p.distributions(SHAPES)
    msg = str(err.value)
    assert "dense_0.kernel" in msg and "Dense_0.kernel" in msg and "Dense_1.bias" in msg


def test_per_parameter_uncovered_needs_default():
    with pytest.raises(ValueError, match="Dense_1"):
        PerParameter({"Dense_0": 1.0}).distributions(SHAPES)


def test_per_parameter_accepts_numpyro_distributions_and_is_hashable():
    p = PerParameter({"Dense_0.kernel": dist.Laplace(0.0, 1.0)}, default=Normal(1.0))
    hash(p)
    assert isinstance(p.distributions(SHAPES)["Dense_0.kernel"], dist.Laplace)


def test_from_l2_matches_penalty_gradient():
    # d/dtheta [sum (y - f)^2 + lam theta^2] / (2 sigma^2) == -d/dtheta log N(theta; 0, s)
    lam, sigma = 0.3, 0.2
    s = from_l2(lam, sigma).scale
    theta = 0.7
    assert lam * theta / sigma**2 == pytest.approx(theta / s**2, rel=1e-12)
    assert s == pytest.approx(sigma / math.sqrt(lam))


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_scales(bad):
    with pytest.raises(ValueError):
        Normal(bad)
    with pytest.raises(ValueError):
        from_l2(bad, 0.1)


def test_resolve_accepts_float_dict_and_distribution():
    assert float(resolve(3.0, SHAPES)["Dense_1.bias"].scale) == 3.0
    with pytest.raises(KeyError):
        resolve({"nope": 1.0}, SHAPES)
    assert isinstance(resolve(dist.Cauchy(), SHAPES)["Dense_0.bias"], dist.Cauchy)
    with pytest.raises(TypeError):
        resolve("normal", SHAPES)


def test_model_prior_keys_are_checked_in_fit(seed_data):
    """NumPyro silently ignores unknown keys; bnn refuses them with the real paths."""
    net = bnn.models.MLP((5, 1), activation="tanh")
    with pytest.raises(KeyError, match="Dense_0.kernel"):
        bnn.fit(net, seed_data.x, seed_data.y, method="map", num_steps=5,
                prior={"Dense_0.kernal": dist.Normal(0, 1)})


def test_every_parameter_gets_its_prior_in_the_model(seed_data):
    """Prior draws of each site have the scale the prior gave it (no parameter left fixed)."""
    net = bnn.models.MLP((30, 1), activation="tanh")
    prior = PerParameter({"Dense_0.kernel": 3.0}, default=Normal(0.5))
    res = bnn.fit(net, seed_data.x, seed_data.y, method="prior", prior=prior,
                  likelihood=bnn.likelihoods.Gaussian(0.1), num_samples=2000, key=3)
    k0 = np.asarray(res.samples["net/Dense_0.kernel"])
    b1 = np.asarray(res.samples["net/Dense_1.bias"])
    # sd estimates from 60k and 2k draws: within 4 standard errors
    assert np.std(k0) == pytest.approx(3.0, rel=4 / math.sqrt(2 * k0.size))
    assert np.std(b1) == pytest.approx(0.5, rel=4 / math.sqrt(2 * b1.size))
    assert jnp.all(jnp.isfinite(k0))

