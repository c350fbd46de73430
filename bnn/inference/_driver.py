"""The compiled optimisation driver: ``lax.scan`` over steps under ``jit``, run in chunks.

With ``progress_bar=False`` the whole run is one call of one compiled scan. With a bar, the
same step runs as a scan over equal chunks (the last one masked), and tqdm advances between
chunks, so the bar costs a few host round-trips, not a dispatch per step.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp

# how many times each compiled driver has been traced; tests read it to prove a second fit of
# the same shapes does not recompile
TRACE_COUNTS: dict[str, int] = {}

NUM_CHUNKS = 50


def _count(name: str) -> None:
    TRACE_COUNTS[name] = TRACE_COUNTS.get(name, 0) + 1


def make_scan(step_fn: Callable, length: int, name: str, masked: bool, batched: bool = False):
    """``run(carry, data, start, stop) -> (carry, outputs)``: ``length`` steps of ``step_fn``.

    ``step_fn(carry, data) -> (carry, output)``. With ``masked``, a step whose global index
    ``start + i`` is not below ``stop`` leaves the carry as it was. With ``batched``, the carry
    has a leading member axis and all members run vectorised in one compiled scan.
    """

    def run(carry, data, start, stop):
        _count(name)

        def body(c, i):
            new_c, out = step_fn(c, data)
            if masked:
                keep = start + i < stop
                new_c = jax.tree.map(lambda a, b: jnp.where(keep, a, b), new_c, c)
            return new_c, out

        return jax.lax.scan(body, carry, jnp.arange(length))

    if batched:
        return jax.jit(jax.vmap(run, in_axes=(0, None, None, None)))
    return jax.jit(run)


def run_chunked(
    build: Callable, carry, data, num_steps: int, progress_bar: bool, desc: str, axis: int = 0
):
    """Run ``num_steps`` steps; ``build(length, masked)`` returns a compiled ``make_scan``.

    Returns the final carry and the stacked per-step outputs (``num_steps`` long along
    ``axis``: 0, or 1 for batched runs).
    """
    if not progress_bar:
        carry, outs = build(num_steps, False)(carry, data, 0, num_steps)
        return carry, outs
    from tqdm.auto import tqdm

    chunk = math.ceil(num_steps / min(NUM_CHUNKS, num_steps))
    run = build(chunk, True)
    pieces = []
    with tqdm(total=num_steps, desc=desc, leave=False) as bar:
        for start in range(0, num_steps, chunk):
            carry, outs = run(carry, data, start, num_steps)
            pieces.append(outs)
            jax.block_until_ready(outs)
            bar.update(min(chunk, num_steps - start))
    outs = jax.tree.map(
        lambda *a: jnp.moveaxis(jnp.moveaxis(jnp.concatenate(a, axis), axis, 0)[:num_steps],
                                0, axis),
        *pieces,
    )
    return carry, outs
