import numpy as np
import pytest
from conftest import conjugate_posterior, poly_vector

import bnn


def test_chees_matches_the_conjugate_posterior(seed_data):
    res = bnn.fit(bnn.models.PolynomialRegressor(3), seed_data.x, seed_data.y, method="chees",
                  prior=bnn.priors.Normal(0.2), likelihood=bnn.likelihoods.Gaussian(0.1), key=0)
    mean, cov = conjugate_posterior(seed_data.x, seed_data.y, 3, 0.2, 0.1)
    draws = poly_vector(res.samples).reshape(-1, 4)
    sd = np.sqrt(np.diag(cov))
    np.testing.assert_array_less(np.abs(draws.mean(0) - mean), 0.1 * sd)
    np.testing.assert_allclose(draws.std(0), sd, rtol=0.08)
    assert res.function_diagnostics(seed_data.x_test)["max_rhat"] < 1.01


SMALL = dict(num_chains=4, num_warmup=160, num_samples=20, map_steps=50)


def _poly_fit(seed_data, **kw):
    return bnn.fit(bnn.models.PolynomialRegressor(3), seed_data.x, seed_data.y, method="chees",
                   prior=bnn.priors.Normal(0.2), likelihood=bnn.likelihoods.Gaussian(0.1), key=1,
                   **{**SMALL, **kw})


def test_chees_progress_bar_resumes_the_same_chains(seed_data):
    quiet = _poly_fit(seed_data)
    loud = _poly_fit(seed_data, progress_bar=True)
    assert quiet.samples.keys() == loud.samples.keys()
    for k in quiet.samples:
        assert quiet.samples[k].shape[:2] == (4, 20)
        np.testing.assert_allclose(loud.samples[k], quiet.samples[k], rtol=1e-5, atol=1e-6)
    assert quiet.stats["diverging"].shape == (4, 20)
    assert quiet.extras["num_grad_evals"] > 4 * (160 + 20)


@pytest.mark.parametrize("options, error, match", [
    ({"num_chains": 1}, ValueError, "num_chains >= 2"),
    ({"target_accept_prob": 1.5}, ValueError, "target_accept_prob"),
    ({"adapt_mass": "yes"}, TypeError, "adapt_mass"),
    ({"init": "prior"}, ValueError, "init must be one of"),
    ({"max_tree_depth": 8}, (TypeError, ValueError), "max_tree_depth"),
])
def test_chees_rejects_bad_options(seed_data, options, error, match):
    with pytest.raises(error, match=match):
        _poly_fit(seed_data, **options)


def test_chees_warns_when_warmup_is_too_short(seed_data):
    with pytest.warns(UserWarning, match="num_warmup=50"):
        _poly_fit(seed_data, num_warmup=50)
