"""Bad input gets a clear error naming the problem, before anything is traced."""

import jax
import numpy as np
import optax
import pytest

import bnn
from bnn.likelihoods import Bernoulli, Categorical, Gaussian

X = np.linspace(-1, 1, 20)[:, None].astype(np.float32)
Y = np.sin(3 * X[:, 0]).astype(np.float32)
NET = bnn.models.MLP((5, 1), activation="tanh")


def fit(x=X, y=Y, method="map", model=NET, **kw):
    kw.setdefault("num_steps", 5) if method in ("map", "mle", "svi") else None
    return bnn.fit(model, x, y, method=method, **kw)


def test_mismatched_lengths():
    with pytest.raises(ValueError, match="different lengths: 20 and 19"):
        fit(y=Y[:-1])


@pytest.mark.parametrize("x", [np.zeros((20, 1, 1)), np.float32(1.0)])
def test_wrong_x_dimensions(x):
    with pytest.raises(ValueError, match=r"\(n,\) or \(n, d\)"):
        fit(x=x)


def test_wrong_y_dimensions():
    with pytest.raises(ValueError, match=r"\(n,\) or \(n, 1\)"):
        fit(y=np.zeros((20, 2)))


def test_y_column_vector_is_accepted():
    res = fit(y=Y[:, None])
    assert res.y.shape == (20,)


