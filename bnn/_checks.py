"""Validation at the boundary: clear errors before anything is traced."""

from __future__ import annotations

import numbers

import jax
import jax.numpy as jnp
import numpy as np


def as_key(key) -> jax.Array:
    """An int or a PRNG key (raw or typed) as a raw ``uint32[2]`` key, as NumPyro expects."""
    if isinstance(key, (bool, np.bool_)):
        raise TypeError("key must be an int or a jax PRNG key, got a bool")
    if isinstance(key, numbers.Integral):
        return jax.random.PRNGKey(int(key))
    if isinstance(key, jax.Array) or isinstance(key, np.ndarray):
        if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
            return jax.random.key_data(key)
        if key.shape == (2,) and key.dtype == jnp.uint32:
            return jnp.asarray(key)
    raise TypeError(
        f"key must be an int or a jax PRNG key (jax.random.key(0) or PRNGKey(0)), got {key!r}"
    )


def positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return int(value)


def positive_float(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive number, got {value!r}")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value}")
    return float(value)


def finite_array(name: str, value) -> np.ndarray:
    try:
        arr = np.asarray(value)
    except Exception as err:  # noqa: BLE001 - re-raised with context
        raise TypeError(f"{name} must be array-like, got {type(value).__name__}") from err
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))
        raise ValueError(
            f"{name} contains {len(bad)} NaN or inf value(s), first at index "
            f"{tuple(int(i) for i in bad[0])}; drop or impute them before fitting"
        )
    return arr


def check_x(x, name: str = "x") -> np.ndarray:
    """``(n,)`` or ``(n, d)`` finite inputs, returned as float ``(n, d)``."""
    arr = finite_array(name, x)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must have shape (n,) or (n, d), got {arr.shape}; reshape it, e.g. "
            f"{name}.reshape(len({name}), -1)"
        )
    return arr.astype(np.result_type(arr.dtype, np.float32))


def check_same_length(x: np.ndarray, y: np.ndarray, xname="x", yname="y") -> None:
    if x.shape[0] != y.shape[0]:
        raise ValueError(
            f"{xname} and {yname} have different lengths: {x.shape[0]} and {y.shape[0]} rows"
        )


def check_options(method: str, given: dict, allowed: dict) -> dict:
    """Merge ``given`` keyword options into ``allowed`` defaults; unknown names are a TypeError."""
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise TypeError(
            f"unknown option(s) {unknown} for method={method!r}; "
            f"its options are {sorted(allowed)}"
        )
    return {**allowed, **given}
