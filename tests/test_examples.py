"""Every example runs end to end with tiny arguments and writes valid PNG figures.

Each example is a script run in its own subprocess (as a user would run it). They start
together, a few at a time, when the first test of this file asks for its result, so the
file costs roughly the time of the slowest few examples, not of all of them in a row.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
TIMEOUT_S = 600
WORKERS = 3

TINY_MCMC = ["--num-warmup", "10", "--num-samples", "10", "--num-chains", "2"]

# name -> (tiny arguments, PNG files it must write); the slowest first
CASES = {
    "demo": (
        ["--hidden", "3", "--num-steps", "50", "--svi-steps", "50", "--num-draws", "20",
         "--num-fresh", "50", *TINY_MCMC],
        ["demo_predictive.png", "demo_uncertainty.png", "demo_losses.png"],
    ),
    "classification": (
        ["--num-data", "30", "--hidden", "3", "--num-steps", "20", "--grid", "15",
         "--predict-draws", "10", *TINY_MCMC],
        ["classification_boundary.png", "classification_uncertainty.png"],
    ),
    "point_vs_posterior": (
        ["--hidden", "3", "--num-steps", "20", "--x-points=-1.2,0.5", *TINY_MCMC],
        ["point_vs_posterior_weights.png", "point_vs_posterior_function.png",
         "point_vs_posterior_trace.png", "point_vs_posterior_rank.png"],
    ),
    "prior_predictive": (
        ["--hidden", "5,5", "--activation", "identity", "--prior-scale", "5",
         "--num-draws", "5", "--num-points", "20"],
        ["prior_predictive.png"],
    ),
    "mse_is_mle": (["--hidden", "3", "--num-steps", "20"], ["mse_is_mle.png"]),
    "polynomial_regression": (
        ["--degree", "2,4", "--noise", "0.2", "--num-steps", "20"],
        ["polynomial_regression.png"],
    ),
    "mlp_training": (
        ["--hidden", "2,2", "--activation", "tanh", "--steps", "20"],
        ["mlp_training.png"],
    ),
    "evidence_degree": (["--max-degree", "2", "--num-steps", "5"], ["evidence_degree.png"]),
}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _run(name: str, out: Path) -> subprocess.CompletedProcess:
    args, _ = CASES[name]
    # compile with fewer XLA optimisations: these runs test that the scripts work, not speed
    env = {**os.environ, "MPLBACKEND": "Agg", "JAX_PLATFORMS": "cpu",
           "JAX_DISABLE_MOST_OPTIMIZATIONS": "true"}
    cmd = [sys.executable, str(EXAMPLES / f"{name}.py"), "--out", str(out / name), *args]
    return subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT_S
    )


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory):
    """Start the examples the selected tests need (WORKERS at a time), slowest first.

    Maps name -> (future of the finished process, its output folder).
    """
    wanted = set()
    for item in request.session.items:
        spec = getattr(item, "callspec", None)
        if (getattr(item, "module", None) is request.module and spec is not None
                and "name" in spec.params):
            wanted.add(spec.params["name"])
    out = tmp_path_factory.mktemp("examples")
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        futures = {name: pool.submit(_run, name, out) for name in CASES if name in wanted}
        yield {name: (futures[name], out / name) for name in futures}


def _result(runs, name):
    future, folder = runs[name]
    proc = future.result()
    assert proc.returncode == 0, (
        f"examples/{name}.py exited {proc.returncode}\n--- stdout\n{proc.stdout[-3000:]}"
        f"\n--- stderr\n{proc.stderr[-5000:]}"
    )
    return proc, folder


def _check_png(path: Path) -> None:
    from PIL import Image

    assert path.is_file(), f"{path.name} was not written"
    assert path.read_bytes()[:8] == PNG_MAGIC, f"{path.name} is not a PNG file"
    with Image.open(path) as img:
        img.verify()
    with Image.open(path) as img:
        width, height = img.size
        extrema = img.convert("L").getextrema()
    assert width >= 200 and height >= 150, f"{path.name} is only {width}x{height}"
    assert extrema[0] < extrema[1], f"{path.name} is a blank image"


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_example_runs_and_writes_pngs(runs, name):
    _, folder = _result(runs, name)
    for png in CASES[name][1]:
        _check_png(folder / png)


def test_every_example_is_tested():
    scripts = {p.stem for p in EXAMPLES.glob("*.py") if not p.stem.startswith("_")}
    assert scripts == set(CASES), f"untested examples: {sorted(scripts - set(CASES))}"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["demo"])
def test_demo_table_has_a_row_per_method(runs, name):
    proc, folder = _result(runs, name)
    rows = {
        m.group(1): m.group(2).split()
        for m in re.finditer(r"^(MLE|MAP|SVI|NUTS)\s+(.*)$", proc.stdout, re.MULTILINE)
    }
    assert set(rows) == {"MLE", "MAP", "SVI", "NUTS"}, proc.stdout
    for method, cells in rows.items():
        assert len(cells) == 7, f"{method} row has {len(cells)} cells: {cells}"
        elpd = cells[5]
        if method in ("MLE", "MAP"):
            assert elpd == "—", "point estimates have no ELPD-LOO"
        else:
            float(elpd.rstrip("!"))
        for cell in cells[:5] + cells[6:]:
            float(cell)
    csv = (folder / "demo_table.csv").read_text().strip().splitlines()
    assert [line.split(",")[0] for line in csv[1:]] == ["MLE", "MAP", "SVI", "NUTS"]
    assert "figures written to" in proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize("name", ["mse_is_mle"])
def test_mse_is_mle_matches_to_float_precision(runs, name):
    """The example's own claim: hand-written optax and bnn reach the same parameters."""
    proc, _ = _result(runs, name)
    for label in ("optax MSE  vs bnn MLE", "optax L2   vs bnn MAP"):
        line = next(ln for ln in proc.stdout.splitlines() if ln.startswith(label))
        max_dtheta = float(line[len(label):].split()[0])
        assert max_dtheta < 1e-4, line