@pytest.mark.parametrize("where", ["x", "y"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_and_inf(where, bad):
    x, y = X.copy(), Y.copy()
    (x if where == "x" else y)[3] = bad
    with pytest.raises(ValueError, match=f"{where} contains 1 NaN or inf"):
        fit(x=x, y=y)


def test_non_numeric_input():
    with pytest.raises(TypeError, match="numeric"):
        fit(x=np.array(["a"] * 20))


def test_unknown_method_lists_methods():
    with pytest.raises(ValueError, match="unknown method 'mcmc'.*nuts"):
        fit(method="mcmc")


def test_unknown_option_lists_options():
    with pytest.raises(TypeError, match="num_steps"):
        bnn.fit(NET, X, Y, method="map", num_step=10)
    with pytest.raises(TypeError, match="num_samples"):
        bnn.fit(NET, X, Y, method="nuts", num_draws=10)


def test_unknown_guide():
    with pytest.raises(ValueError, match="unknown guide 'laplace'"):
        fit(method="svi", guide="laplace")


@pytest.mark.parametrize(
    "method, option",
    [("map", "num_steps"), ("mle", "num_steps"), ("svi", "num_steps"), ("svi", "num_samples"),
     ("prior", "num_samples"), ("nuts", "num_samples"), ("nuts", "num_warmup"),
     ("nuts", "num_chains"), ("hmc", "num_samples")],
)
@pytest.mark.parametrize("value", [0, -3])
def test_non_positive_counts(method, option, value):
    with pytest.raises(ValueError, match=f"{option} must be a positive integer"):
        bnn.fit(NET, X, Y, method=method, **{option: value})


def test_non_integer_counts():
    with pytest.raises(TypeError, match="num_steps must be a positive integer"):
        fit(num_steps=10.5)


def test_bad_learning_rate_and_optimizer():
    with pytest.raises(ValueError, match="learning_rate"):
        fit(learning_rate=-1.0)
    with pytest.raises(TypeError, match="optax"):
        fit(optimizer="adam")


def test_prior_key_matching_no_parameter():
    with pytest.raises(KeyError, match=r"\['Dense_7'\] match no parameter.*Dense_0.bias"):
        fit(prior=bnn.priors.PerParameter({"Dense_7": 1.0}, default=1.0))


def test_bernoulli_labels_out_of_range():
    with pytest.raises(ValueError, match=r"labels must lie in 0..1.*\[2\]"):
        fit(y=np.r_[np.zeros(10), 2 * np.ones(10)], likelihood=Bernoulli())


def test_categorical_labels_out_of_range():
    net = bnn.models.MLP((5, 3))
    with pytest.raises(ValueError, match=r"0..2"):
        fit(model=net, y=np.arange(20) % 4, likelihood=Categorical())
    with pytest.raises(ValueError, match=r"0..2"):
        fit(model=net, y=-(np.arange(20) % 2), likelihood=Categorical())


def test_fractional_labels():
    with pytest.raises(ValueError, match="integers"):
        fit(y=np.linspace(0, 1, 20), likelihood=Bernoulli())


def test_output_width_must_fit_likelihood():
    with pytest.raises(ValueError, match="one output"):
        fit(model=bnn.models.MLP((5, 2)))
    with pytest.raises(ValueError, match="one output per class"):
        fit(model=bnn.models.MLP((5, 1)), y=np.arange(20) % 2, likelihood=Categorical())


def test_wrong_types_for_model_likelihood_key():
    with pytest.raises(TypeError, match="flax.linen.Module"):
        fit(model=lambda x: x)
    with pytest.raises(TypeError, match="likelihood"):
        fit(likelihood="gaussian")
    with pytest.raises(TypeError, match="key"):
        fit(key="zero")


def test_key_accepts_int_raw_and_typed_keys():
    a = fit(key=3).params
    b = fit(key=jax.random.PRNGKey(3)).params
    c = fit(key=jax.random.key(3)).params
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
        np.testing.assert_array_equal(a[k], c[k])


def test_gaussian_noise_options():
    with pytest.raises(ValueError, match="learn"):
        Gaussian("learned")
    with pytest.raises(ValueError, match="positive"):
        Gaussian(-0.1)
    with pytest.raises(ValueError, match="noise_prior"):
        Gaussian(0.1, noise_prior=object())


def test_hmc_only_options_rejected_for_nuts():
    with pytest.raises(TypeError, match="hmc"):
        bnn.fit(NET, X, Y, method="nuts", num_steps=10)


def test_nan_loss_stops_with_the_step():
    with pytest.raises(bnn.NonFiniteLossError, match=r"at step \d+ of 200"):
        fit(num_steps=200, optimizer=optax.sgd(1e30), likelihood=Gaussian(1e-3))


def test_predict_checks_features():
    res = fit()
    with pytest.raises(ValueError, match=r"3 feature\(s\) but the network was fitted on 1"):
        res.predict(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="NaN"):
        res.predict(np.array([[np.nan]]))


def test_point_fit_has_no_summary_and_params_only_for_points():
    res = fit()
    with pytest.raises(ValueError, match="point estimate"):
        res.summary()
    prior = fit(method="prior", num_samples=10)
    with pytest.raises(AttributeError, match="samples"):
        _ = prior.params


@pytest.mark.filterwarnings("ignore:chees with num_warmup")
@pytest.mark.parametrize("method", ["map", "ensemble", "nuts", "chees"])
def test_init_params_errors_name_the_site(method):
    extra = {"num_warmup": 2, "num_samples": 2} if method in ("nuts", "chees") else {}
    with pytest.raises(KeyError, match=r"unknown sites \['net/Dense_9.kernel'\]"):
        fit(method=method, init_params={"net/Dense_9.kernel": np.zeros((1, 5))}, **extra)
    with pytest.raises(ValueError, match=r"init_params\['net/Dense_0.kernel'\] has shape "
                                         r"\(5, 1\), expected \(1, 5\)"):
        fit(method=method, init_params={"net/Dense_0.kernel": np.zeros((5, 1))}, **extra)
    with pytest.raises(TypeError, match="init_params must be a dict"):
        fit(method=method, init_params=[1.0], **extra)
    with pytest.raises(ValueError, match=r"init_params\['net/Dense_0.bias'\] has NaN or inf"):
        fit(method=method, init_params={"net/Dense_0.bias": np.full(5, np.nan)}, **extra)


def test_init_params_are_where_the_optimiser_starts():
    first = fit(num_steps=300, likelihood=Gaussian("learn"))
    # one tiny step from the given values stays at them; from Flax's init it would not
    again = fit(num_steps=1, learning_rate=1e-9, likelihood=Gaussian("learn"),
                init_params=first.params)
    for k, v in first.params.items():
        np.testing.assert_allclose(again.params[k], v, rtol=1e-5, atol=1e-6)
    fresh = fit(num_steps=1, learning_rate=1e-9, likelihood=Gaussian("learn"))
    assert not np.allclose(fresh.params["net/Dense_0.kernel"], first.params["net/Dense_0.kernel"])
