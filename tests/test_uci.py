"""benchmarks/uci.py runs end to end in quick mode and writes the JSON it promises."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

import bnn

ROOT = Path(__file__).resolve().parents[1]
# the fast methods; SVI and NUTS compile for longer than this smoke test may take
METHODS = [m for m in ("map", "ensemble", "laplace") if m in bnn.METHODS]


@pytest.mark.slow
def test_uci_quick_writes_json(tmp_path):
    out = tmp_path / "uci.json"
    cmd = [sys.executable, "-m", "benchmarks.uci", "--quick", "--datasets", "boston",
           "--methods", *METHODS, "--out", str(out), "--markdown", str(tmp_path / "uci.md")]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["config"]["quick"] and result["config"]["splits"] == [0, 1]
    records = result["records"]
    assert {(r["split"], r["method"]) for r in records} == {
        (s, m) for s in range(2) for m in METHODS
    }
    for r in records:
        assert math.isfinite(r["rmse"]) and r["rmse"] > 0
        assert math.isfinite(r["ll"]) and r["ll"] < 0
        if r["method"] != "laplace":  # one predictive, scored two ways
            assert r["ll"] == pytest.approx(r["ll_model"], abs=1e-3)
        assert r["prior_scale"] > 0 and r["noise"] > 0  # tuned on the training split
        assert set(r["validation_rmse"]) == {str(g) for g in result["config"]["grid"]}
    assert {r["label"] for r in records} == set(result["summary"]["boston"])
    for m in METHODS:
        row = result["summary"]["boston"][m]
        assert row["num_splits"] == 2 and math.isfinite(row["ll_se"])
    table = (tmp_path / "uci.md").read_text()
    assert "bnn map" in table and "deep ensembles (published)" in table
