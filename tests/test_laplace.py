"""Laplace, ensembles and evidence tuning against the closed forms of the polynomial model."""

import numpy as np
import optax
import pytest
from conftest import conjugate_posterior, design
from scipy.optimize import minimize
from scipy.stats import multivariate_normal

import bnn
from bnn.inference._driver import TRACE_COUNTS

DEGREE, S, SIGMA = 3, 0.2, 0.1
# ravel_pytree orders sites by name: Dense_0.bias, then Dense_0.kernel
ORDER = [DEGREE] + list(range(DEGREE))


def _laplace(data, **kw):
    return bnn.fit(bnn.models.PolynomialRegressor(DEGREE), data.x, data.y, method="laplace",
                   prior=bnn.priors.Normal(S), likelihood=bnn.likelihoods.Gaussian(SIGMA),
                   optimizer=optax.lbfgs(), num_steps=100, **kw)


def _log_marginal(data, s, sigma):
    phi = design(data.x, DEGREE)
    n = len(data.y)
    return multivariate_normal(np.zeros(n), s**2 * phi @ phi.T + sigma**2 * np.eye(n)).logpdf(
        data.y)


@pytest.mark.parametrize("curvature", ["ggn", "hessian"])
def test_full_laplace_is_the_exact_posterior(seed_data, curvature):
    res = _laplace(seed_data, curvature=curvature)
    mean, cov = conjugate_posterior(seed_data.x, seed_data.y, DEGREE, S, SIGMA)
    mean, cov = mean[ORDER], cov[np.ix_(ORDER, ORDER)]
    np.testing.assert_allclose(res.laplace.mean, mean, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(res.laplace.covariance(), cov, rtol=2e-3, atol=1e-7)
    # and so is its evidence
    assert res.log_evidence == pytest.approx(_log_marginal(seed_data, S, SIGMA), abs=1e-2)


def test_diag_laplace_keeps_the_diagonal_of_the_precision(seed_data):
    res = _laplace(seed_data, hessian_structure="diag")
    _, cov = conjugate_posterior(seed_data.x, seed_data.y, DEGREE, S, SIGMA)
    precision = np.linalg.inv(cov)[np.ix_(ORDER, ORDER)]
    np.testing.assert_allclose(res.laplace.precision, np.diag(precision), rtol=1e-4)
    draws = np.concatenate([res.samples["net/Dense_0.bias"][0],
                            res.samples["net/Dense_0.kernel"][0, :, :, 0]], axis=1)
    np.testing.assert_allclose(draws.std(0), 1 / np.sqrt(np.diag(precision)), rtol=0.08)


def test_laplace_predictive_linearised_equals_sampled_on_a_linear_model(seed_data):
    res = _laplace(seed_data, num_samples=4000)
    grid = np.linspace(-1.5, 1.5, 9)[:, None]
    lin, mc = res.predict(grid), res.predict(grid, linearize=False)
    np.testing.assert_allclose(lin.f_samples, mc.f_samples, rtol=1e-4, atol=1e-4)
    _, cov = conjugate_posterior(seed_data.x, seed_data.y, DEGREE, S, SIGMA)
    phi = design(grid, DEGREE)
    exact_sd = np.sqrt(np.einsum("ij,jk,ik->i", phi, cov, phi))
    np.testing.assert_allclose(lin.epistemic_std, exact_sd, rtol=5 * np.sqrt(1 / 8000))


def test_last_layer_of_a_one_layer_model_is_everything(seed_data):
    a = _laplace(seed_data)
    b = _laplace(seed_data, subset_of_weights="last_layer")
    assert a.laplace.sites == b.laplace.sites
    np.testing.assert_allclose(a.laplace.precision, b.laplace.precision, rtol=1e-6)


def test_last_layer_laplace_on_an_mlp(seed_data):
    res = bnn.fit(bnn.models.MLP((10, 10, 1), activation="tanh"), seed_data.x, seed_data.y,
                  method="laplace", subset_of_weights="last_layer", num_steps=2000)
    assert res.laplace.sites == ("net/Dense_2.bias", "net/Dense_2.kernel")
    assert res.laplace.num_params == 11
    first = np.asarray(res.samples["net/Dense_0.kernel"])
    assert np.all(first == first[:, :1])  # earlier layers stay at the MAP
    pred = res.predict(seed_data.x_test)
    inside = np.abs(seed_data.x_test[:, 0]) <= 1
    assert pred.epistemic_std[~inside].mean() > pred.epistemic_std[inside].mean()


def test_laplace_bad_options(seed_data):
    for name, value in [("hessian_structure", "kron"), ("subset_of_weights", "first"),
                        ("curvature", "fisher")]:
        with pytest.raises(ValueError, match=f"unknown {name}"):
            _laplace(seed_data, **{name: value})


def test_evidence_tuning_finds_the_closed_form_maximiser(seed_data):
    exact = minimize(lambda u: -_log_marginal(seed_data, *np.exp(u)), np.log([1.0, 0.1]),
                     method="Nelder-Mead", options=dict(xatol=1e-8, fatol=1e-10, maxiter=4000))
    s_star, sigma_star = np.exp(exact.x)
    ev = bnn.tune_evidence(bnn.models.PolynomialRegressor(DEGREE), seed_data.x, seed_data.y,
                           optimizer=optax.lbfgs(), num_steps=100)
    assert ev.prior.scale == pytest.approx(s_star, rel=1e-3)
    assert ev.likelihood.noise == pytest.approx(sigma_star, rel=1e-3)
    assert ev.log_evidence == pytest.approx(-exact.fun, abs=1e-2)
    # the evidence never decreased over the rounds by more than float noise
    evidences = [h[2] for h in ev.history]
    assert evidences[-1] >= max(evidences) - 1e-3


def test_evidence_tuning_input_checks(seed_data):
    net = bnn.models.PolynomialRegressor(2)
    with pytest.raises(ValueError, match="fixed"):
        bnn.tune_evidence(net, seed_data.x, seed_data.y,
                          likelihood=bnn.likelihoods.Gaussian("learn"))
    with pytest.raises(TypeError, match="Normal"):
        bnn.tune_evidence(net, seed_data.x, seed_data.y, prior=bnn.priors.FanIn())


def test_ensemble_members_are_vectorised_map_fits(seed_data):
    net = bnn.models.PolynomialRegressor(DEGREE)
    kw = dict(method="ensemble", prior=bnn.priors.Normal(S),
              likelihood=bnn.likelihoods.Gaussian(SIGMA), num_steps=3000, learning_rate=3e-2)
    res = bnn.fit(net, seed_data.x, seed_data.y, num_members=4, **kw)
    assert res.num_chains == 4 and res.num_draws == 1 and res.losses.shape == (4, 3000)
    # a convex problem: every member reaches the ridge / posterior mean
    mean, _ = conjugate_posterior(seed_data.x, seed_data.y, DEGREE, S, SIGMA)
    w = np.asarray(res.samples["net/Dense_0.kernel"])[:, 0, :, 0]
    np.testing.assert_allclose(w, np.broadcast_to(mean[:DEGREE], w.shape), atol=2e-3)
    before = TRACE_COUNTS["optimize"]
    bnn.fit(net, seed_data.x, seed_data.y + 0.1, num_members=4, key=9, **kw)
    assert TRACE_COUNTS["optimize"] == before  # same shapes: no new compilation


def test_ensemble_of_mlps_disagrees_off_the_data(seed_data):
    res = bnn.fit(bnn.models.MLP((10, 10, 1), activation="tanh"), seed_data.x, seed_data.y,
                  method="ensemble", num_members=5, num_steps=2000)
    starts = np.asarray(res.samples["net/Dense_0.kernel"])[:, 0]
    assert len({tuple(np.round(s.ravel(), 4)) for s in starts}) == 5  # distinct members
    pred = res.predict(seed_data.x_test)
    inside = np.abs(seed_data.x_test[:, 0]) <= 1
    assert pred.epistemic_std[~inside].mean() > 3 * pred.epistemic_std[inside].mean()
    idata = res.to_arviz()
    assert idata.posterior.sizes["chain"] == 5


def test_laplace_scores_the_linearised_network_like_predict(seed_data):
    from scipy import stats

    res = bnn.fit(bnn.models.MLP((10, 1), activation="tanh"), seed_data.x, seed_data.y,
                  method="laplace", likelihood=bnn.likelihoods.Gaussian(0.1), num_steps=1500,
                  num_samples=50)
    pred = res.predict(seed_data.x_test[:7])
    x, y = seed_data.x_test[:7], seed_data.f_test[:7]
    expected = stats.norm.logpdf(y, pred.f_samples, 0.1)  # (S, n) from the linearised draws
    np.testing.assert_allclose(res.log_likelihood(x, y)[0], expected, rtol=1e-4, atol=1e-3)
    sampled = res.log_likelihood(x, y, linearize=False)
    assert not np.allclose(sampled, res.log_likelihood(x, y))
