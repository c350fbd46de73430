"""Hot loops are compiled once: a second fit with the same shapes does not retrace."""

import numpy as np
import pytest

import bnn
from bnn.inference._driver import TRACE_COUNTS


def _data(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, 1)).astype(np.float32)
    return x, np.sin(3 * x[:, 0]).astype(np.float32)


@pytest.mark.parametrize("method, counter", [("map", "optimize"), ("mle", "optimize"),
                                             ("svi", "svi")])
def test_second_fit_does_not_recompile(method, counter):
    x, y = _data(32, 0)
    kw = dict(method=method, num_steps=50, key=0)
    bnn.fit(bnn.models.MLP((7, 1), activation="tanh"), x, y, **kw)
    before = TRACE_COUNTS.get(counter, 0)
    # a new but equal module, new data of the same shape, another key
    x2, y2 = _data(32, 1)
    bnn.fit(bnn.models.MLP((7, 1), activation="tanh"), x2, y2, **{**kw, "key": 5})
    assert TRACE_COUNTS[counter] == before
    # a different number of points is a new shape: one new trace
    x3, y3 = _data(48, 2)
    bnn.fit(bnn.models.MLP((7, 1), activation="tanh"), x3, y3, **kw)
    assert TRACE_COUNTS[counter] == before + 1


def test_progress_bar_gives_the_same_fit(capsys):
    x, y = _data(32, 0)
    net = bnn.models.MLP((7, 1), activation="tanh")
    quiet = bnn.fit(net, x, y, method="map", num_steps=123, key=0)
    before = TRACE_COUNTS["optimize"]
    loud = bnn.fit(net, x, y, method="map", num_steps=123, key=0, progress_bar=True)
    # the bar resumes the same compiled loop in chunks: nothing is traced again
    assert TRACE_COUNTS["optimize"] == before
    assert loud.losses.shape == (123,) and np.all(np.isfinite(loud.losses))
    np.testing.assert_allclose(loud.losses, quiet.losses, rtol=1e-4, atol=1e-5)
    for k in quiet.params:
        np.testing.assert_allclose(loud.params[k], quiet.params[k], rtol=1e-4, atol=1e-5)
