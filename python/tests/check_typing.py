"""Runs mypy on examples/ (and a typed usage sample) against the shipped stubs.

Run by ctest as python_typing, with MYPYPATH pointing at the built package so
that mypy reads python/pixelwise/_pixelwise.pyi exactly as an installed
package's. Exit status 77 (ctest: skipped) when mypy is not installed
(Debian's python3-mypy, installed by scripts/setup.sh).
"""
import os
import subprocess
import sys
from pathlib import Path

try:
    import mypy  # noqa: F401
except ImportError:
    print("python3-mypy is not installed: typing check skipped")
    sys.exit(77)

source = Path(os.environ["PIXELWISE_SOURCE_DIR"])
cache = Path(os.environ.get("PIXELWISE_MYPY_CACHE", "mypy-cache"))
files = [str(source / "examples"), str(source / "python" / "tests" / "typed_usage.py")]
# --check-untyped-defs: the examples have no annotations, and without it mypy
# would not look inside their functions at all.
result = subprocess.run([sys.executable, "-m", "mypy", "--check-untyped-defs", "--warn-unused-ignores",
                         "--cache-dir", str(cache), *files])
sys.exit(result.returncode)
