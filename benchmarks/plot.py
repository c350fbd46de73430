"""The log-log scaling figure, drawn from a results JSON (matplotlib loads only here).

    python -m benchmarks.plot benchmarks/results-cpu.json benchmarks/scaling-cpu.png
"""

from __future__ import annotations

import argparse
import json

SERIES = (("map_step", "bnn.fit MAP step"), ("handwritten_step", "hand-written scan step"),
          ("gradient", "gradient of the log joint"))


def scaling_figure(scaling: dict, title: str, path: str) -> str:
    """Write the two-panel figure (against n, against width) to ``path``; return ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for ax, rows, key, label in (
        (axes[0], scaling["by_n"], "n", "number of data points n (MLP 10-10-1)"),
        (axes[1], scaling["by_width"], "width",
         f"hidden width w (MLP w-w-1, n = {scaling['width_n']})"),
    ):
        for name, legend in SERIES:
            pts = [(r[key], r[f"{name}_s"]) for r in rows if r.get(f"{name}_s")]
            if pts:
                xs, ys = zip(*pts, strict=True)
                ax.loglog(xs, [1e6 * v for v in ys], marker="o", label=legend)
        ax.set_xlabel(label)
        ax.set_ylabel("microseconds (warm)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend()
    fig.suptitle(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", help="a JSON written by benchmarks.run")
    parser.add_argument("out", help="PNG to write")
    args = parser.parse_args(argv)
    with open(args.results) as fh:
        results = json.load(fh)
    env = results["environment"]
    scaling_figure(results["scaling"], f"bnn scaling on {env['device']}", args.out)


if __name__ == "__main__":
    main()
