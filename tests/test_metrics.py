import numpy as np
import pytest
from scipy import integrate, stats

import bnn
from bnn import metrics
from bnn.prediction import Prediction


def _crps_by_integration(cdf, y):
    below = integrate.quad(lambda t: cdf(t) ** 2, -np.inf, y, limit=200)[0]
    above = integrate.quad(lambda t: (1 - cdf(t)) ** 2, y, np.inf, limit=200)[0]
    return below + above


@pytest.mark.parametrize("y, mu, sigma", [(0.0, 0.0, 1.0), (1.3, -0.2, 0.5), (-3.0, 1.0, 2.0)])
def test_crps_gaussian_is_the_integral(y, mu, sigma):
    exact = _crps_by_integration(lambda t: stats.norm.cdf(t, mu, sigma), y)
    assert metrics.crps_gaussian(y, mu, sigma) == pytest.approx(exact, rel=1e-6)


def test_crps_of_a_mixture_is_the_integral():
    mu = np.array([[-1.0], [0.5], [2.0]])
    sd = np.array([[0.3], [1.0], [0.6]])
    y = 0.7
    pred = Prediction("regression", mu, mu, sd)
    cdf = lambda t: stats.norm.cdf(t, mu[:, 0], sd[:, 0]).mean()  # noqa: E731
    assert metrics.crps(pred, [y]) == pytest.approx(_crps_by_integration(cdf, y), rel=1e-6)


def test_crps_of_identical_components_is_gaussian():
    mu = np.full((5, 3), 0.2)
    sd = np.full((5, 3), 0.7)
    y = np.array([0.0, 1.0, -2.0])
    pred = Prediction("regression", mu, mu, sd)
    assert metrics.crps(pred, y) == pytest.approx(metrics.crps_gaussian(y, 0.2, 0.7).mean())


def test_calibration_of_the_true_predictive():
    rng = np.random.default_rng(0)
    n = 20000
    y = rng.normal(size=n)
    pred = Prediction("regression", np.zeros((1, n)), np.zeros((1, n)), np.ones((1, n)))
    levels, observed = metrics.calibration_curve(pred, y)
    np.testing.assert_allclose(observed, levels, atol=0.015)
    # an overconfident predictive (half the true spread) under-covers
    narrow = Prediction("regression", np.zeros((1, n)), np.zeros((1, n)),
                        np.full((1, n), 0.5))
    assert metrics.coverage(y, *narrow.interval(0.9)) < 0.65


def test_ece_brier_accuracy_known_answers():
    rng = np.random.default_rng(1)
    n = 20000
    p = rng.uniform(size=n)
    y = (rng.uniform(size=n) < p).astype(int)
    logits = np.log(p / (1 - p))[None]
    calibrated = Prediction("classification", logits, logits, kind="bernoulli")
    assert metrics.ece(calibrated, y) < 0.02
    overconfident = Prediction("classification", 5 * logits, 5 * logits, kind="bernoulli")
    assert metrics.ece(overconfident, y) > 0.1
    certain = Prediction("classification", np.array([[50.0, -50.0]]), None, kind="bernoulli")
    assert metrics.brier(certain, [1, 0]) == pytest.approx(0.0, abs=1e-12)
    assert metrics.accuracy(certain, [1, 1]) == 0.5
    coin = Prediction("classification", np.zeros((1, 2)), None, kind="bernoulli")
    assert metrics.brier(coin, [1, 0]) == pytest.approx(0.5)


def test_simple_scores():
    assert metrics.rmse([1.0, 3.0], [1.0, 1.0]) == pytest.approx(np.sqrt(2))
    assert metrics.coverage([1, 2, 3], [0, 0, 0], [2, 2, 2]) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="3 values"):
        metrics.rmse([1.0, 2.0, 3.0], [1.0, 1.0])


def test_compare_tabulates_fits(seed_data):
    net = bnn.models.MLP((8, 1), activation="tanh")
    fits = {m: bnn.fit(net, seed_data.x, seed_data.y, method=m, num_steps=500)
            for m in ("mle", "map")}
    fits["ensemble"] = bnn.fit(net, seed_data.x, seed_data.y, method="ensemble",
                               num_steps=500, num_members=3)
    x, y = seed_data.fresh(200, key=5)
    table = bnn.compare(fits, x, y)
    assert list(table.index) == ["mle", "map", "ensemble"]
    assert {"rmse", "nll", "crps", "coverage", "width", "wall_time"} <= set(table.columns)
    assert np.all(np.isfinite(table.to_numpy(dtype=float)))
    assert table.loc["map", "nll"] == pytest.approx(metrics.nll(fits["map"], x, y))
