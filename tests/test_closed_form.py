"""Every method against the exact answers of the linear-Gaussian (polynomial) model."""

import numpy as np
import optax
import pytest
from conftest import conjugate_posterior, design, poly_vector

import bnn

# a prior strong enough to move the posterior by >1 sd from least squares, so every check
# below would fail if the prior were dropped or mis-scaled
DEGREE, S, SIGMA = 3, 0.2, 0.1


@pytest.fixture(scope="module")
def data(seed_data):
    return seed_data.x, seed_data.y


def _fit(data, method, likelihood=None, **kw):
    x, y = data
    return bnn.fit(bnn.models.PolynomialRegressor(DEGREE), x, y, method=method,
                   prior=bnn.priors.Normal(S),
                   likelihood=likelihood or bnn.likelihoods.Gaussian(SIGMA), key=0, **kw)


def test_mle_is_least_squares(data):
    x, y = data
    res = _fit(data, "mle", optimizer=optax.lbfgs(), num_steps=100)
    exact = np.linalg.lstsq(design(x, DEGREE), y.astype(np.float64), rcond=None)[0]
    np.testing.assert_allclose(poly_vector(res.params), exact, rtol=2e-3, atol=2e-4)


def test_mle_with_adam_reaches_least_squares(data):
    x, y = data
    res = _fit(data, "mle", num_steps=6000, learning_rate=3e-2)
    exact = np.linalg.lstsq(design(x, DEGREE), y.astype(np.float64), rcond=None)[0]
    np.testing.assert_allclose(poly_vector(res.params), exact, atol=5e-3)
    assert res.losses.shape == (6000,) and res.losses[-1] < res.losses[0]


def test_mle_learned_noise_is_rms_residual(data):
    x, y = data
    res = _fit(data, "mle", likelihood=bnn.likelihoods.Gaussian("learn"),
               optimizer=optax.lbfgs(), num_steps=200)
    phi = design(x, DEGREE)
    beta = np.linalg.lstsq(phi, y.astype(np.float64), rcond=None)[0]
    rms = np.sqrt(np.mean((y - phi @ beta) ** 2))
    assert float(res.params["sigma"]) == pytest.approx(rms, rel=2e-3)


def test_map_is_ridge_with_lambda_sigma2_over_s2(data):
    x, y = data
    res = _fit(data, "map", optimizer=optax.lbfgs(), num_steps=100)
    phi = design(x, DEGREE)
    lam = SIGMA**2 / S**2
    ridge = np.linalg.solve(phi.T @ phi + lam * np.eye(phi.shape[1]), phi.T @ y)
    np.testing.assert_allclose(poly_vector(res.params), ridge, rtol=2e-3, atol=2e-4)
    # and it is also the conjugate posterior mean
    mean, _ = conjugate_posterior(x, y, DEGREE, S, SIGMA)
    np.testing.assert_allclose(ridge, mean, rtol=1e-8)


def test_map_from_l2_prior_matches_ridge_penalty(data):
    x, y = data
    lam = 0.5
    res = _fit(data, "map", optimizer=optax.lbfgs(), num_steps=100)
    res = bnn.fit(bnn.models.PolynomialRegressor(DEGREE), x, y, method="map",
                  prior=bnn.priors.from_l2(lam, SIGMA),
                  likelihood=bnn.likelihoods.Gaussian(SIGMA), optimizer=optax.lbfgs(),
                  num_steps=100)
    phi = design(x, DEGREE)
    ridge = np.linalg.solve(phi.T @ phi + lam * np.eye(phi.shape[1]), phi.T @ y)
    np.testing.assert_allclose(poly_vector(res.params), ridge, rtol=2e-3, atol=2e-4)


def _check_gaussian(draws, mean, cov, ess, sd_rtol, corr_atol):
    """Monte Carlo check of draws against N(mean, cov): means within 5 MC standard errors."""
    sd = np.sqrt(np.diag(cov))
    m_hat = draws.mean(0)
    np.testing.assert_array_less(np.abs(m_hat - mean), 5 * sd / np.sqrt(ess))
    np.testing.assert_allclose(draws.std(0), sd, rtol=sd_rtol)
    corr = cov / np.outer(sd, sd)
    np.testing.assert_allclose(np.corrcoef(draws.T), corr, atol=corr_atol)


