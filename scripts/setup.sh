#!/usr/bin/env bash
# Installs the Debian 12 packages pixelwise builds, tests and runs its demo with.
# Idempotent: packages already present are not fetched again.
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  libsvm-dev libvlfeat-dev libopencv-dev libeigen3-dev zlib1g-dev
  libboost-test-dev nlohmann-json3-dev libcli11-dev libbenchmark-dev libopenblas-dev
  clang libclang-rt-14-dev llvm strace
  dataset-fashion-mnist opencv-doc
  chromium
  pybind11-dev python3-dev python3-numpy python3-pytest
  python3-pip python3-setuptools python3-wheel python3-venv python3-mypy
  python3-sklearn python3-h5py
  slurm-wlm munge
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
