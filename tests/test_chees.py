import numpy as np
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
