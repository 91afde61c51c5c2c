#!/usr/bin/env bash
# Quick start, command 2: set up, build and run every test suite.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
build_dir=${PIXELWISE_BUILD_DIR:-$root/build}
# The full run includes `pip install .` into a fresh virtual environment
# (test python_pip_install, scripts/check_pip_install.sh), skipped by a plain
# ctest because its first run compiles the library again in Release mode.
export PIXELWISE_TEST_PIP_INSTALL=${PIXELWISE_TEST_PIP_INSTALL:-1}
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}
ctest --test-dir "$build_dir" --output-on-failure -j "${PIXELWISE_JOBS:-$(nproc)}"
# Sanitizer build of the whole suite and bounded fuzzing (docs/errors.md); set
# PIXELWISE_SKIP_HARDENING=1 for a quick local run without them.
[ -n "${PIXELWISE_SKIP_HARDENING:-}" ] || "$root/scripts/hardening.sh"
