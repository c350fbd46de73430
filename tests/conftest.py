"""Shared fixtures and closed forms for the linear-Gaussian (polynomial) model."""

import numpy as np
import pytest

import bnn


@pytest.fixture(scope="session")
def seed_data():
    return bnn.datasets.seed_regression()


def design(x, degree):
    """Polynomial features [x, x^2, ..., x^degree, 1] matching PolynomialRegressor."""
    x = np.asarray(x, np.float64).reshape(-1)
    return np.stack([x ** (k + 1) for k in range(degree)] + [np.ones_like(x)], axis=1)


def conjugate_posterior(x, y, degree, prior_scale, noise):
    """Exact Gaussian posterior of (w_1..w_degree, b) under N(0, s^2) priors, known noise."""
    phi = design(x, degree)
    precision = phi.T @ phi / noise**2 + np.eye(phi.shape[1]) / prior_scale**2
    cov = np.linalg.inv(precision)
    mean = cov @ phi.T @ np.asarray(y, np.float64) / noise**2
    return mean, cov


def poly_vector(samples):
    """Stack site draws of a PolynomialRegressor fit into (..., degree + 1) = [w, b]."""
    w = np.asarray(samples["net/Dense_0.kernel"])[..., 0]
    b = np.asarray(samples["net/Dense_0.bias"])
    return np.concatenate([w, b], axis=-1)
