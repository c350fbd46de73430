"""The result type: prediction summaries, log likelihoods and the ArviZ conversion."""

import numpy as np
import pytest
from scipy import stats

import bnn

X = np.linspace(-1, 1, 30)[:, None].astype(np.float32)
Y = (X[:, 0] * np.sin(5 * X[:, 0])).astype(np.float32)
NET = bnn.models.MLP((8, 1), activation="tanh")


@pytest.fixture(scope="module")
def map_fit():
    return bnn.fit(NET, X, Y, method="map", num_steps=300, key=1)


@pytest.fixture(scope="module")
def nuts_fit():
    return bnn.fit(bnn.models.PolynomialRegressor(2), X, Y, method="nuts", num_warmup=100,
                   num_samples=100, num_chains=2, key=2)


def test_point_interval_is_the_gaussian_interval(map_fit):
    pred = map_fit.predict(X)
    sigma = float(map_fit.params["sigma"])
    lo, hi = pred.interval(0.9)
    z = stats.norm.ppf(0.95)
    np.testing.assert_allclose(lo, pred.mean - z * sigma, atol=1e-5)
    np.testing.assert_allclose(hi, pred.mean + z * sigma, atol=1e-5)
    np.testing.assert_allclose(pred.std, sigma, rtol=1e-6)
    assert np.all(pred.epistemic_std == 0)


def test_mixture_interval_has_its_coverage(nuts_fit):
    """interval(p) of the mixture: the mean of Normal CDFs over draws at the bounds is exact."""
    pred = nuts_fit.predict(X[:5])
    lo, hi = pred.interval(0.8)
    cdf = lambda v: stats.norm.cdf((v - pred.f_samples) / pred.noise_std).mean(0)  # noqa: E731
    np.testing.assert_allclose(cdf(lo), 0.1, atol=1e-4)
    np.testing.assert_allclose(cdf(hi), 0.9, atol=1e-4)


def test_total_variance_is_epistemic_plus_aleatoric(nuts_fit):
    pred = nuts_fit.predict(X)
    np.testing.assert_allclose(pred.std**2, pred.epistemic_std**2 + pred.aleatoric_std**2,
                               rtol=1e-5)
    assert pred.f_samples.shape == (200, 30) and pred.y_samples.shape == (200, 30)
    # y draws scatter around f draws by the noise
    resid = pred.y_samples - pred.f_samples
    assert np.std(resid) == pytest.approx(np.sqrt(np.mean(pred.noise_std**2)), rel=0.1)


def test_log_likelihood_is_gaussian_log_density(map_fit):
    ll = map_fit.log_likelihood(X, Y)
    assert ll.shape == (1, 1, 30)
    mean = map_fit.predict(X).mean
    expected = stats.norm.logpdf(Y, mean, float(map_fit.params["sigma"]))
    np.testing.assert_allclose(ll[0, 0], expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(map_fit.log_predictive_density(X, Y), expected, rtol=1e-4,
                               atol=1e-4)


def test_num_draws_thins_evenly(nuts_fit):
    assert nuts_fit.predict(X, num_draws=10).f_samples.shape == (10, 30)


def test_net_params_apply_like_predict(map_fit):
    out = NET.apply(map_fit.net_params, X)[:, 0]
    np.testing.assert_allclose(out, map_fit.predict(X).mean, rtol=1e-5, atol=1e-6)


def test_to_arviz_point_estimate_is_one_draw(map_fit):
    idata = map_fit.to_arviz()
    for group in ("posterior", "sample_stats", "log_likelihood", "observed_data"):
        assert group in idata.groups()
    post = idata.posterior
    assert post.sizes["chain"] == 1 and post.sizes["draw"] == 1
    assert "Dense_0.kernel" in post and "sigma" in post
    np.testing.assert_allclose(idata.observed_data["y"], Y)


def test_to_arviz_sampler_stats_and_loo(nuts_fit):
    import arviz as az

    idata = nuts_fit.to_arviz(x_pred=X[:4])
    ss = idata.sample_stats
    for name in ("diverging", "tree_depth", "n_steps", "acceptance_rate", "step_size", "lp"):
        assert ss[name].shape == (2, 100)
    assert idata.log_likelihood["y"].shape == (2, 100, 30)
    assert idata.predictions["f"].shape == (2, 100, 4)
    loo = az.loo(idata)
    assert np.isfinite(loo.elpd_loo)
    # lp is the log joint: log likelihood plus log prior
    lp = idata.sample_stats["lp"].values
    ll = idata.log_likelihood["y"].values.sum(-1)
    assert np.all(lp < ll + 50) and np.corrcoef(lp.ravel(), ll.ravel())[0, 1] > 0.5


def test_summary_has_rhat_and_ess(nuts_fit):
    table = nuts_fit.summary()
    assert {"r_hat", "ess_bulk"} <= set(table.columns)
    assert any(name.startswith("Dense_0.kernel") for name in table.index)


def test_prior_fit_goes_to_the_prior_group():
    res = bnn.fit(NET, X, Y, method="prior", num_samples=20)
    idata = res.to_arviz()
    assert "prior" in idata.groups() and "posterior" not in idata.groups()


def test_stats_have_chain_and_draw_dimensions(nuts_fit):
    assert nuts_fit.num_chains == 2 and nuts_fit.num_draws == 100
    for v in nuts_fit.stats.values():
        assert v.shape == (2, 100)
    assert np.all(nuts_fit.stats["tree_depth"] >= 1)
    assert np.all(2 ** (nuts_fit.stats["tree_depth"] - 1) <= nuts_fit.stats["num_steps"])


def test_function_diagnostics_without_arviz(nuts_fit):
    d = nuts_fit.function_diagnostics(X)
    assert d["rhat"].shape == (30,) and d["ess"].shape == (30,)
    assert d["max_rhat"] < 1.1 and d["min_ess"] > 10


def test_classification_prediction():
    x, y = bnn.datasets.two_moons(100, noise=0.1, key=0)
    res = bnn.fit(bnn.models.MLP((16, 16, 3), activation="tanh"), x, y, method="map",
                  likelihood=bnn.likelihoods.Categorical(), num_steps=500)
    pred = res.predict(x)
    assert pred.probs.shape == (100, 3)
    np.testing.assert_allclose(pred.probs.sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(pred.mutual_information, 0.0, atol=1e-6)  # one draw
    assert np.all(pred.entropy <= np.log(3) + 1e-6)
    with pytest.raises(AttributeError, match="regression"):
        pred.interval(0.9)
    assert np.mean(pred.label == y) > 0.9


def test_hmc_with_fixed_number_of_steps_adapts_its_step_size():
    res = bnn.fit(bnn.models.PolynomialRegressor(2), X, Y, method="hmc", num_steps=10,
                  num_warmup=200, num_samples=200, num_chains=2, key=0)
    assert np.all(res.stats["num_steps"] == 10)
    assert res.function_diagnostics(X)["max_rhat"] < 1.05
