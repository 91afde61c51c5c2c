"""Builds the compiled part of the pixelwise package with the project's CMake.

pyproject.toml holds the metadata; this file only replaces setuptools'
compiler driver by CMake, because the extension links the whole C++ library
(OpenCV, Eigen, libsvm, VLFeat, found by cmake/Dependencies.cmake) and must be
compiled exactly as the command line is so that the numbers agree to the bit.
Only the module target is built (no command line, tests or benchmarks), in
Release mode, and the extension is stripped before it goes into the wheel.

Environment:
  PIXELWISE_PIP_BUILD_DIR  CMake build directory (default: build-pip/cmake in
                           the source tree, kept so that a reinstall is incremental)
  CMAKE_ARGS               extra arguments to the CMake configure step, e.g.
                           "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
  CMAKE_BUILD_PARALLEL_LEVEL  parallel jobs (CMake's own variable; default 1)
"""
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = Path(os.environ.get("PIXELWISE_PIP_BUILD_DIR") or ROOT / "build-pip" / "cmake").resolve()
        build_dir.mkdir(parents=True, exist_ok=True)
        configure = [
            "cmake", "-S", str(ROOT), "-B", str(build_dir),
            "-DCMAKE_BUILD_TYPE=Release",
            f"-DPython_EXECUTABLE={sys.executable}",
            "-DPIXELWISE_PYTHON=ON",
            *shlex.split(os.environ.get("CMAKE_ARGS", "")),
        ]
        subprocess.run(configure, check=True)
        subprocess.run(["cmake", "--build", str(build_dir), "--target", "pixelwise_python"], check=True)
        built = sorted((build_dir / "python" / "pixelwise").glob("_pixelwise*.so"))
        if len(built) != 1:
            raise RuntimeError(f"expected one compiled module in {build_dir / 'python' / 'pixelwise'}, found {built}")
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built[0], target)
        # No debug information in an installed module: Release has none, and
        # strip removes the symbol table too (the module exports only PyInit).
        strip = shutil.which("strip")
        if strip:
            subprocess.run([strip, "--strip-unneeded", str(target)], check=True)


setup(
    ext_modules=[Extension("pixelwise._pixelwise", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    options={"build": {"build_base": str(Path("build-pip") / "setuptools")}},
)