@pytest.mark.slow
def test_nuts_matches_conjugate_posterior(data):
    x, y = data
    res = _fit(data, "nuts", num_warmup=500, num_samples=1000, num_chains=4)
    mean, cov = conjugate_posterior(x, y, DEGREE, S, SIGMA)
    draws = poly_vector(res.samples).reshape(-1, DEGREE + 1)
    # effective sample size of NUTS on a 4-d Gaussian is of the order of the draws; use a
    # conservative 1000 of 4000 for the mean check, 10% on the sds, 0.06 on correlations
    _check_gaussian(draws, mean, cov, ess=1000, sd_rtol=0.1, corr_atol=0.06)
    assert res.stats["diverging"].sum() == 0
    # f(x) on the test grid: posterior mean and sd of a linear function of the weights
    grid = np.linspace(-1.5, 1.5, 25)
    phi = design(grid, DEGREE)
    pred = res.predict(grid[:, None])
    f_sd = np.sqrt(np.einsum("ij,jk,ik->i", phi, cov, phi))
    np.testing.assert_array_less(np.abs(pred.mean - phi @ mean), 5 * f_sd / np.sqrt(1000))
    np.testing.assert_allclose(pred.epistemic_std, f_sd, rtol=0.1)
    np.testing.assert_allclose(pred.aleatoric_std, SIGMA, rtol=1e-5)


def test_fullrank_svi_matches_conjugate_posterior(data):
    x, y = data
    opt = optax.adam(optax.exponential_decay(2e-2, 8000, 0.05))
    res = _fit(data, "svi", guide="fullrank", num_steps=8000, optimizer=opt,
               num_samples=8000)
    mean, cov = conjugate_posterior(x, y, DEGREE, S, SIGMA)
    draws = poly_vector(res.samples).reshape(-1, DEGREE + 1)
    sd = np.sqrt(np.diag(cov))
    # the optimum of the ELBO is the exact posterior here; stochastic optimisation leaves the
    # location within 0.15 posterior sd and the spread within 10%
    np.testing.assert_array_less(np.abs(draws.mean(0) - mean), 0.15 * sd)
    np.testing.assert_allclose(draws.std(0), sd, rtol=0.1)
    np.testing.assert_allclose(np.corrcoef(draws.T), cov / np.outer(sd, sd), atol=0.06)


def test_prior_predictive_moments(data):
    x, y = data
    n = 4000
    res = _fit(data, "prior", num_samples=n)
    grid = np.linspace(-1.5, 1.5, 7)
    pred = res.predict(grid[:, None])
    var = S**2 * (design(grid, DEGREE) ** 2).sum(1)  # S^2 (1 + sum_k x^(2k))
    np.testing.assert_array_less(np.abs(pred.mean), 5 * np.sqrt(var / n))
    # sample variance of a Gaussian: relative sd sqrt(2/n); allow 5 of them
    np.testing.assert_allclose(pred.epistemic_std**2, var, rtol=5 * np.sqrt(2 / n))
    assert res.samples["net/Dense_0.kernel"].shape == (1, n, DEGREE, 1)


def test_prior_ignores_observations(data):
    x, y = data
    a = _fit(data, "prior", num_samples=50)
    b = _fit((x, y + 100.0), "prior", num_samples=50)
    np.testing.assert_array_equal(a.samples["net/Dense_0.bias"], b.samples["net/Dense_0.bias"])


def test_standardize_is_undone_in_predictions(data):
    """Least squares on standardised data predicts the same function in original units."""
    x, y = data
    raw = _fit(data, "mle", optimizer=optax.lbfgs(), num_steps=100)
    std = _fit(data, "mle", optimizer=optax.lbfgs(), num_steps=100, standardize=True)
    grid = np.linspace(-1, 1, 11)[:, None]
    np.testing.assert_allclose(std.predict(grid).mean, raw.predict(grid).mean, atol=2e-3)
    # the known noise stays in the units of y, and so does the likelihood
    np.testing.assert_allclose(std.predict(grid).aleatoric_std, SIGMA, rtol=1e-5)
    np.testing.assert_allclose(std.log_likelihood(x, y), raw.log_likelihood(x, y), atol=2e-2)
