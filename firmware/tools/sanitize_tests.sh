#!/bin/sh
# Run the firmware tests against a build instrumented with ASan and UBSan,
# then put the normal module back. Run from the repository root after
# `make firmware-cffi`.   usage: firmware/tools/sanitize_tests.sh [PYTHON]
set -eu
PYTHON=${1:-.venv/bin/python}
OUT=build/firmware-sanitize
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
rm -rf "$OUT"
mkdir -p "$OUT"
for src in firmware/src/*.c firmware/port/cffi/hal_cffi.c firmware/port/common/heg_nor_sim.c; do
    # shellcheck disable=SC2086
    cc -std=c99 -Wall -Wextra -Werror -pedantic -O1 -g -fPIC $SAN \
        -Ifirmware/include -Ifirmware/src -Ibuild/firmware/include \
        -isystem firmware/third_party/sodium/include -isystem firmware/third_party/monocypher \
        -c "$src" -o "$OUT/$(basename "$src" .c).o"
done
# Monocypher (one file) instrumented too, with its own flags (not our -Werror set).
# shellcheck disable=SC2086
cc -std=c99 -O1 -g -fPIC $SAN -c firmware/third_party/monocypher/monocypher.c -o "$OUT/monocypher.o"
ar rcs "$OUT/libheg_cffi.a" "$OUT"/*.o
restore() {
    OPENHEG_FIRMWARE_LIB=build/firmware/libheg_cffi.a "$PYTHON" sim/openheg_sim/firmware_build.py >/dev/null
}
trap restore EXIT
LDFLAGS="-fsanitize=address,undefined" OPENHEG_FIRMWARE_LIB="$OUT/libheg_cffi.a" \
    "$PYTHON" sim/openheg_sim/firmware_build.py >/dev/null
LD_PRELOAD="$(cc -print-file-name=libasan.so) $(cc -print-file-name=libubsan.so)" \
    ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$PYTHON" -m pytest -q -p no:cacheprovider tests/firmware
