"""Shared pieces: timing, the benchmark posterior, function-space diagnostics, environment."""

from __future__ import annotations

import contextlib
import datetime
import functools
import io
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from importlib import metadata

import jax
import jax.numpy as jnp
import numpy as np

PACKAGES = ("bnn", "jax", "jaxlib", "flax", "numpyro", "optax", "numpy", "tqdm", "blackjax")


def timed(fn: Callable, *args, **kwargs) -> tuple[float, object]:
    """``(seconds, result)`` of one call, waiting for every array in the result."""
    start = time.perf_counter()
    out = jax.block_until_ready(fn(*args, **kwargs))
    return time.perf_counter() - start, out


def clear_caches() -> None:
    """As in a fresh process: JAX's compilation caches and every ``functools`` cache of bnn
    (models, compiled loops, latent sites), so that the next call traces and compiles again."""
    jax.clear_caches()
    for name, module in list(sys.modules.items()):
        if name == "bnn" or name.startswith("bnn."):
            for obj in list(vars(module).values()):
                if callable(getattr(obj, "cache_clear", None)):
                    obj.cache_clear()


def cold_and_warm(fn: Callable, warm_repeats: int = 1) -> dict:
    """Time ``fn()`` right after :func:`clear_caches` (compilation included), then warm."""
    clear_caches()
    cold, _ = timed(fn)
    warm = [timed(fn)[0] for _ in range(warm_repeats)]
    return {"cold_s": cold, "warm_s": min(warm)}


def median(values) -> float:
    values = [v for v in values if v is not None and np.isfinite(v)]
    return float(statistics.median(values)) if values else float("nan")


@contextlib.contextmanager
def quiet_stderr():
    """Swallow progress bars (tqdm writes to stderr) while still drawing them."""
    with contextlib.redirect_stderr(io.StringIO()):
        yield


# ------------------------------------------------------------------ the benchmark posterior
GRID = np.linspace(-1.5, 1.5, 50, dtype=np.float32)[:, None]


def network(width: int = 10):
    import bnn

    return bnn.models.MLP((width, width, 1), activation="tanh")


@functools.lru_cache(maxsize=1)
def posterior_spec():
    """Normal(0, 1) weights, HalfNormal(0.5) noise: the posterior every sampler targets.

    Built once, so that every section fits the same model object and shares compiled code.
    """
    import numpyro.distributions as dist

    import bnn

    noise = bnn.likelihoods.Gaussian("learn", noise_prior=dist.HalfNormal(0.5))
    return bnn.priors.Normal(1.0), noise


def function_space(f_draws) -> dict:
    """Min bulk ESS and max split R-hat of f over the grid, from ``(chain, draw, points)``.

    NumPyro's estimators (rank-free split R-hat, Geyer's initial monotone sequence ESS), so no
    ArviZ is needed.
    """
    from numpyro.diagnostics import effective_sample_size, split_gelman_rubin

    f = np.asarray(f_draws, np.float64)
    return {
        "min_ess": float(np.min(effective_sample_size(f))),
        "max_rhat": float(np.max(split_gelman_rubin(f))),
    }


# ------------------------------------------------------------------ environment
def environment() -> dict:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    device = jax.devices()[0]
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "platform": jax.default_backend(),
        "device": f"{device.platform}: {getattr(device, 'device_kind', '?')}",
        "num_devices": jax.device_count(),
        "cpu_count": os.cpu_count(),
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "versions": versions,
        "git_commit": _git_commit(),
        "x64": bool(jax.config.jax_enable_x64),
        "arviz_imported": "arviz" in __import__("sys").modules,
    }


def _git_commit():
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=5, cwd=os.path.dirname(__file__))
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def as_f32(a):
    return jnp.asarray(a, jnp.float32)
