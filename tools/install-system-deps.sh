#!/usr/bin/env bash
# Install the Debian packages openheg builds and tests with, only where missing.
#   iverilog  - Icarus Verilog, runs the RTL under cocotb
#   gcc, make - build the firmware and libsodium for the host
# Needs root (or sudo) to install; prints what it installs and why.
set -euo pipefail

declare -A package_for=([iverilog]=iverilog [gcc]=gcc [make]=make [g++]=g++)
missing=()
for tool in "${!package_for[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${package_for[$tool]}")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "openheg setup: installing Debian packages: ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "openheg setup: need root to apt-get install ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
