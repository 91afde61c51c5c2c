#!/usr/bin/env bash
# Checks `pip install` of the repository the way a user runs it, offline:
# a fresh virtual environment (with the system's numpy), `pip install
# --no-build-isolation --no-index .`, then `import pixelwise` from outside the
# source tree must find the installed, stripped module with its type stubs.
#
# The CMake build directory of the package (PIXELWISE_PIP_BUILD_DIR, default
# build-pip/cmake) is kept between runs, so only the first run compiles the
# library in Release mode; ccache is used when it is installed.
# Exit status 77 (ctest: skipped) unless PIXELWISE_TEST_PIP_INSTALL=1 when run
# with --if-enabled, because a cold run compiles the whole library.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ "${1:-}" = "--if-enabled" ] && [ "${PIXELWISE_TEST_PIP_INSTALL:-0}" != 1 ]; then
  echo "check_pip_install: skipped (set PIXELWISE_TEST_PIP_INSTALL=1 to run it)"
  exit 77
fi
python=${PIXELWISE_PIP_PYTHON:-/usr/bin/python3}
export PIXELWISE_PIP_BUILD_DIR=${PIXELWISE_PIP_BUILD_DIR:-$root/build-pip/cmake}
if command -v ccache >/dev/null; then
  export CMAKE_ARGS="${CMAKE_ARGS:-} -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache"
fi
unset PYTHONPATH  # the installed package, not a build tree, must be imported

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" -m venv --system-site-packages "$work/venv"
venv_python="$work/venv/bin/python"
(cd "$root" && "$venv_python" -m pip install --no-build-isolation --no-index -q .)

cd "$work"  # outside the source tree
file=$("$venv_python" -c "import pixelwise; print(pixelwise.__file__)")
echo "check_pip_install: imported $file"
case "$file" in
  "$work/venv/"*) ;;
  *) echo "check_pip_install: pixelwise was not imported from the virtual environment" >&2; exit 1 ;;
esac
package=$(dirname "$file")
"$venv_python" - "$root" <<'PY'
import re, sys
from pathlib import Path
import numpy as np
import pixelwise
cmake = (Path(sys.argv[1]) / "CMakeLists.txt").read_text()
version = re.search(r"project\(pixelwise VERSION ([0-9.]+)", cmake).group(1)
assert pixelwise.__version__ == version, (pixelwise.__version__, version)
scores = pixelwise.random_relevance(4, 5, seed=3)
assert scores.shape == (4, 5) and scores.dtype == np.float64
print(f"check_pip_install: pixelwise {pixelwise.__version__} works")
PY
extension=$(ls "$package"/_pixelwise*.so)
if readelf -S "$extension" | grep -Eq '\.debug_|\.symtab'; then
  echo "check_pip_install: $extension has debug information or a symbol table" >&2
  exit 1
fi
for stub in py.typed; do
  [ -f "$package/$stub" ] || { echo "check_pip_install: $stub is not installed" >&2; exit 1; }
done
echo "check_pip_install: OK ($(du -k "$extension" | cut -f1) KiB stripped extension)"
