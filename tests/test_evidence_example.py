import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_evidence_degree_example_runs(tmp_path):
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "evidence_degree.py"), "--max-degree", "3",
         "--num-steps", "50", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=600, env={"MPLBACKEND": "Agg",
                                                          "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "the evidence picks degree" in out.stdout
    png = tmp_path / "evidence_degree.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
