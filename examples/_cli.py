"""What the example scripts share: command-line argument types and saving a figure."""

from __future__ import annotations

import argparse
import os


def hidden_arg(text: str) -> tuple[int, ...]:
    """``"10,10"`` -> ``(10, 10)``: the widths of the hidden layers."""
    try:
        widths = tuple(int(w) for w in text.split(",") if w.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"hidden must look like 10,10 - got {text!r}") from None
    if not widths or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"hidden widths must be positive, got {text!r}")
    return widths


def noise_arg(text: str):
    """``"learn"`` or a positive float."""
    if text == "learn":
        return text
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"noise must be a number or 'learn', got {text!r}"
        ) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"noise must be positive or 'learn', got {text}")
    return value


def save_figure(fig, out: str, name: str, dpi: int = 110) -> str:
    """Lay out, write ``out/name``, close the figure, say so; return the path."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    path = os.path.join(out, name)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    print("wrote " + path)
    return path
