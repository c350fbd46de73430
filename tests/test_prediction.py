"""Properties of the prediction summaries, checked on random inputs with hypothesis."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from bnn.prediction import Prediction, _mixture_quantile

floats = st.floats(-5, 5, allow_nan=False, width=32)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(floats, st.floats(0.01, 3.0)), min_size=1, max_size=8),
       st.floats(0.01, 0.99))
def test_mixture_quantile_inverts_the_mixture_cdf(components, q):
    mu = np.array([[m] for m, _ in components])
    sd = np.array([[s] for _, s in components])
    x = _mixture_quantile(mu, sd, q)
    cdf = stats.norm.cdf((x - mu) / sd).mean(0)
    np.testing.assert_allclose(cdf, q, atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(1, 5), st.floats(0.05, 0.95))
def test_interval_is_nested_and_brackets_the_median(draws, n, prob):
    rng = np.random.default_rng(draws * 7 + n)
    f = rng.normal(size=(draws, n))
    noise = rng.uniform(0.1, 1.0, size=(draws, n))
    pred = Prediction("regression", f, f, noise)
    lo, hi = pred.interval(prob)
    wlo, whi = pred.interval(min(prob + 0.04, 0.99))
    assert np.all(lo <= hi) and np.all(wlo <= lo + 1e-9) and np.all(whi >= hi - 1e-9)
    med = _mixture_quantile(f, noise, 0.5)
    assert np.all((lo <= med) & (med <= hi))


def test_bernoulli_uncertainty_decomposition():
    # two confident draws that disagree: high entropy, low aleatoric, high mutual information
    f = np.array([[8.0], [-8.0]])
    pred = Prediction("classification", f, f, kind="bernoulli")
    np.testing.assert_allclose(pred.probs, 0.5, atol=1e-3)
    np.testing.assert_allclose(pred.entropy, np.log(2), atol=1e-3)
    assert pred.aleatoric_entropy[0] < 0.01
    np.testing.assert_allclose(pred.mutual_information, np.log(2), atol=0.01)


@pytest.mark.filterwarnings("error")
def test_confident_float32_logits_give_no_warnings():
    f = np.array([[300.0, -300.0, 5.0]], np.float32)
    pred = Prediction("classification", f, f, kind="bernoulli")
    np.testing.assert_allclose(pred.probs, [1.0, 0.0, 1 / (1 + np.exp(-5.0))], rtol=1e-6,
                               atol=1e-12)
    assert np.all(np.isfinite(pred.entropy)) and pred.entropy[0] == 0.0
    cat = Prediction("classification", np.array([[[200.0, -200.0, 0.0]]], np.float32), None,
                     kind="categorical")
    np.testing.assert_allclose(cat.probs[0], [1.0, 0.0, 0.0], atol=1e-12)
    assert np.isfinite(cat.mutual_information).all()
