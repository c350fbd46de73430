"""The compiled optimisation driver, and the chunked runner that gives every loop its bar.

An optimisation runs as one compiled ``fori_loop`` over steps whose bounds are traced, so the
same compiled function runs the whole fit (no progress bar) or any stretch of it (with a bar):
turning the bar on neither recompiles nor changes a number, and no step pays for a mask. The
per-step losses are written into a preallocated buffer carried through the loop.

:func:`run_in_chunks` advances any such resumable loop to the end: in one call, or in chunks
that start at 1% of the run and double until one takes :data:`CHUNK_SECONDS`, so a short run
pays for a handful of host round trips and a long one for a few per second.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

# how many times each compiled driver has been traced; tests read it to prove a second fit of
# the same shapes does not recompile
TRACE_COUNTS: dict[str, int] = {}

CHUNK_SECONDS = 0.25  # progress bar: grow chunks until one takes this long


def count_trace(name: str) -> None:
    TRACE_COUNTS[name] = TRACE_COUNTS.get(name, 0) + 1


def make_loop(step_fn: Callable, name: str, batched: bool = False):
    """``run(carry, losses, data, start, stop) -> (carry, losses)``, compiled.

    Runs steps ``start, ..., stop - 1`` of ``step_fn(carry, data) -> (carry, loss)`` and writes
    the scalar loss of step ``i`` into ``losses[i]``. With ``batched``, the carry and the
    losses have a leading member axis and all members run vectorised in the same loop.
    """

    def run(carry, losses, data, start, stop):
        count_trace(name)

        def body(i, state):
            c, buf = state
            c, loss = step_fn(c, data)
            return c, buf.at[i].set(jnp.asarray(loss, buf.dtype))

        return jax.lax.fori_loop(start, stop, body, (carry, losses))

    if batched:
        return jax.jit(jax.vmap(run, in_axes=(0, 0, None, None, None)))
    return jax.jit(run)


def run_loop(run, carry, data, num_steps: int, progress_bar: bool, desc: str,
             num_members: int | None = None):
    """Run all ``num_steps`` steps of a :func:`make_loop` loop; return (carry, losses).

    ``losses`` has shape ``(num_steps,)``, or ``(num_members, num_steps)`` for a batched loop.
    """
    shape = (num_steps,) if num_members is None else (num_members, num_steps)
    losses = np.full(shape, np.nan, jnp.result_type(float))  # numpy: no compilation

    def advance(state, start, stop):
        return run(*state, data, start, stop)

    return run_in_chunks(advance, (carry, losses), num_steps, progress_bar, desc)


def run_in_chunks(advance: Callable, state, total: int, progress_bar: bool, desc: str):
    """``advance(state, start, stop) -> state`` from 0 to ``total``, under a tqdm bar if asked."""
    if not progress_bar:
        return advance(state, 0, total)
    from tqdm.auto import tqdm

    chunk, done = max(1, total // 100), 0
    with tqdm(total=total, desc=desc, leave=False) as bar:
        while done < total:
            stop = min(done + chunk, total)
            start = time.perf_counter()
            state = jax.block_until_ready(advance(state, done, stop))
            bar.update(stop - done)
            done = stop
            if time.perf_counter() - start < CHUNK_SECONDS:
                chunk *= 2
    return state
