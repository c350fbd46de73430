"""Beyond closed forms: the notebook's MLP, a user's own module, and classification."""

import flax.linen as nn
import numpy as np
import pytest

import bnn


def test_map_mlp_fits_the_seed_data(seed_data):
    res = bnn.fit(bnn.models.MLP((10, 10, 1), activation="tanh"), seed_data.x, seed_data.y,
                  method="map", num_steps=3000, key=0)
    train_rmse = np.sqrt(np.mean((res.predict(seed_data.x).mean - seed_data.y) ** 2))
    assert train_rmse < 0.15  # the noise is 0.1
    inside = np.abs(seed_data.x_test[:, 0]) <= 1
    err = res.predict(seed_data.x_test).mean[inside] - seed_data.f_test[inside]
    assert np.sqrt(np.mean(err**2)) < 0.1
    assert 0.05 < float(res.params["sigma"]) < 0.15


class UserNet(nn.Module):
    """A module of the user's own, with a nested submodule and its own names."""

    @nn.compact
    def __call__(self, x):
        h = nn.tanh(nn.Dense(16, name="hidden")(x))
        return nn.Dense(1, name="head")(h)


def test_any_flax_module_with_named_layers(seed_data):
    prior = bnn.priors.PerParameter({"hidden": 2.0, "head.kernel": 0.5}, default=1.0)
    res = bnn.fit(UserNet(), seed_data.x, seed_data.y, method="map", prior=prior,
                  num_steps=2000)
    assert set(res.params) == {"net/hidden.kernel", "net/hidden.bias", "net/head.kernel",
                               "net/head.bias", "sigma"}
    assert res.model.describe_prior()["head.kernel"] == "Normal(0, 0.5)"
    assert np.sqrt(np.mean((res.predict(seed_data.x).mean - seed_data.y) ** 2)) < 0.2


def test_bernoulli_mlp_separates_two_moons():
    x, y = bnn.datasets.two_moons(300, noise=0.1, key=0)
    xt, yt = bnn.datasets.two_moons(300, noise=0.1, key=1)
    res = bnn.fit(bnn.models.MLP((16, 16, 1), activation="tanh"), x, y, method="map",
                  likelihood=bnn.likelihoods.Bernoulli(), num_steps=2000)
    pred = res.predict(xt)
    assert np.mean(pred.label == yt) > 0.97
    assert pred.probs.shape == (300,)


def test_svi_on_two_moons_separates_and_keeps_spread():
    x, y = bnn.datasets.two_moons(200, noise=0.1, key=0)
    res = bnn.fit(bnn.models.MLP((16, 16, 1), activation="tanh"), x, y, method="svi",
                  likelihood=bnn.likelihoods.Bernoulli(), num_steps=4000, learning_rate=2e-2,
                  num_samples=200)
    pred = res.predict(x)
    # mean-field SVI underfits a little next to MAP (0.97+), but a linear boundary gets ~0.87
    assert np.mean(pred.label == y) > 0.9
    # unlike a point estimate, the draws disagree: positive epistemic uncertainty
    assert pred.mutual_information.mean() > 0.01


@pytest.mark.slow
def test_nuts_on_the_notebook_mlp_converges_in_function_space(seed_data):
    import arviz as az

    res = bnn.fit(bnn.models.MLP((10, 10, 1), activation="tanh"), seed_data.x, seed_data.y,
                  method="nuts", num_chains=4, num_warmup=500, num_samples=500, key=0)
    diag = res.function_diagnostics(seed_data.x_test)
    assert diag["max_rhat"] <= 1.01
    # ArviZ's rank-normalised split R-hat agrees
    f = res.predict(seed_data.x_test).f_samples.reshape(4, 500, -1)
    rhat = az.rhat(az.convert_to_dataset({"f": f}))["f"].values
    assert np.max(rhat) <= 1.01
    # and the posterior predictive follows the data
    pred = res.predict(seed_data.x)
    assert np.sqrt(np.mean((pred.mean - seed_data.y) ** 2)) < 0.15
