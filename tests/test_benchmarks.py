"""The benchmark entry point runs end to end (quick suite, tiny sizes) and writes what it says.

The suite runs in a subprocess in which ArviZ and matplotlib cannot be imported, as on the GPU
image: the benchmarks must not need either (the plot is then skipped with a note).
"""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

BLOCKER = """
import sys

class _Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("arviz", "matplotlib"):
            raise ImportError(f"{name} is blocked in this test")
        return None

sys.meta_path.insert(0, _Blocked())
"""


def _run(code: str, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "quick.json"
    code = BLOCKER + "from benchmarks.run import main\nmain(sys.argv[1:])\n"
    proc = _run(code, "--suite", "quick", "--out", str(out), "--plot",
                str(out.with_suffix(".png")))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text()), out


def _positive(x):
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


@pytest.mark.slow
def test_quick_suite_needs_neither_arviz_nor_matplotlib(quick):
    results, out = quick
    assert results["environment"]["arviz_imported"] is False
    assert "matplotlib" in results["plot"]["skipped"]
    assert not out.with_suffix(".png").exists()


@pytest.mark.slow
def test_point_fits_have_times_and_ratios(quick):
    point = quick[0]["point"]
    for row in point["sizes"].values():
        for variant in ("bnn", "handwritten", "notebook"):
            assert _positive(row[variant]["cold_s"]) and _positive(row[variant]["warm_s"])
        for key in ("bnn/handwritten cold", "bnn/handwritten warm", "notebook/bnn warm"):
            assert _positive(row["ratios"][key])


@pytest.mark.slow
def test_samplers_report_function_space_numbers(quick):
    mcmc = quick[0]["mcmc"]
    assert set(mcmc["samplers"]) == {"numpyro", "bnn_nuts", "bnn_chees"}
    for sampler in mcmc["samplers"].values():
        (run,) = sampler["runs"]
        for key in ("wall_s", "min_ess", "max_rhat", "ess_per_s", "ess_per_1k_sampling_grads",
                    "sampling_grads"):
            assert _positive(run[key]), (sampler["sampler"], key, run[key])
        assert run["divergences"] >= 0
    assert _positive(mcmc["samplers"]["bnn_chees"]["runs"][0]["ess_per_1k_total_grads"])
    assert _positive(mcmc["ratios"]["bnn_chees/numpyro ess_per_s cold"])


@pytest.mark.slow
def test_overhead_and_scaling_sections(quick):
    results = quick[0]
    assert all(_positive(r["steps_per_s"]) for r in results["overhead"]["svi"].values())
    bars = results["overhead"]["progress_bar"]
    assert bars and all(math.isfinite(b["overhead"]) for b in bars.values())
    for row in results["scaling"]["by_n"] + results["scaling"]["by_width"]:
        for key in ("map_step_s", "handwritten_step_s", "gradient_s"):
            assert _positive(row[key])
    assert set(results["targets"]) == {
        "map_within_1.2x_of_handwritten_incl_compile", "progress_bar_under_5pct",
        "sampler_5x_numpyro_ess_per_s"}
    assert all(isinstance(t["met"], bool) for t in results["targets"].values())


@pytest.mark.slow
def test_report_and_plot_from_the_json(quick, tmp_path):
    results, out = quick
    from benchmarks.report import render

    text = render(results)
    assert "| sampler | run |" in text and "bnn_chees" in text
    pytest.importorskip("matplotlib")
    png = tmp_path / "scaling.png"
    proc = _run("from benchmarks.plot import main; import sys; main(sys.argv[1:])", str(out),
                str(png), timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert png.stat().st_size > 1000


def test_bnn_and_the_benchmark_modules_import_without_arviz():
    code = BLOCKER + (
        "import bnn, bnn.diagnostics\n"
        "import benchmarks.run, benchmarks.point, benchmarks.mcmc, benchmarks.overhead, "
        "benchmarks.scaling, benchmarks.report\n"
        "assert 'arviz' not in sys.modules and 'matplotlib' not in sys.modules\n"
    )
    proc = _run(code, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
