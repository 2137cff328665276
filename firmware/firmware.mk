# Firmware build rules. Included by the top Makefile; every path is relative to
# the repository root. Targets are idempotent and incremental:
#   firmware-deps  fetch and verify libsodium and Monocypher (pinned); build libsodium
#   firmware-cffi  build the host-emulation module sim/openheg_sim/_firmware*.so
#   firmware-sanitize  run tests/firmware on an ASan+UBSan build (then restores)
#   firmware-clean remove firmware build outputs (keeps the fetched tarball)

FW_PYTHON ?= .venv/bin/python
FW_DIR := firmware
FW_BUILD_DIR := build/firmware
FW_THIRD_PARTY := $(FW_DIR)/third_party
FW_SODIUM_SRC := $(FW_THIRD_PARTY)/libsodium
FW_SODIUM_BUILD := $(FW_THIRD_PARTY)/libsodium-build
FW_SODIUM_PREFIX := $(FW_THIRD_PARTY)/sodium
FW_SODIUM_LIB := $(FW_SODIUM_PREFIX)/lib/libsodium.a
FW_SODIUM_INCLUDE := $(FW_SODIUM_PREFIX)/include
FW_SOURCES := $(sort $(wildcard $(FW_DIR)/src/*.c $(FW_DIR)/src/*.h \
	$(FW_DIR)/include/heg/*.h $(FW_DIR)/port/cffi/*.c $(FW_DIR)/port/cffi/*.h \
	$(FW_DIR)/port/common/heg_nor_sim.c $(FW_DIR)/port/common/heg_nor_sim.h))
FW_CFFI_STAMP := $(FW_BUILD_DIR)/cffi.stamp
FW_CFFI_BUILDER := sim/openheg_sim/firmware_build.py

.PHONY: firmware-deps firmware-cffi firmware-sanitize firmware-clean FW_FORCE

firmware-deps: $(FW_SODIUM_LIB) $(FW_MONOCYPHER_VERSION)

# The crypto libraries, pinned by version and sha256 of the PyPI sdist that
# carries their C sources: libsodium inside PyNaCl's, Monocypher inside
# pymonocypher's. The script leaves a version file untouched when it already
# holds this pin, so editing the script alone rebuilds nothing.
FW_FETCH := $(FW_DIR)/tools/fetch_sdist.sh
FW_SODIUM_PIN := pynacl 1.6.2 018494d6d696ae03c7e656e5e74cdfd8ea1326962cc401bcf018f1ed8436811c
FW_MONOCYPHER_PIN := pymonocypher 4.0.3.4 5e56e3d3eb770a53e0b9f6274146663c11a11f3d0de5cd48e3be0428d1b07a4a
FW_SODIUM_VERSION := $(FW_THIRD_PARTY)/libsodium.version
FW_MONOCYPHER_VERSION := $(FW_THIRD_PARTY)/monocypher.version
FW_MONOCYPHER_SRC := $(FW_THIRD_PARTY)/monocypher

$(FW_SODIUM_VERSION): $(FW_FETCH)
	@$(FW_FETCH) $(FW_PYTHON) $(FW_THIRD_PARTY) libsodium $(FW_SODIUM_PIN) 3 \
		pynacl-1.6.2/src/libsodium

$(FW_MONOCYPHER_VERSION): $(FW_FETCH)
	@$(FW_FETCH) $(FW_PYTHON) $(FW_THIRD_PARTY) monocypher $(FW_MONOCYPHER_PIN) 1 \
		pymonocypher-4.0.3.4/monocypher.c pymonocypher-4.0.3.4/monocypher.h

# libsodium's own configure picks the preprocessor settings; minimal build,
# static, position independent so it can go into the cffi shared module.
$(FW_SODIUM_LIB): $(FW_SODIUM_VERSION)
	rm -rf $(FW_SODIUM_BUILD)
	mkdir -p $(FW_SODIUM_BUILD)
	cd $(FW_SODIUM_BUILD) && ../libsodium/configure --quiet --disable-shared \
		--enable-minimal --with-pic --disable-dependency-tracking \
		--prefix=$(CURDIR)/$(FW_SODIUM_PREFIX) > configure.log
	$(MAKE) -C $(FW_SODIUM_BUILD) -j$$(nproc) --no-print-directory install > $(FW_SODIUM_BUILD)/make.log
	@touch $@

# libsodium's functions that firmware/src/sodium_port.c replaces with smaller
# code. Linked from a copy of the archive in which they are weak: libsodium's
# callers (its Ed25519 verify) then bind to the strong ones there, and the
# unused weak ones are dropped with their sections.
FW_SODIUM_REPLACED := sc25519_reduce
# $(1): the objcopy of the archive's architecture.
fw_sodium_weaken = mkdir -p $(dir $@) && $(1) $(addprefix --weaken-symbol=,$(FW_SODIUM_REPLACED)) $< $@
FW_SODIUM_LINKED := $(FW_BUILD_DIR)/sodium/libsodium.a
$(FW_SODIUM_LINKED): $(FW_SODIUM_LIB) $(FW_DIR)/firmware.mk
	$(call fw_sodium_weaken,objcopy)

# The firmware itself, compiled with the strict warning set into a static
# library (position independent: it goes into the cffi module).
FW_CC ?= cc
FW_CFLAGS ?= -O2 -g
FW_WARNINGS := -std=c99 -Wall -Wextra -Werror -pedantic -Wconversion -Wsign-conversion \
	-Wshadow -Wstrict-prototypes -Wmissing-prototypes
FW_CPPFLAGS := -I$(FW_DIR)/include -I$(FW_DIR)/src -I$(FW_BUILD_DIR)/include \
	-isystem $(FW_SODIUM_INCLUDE) -isystem $(FW_MONOCYPHER_SRC)
FW_C_SOURCES := $(sort $(wildcard $(FW_DIR)/src/*.c)) $(FW_DIR)/port/cffi/hal_cffi.c \
	$(FW_DIR)/port/common/heg_nor_sim.c
FW_HEADERS := $(filter %.h,$(FW_SOURCES))
FW_OBJECTS := $(patsubst $(FW_DIR)/%.c,$(FW_BUILD_DIR)/obj/%.o,$(FW_C_SOURCES))
FW_LIB := $(FW_BUILD_DIR)/libheg_cffi.a
FW_MEASUREMENT_H := $(FW_BUILD_DIR)/include/heg_measurement.h

# Always re-derived (a deleted source must change it too); the file is only
# rewritten when the value changes, so an unchanged tree relinks nothing.
$(FW_MEASUREMENT_H): FW_FORCE
	@$(FW_PYTHON) $(FW_CFFI_BUILDER) --measurement-header $@

FW_FORCE:

# Monocypher is one C file, compiled with its own (not our -Werror) flags.
FW_MONOCYPHER_OBJ := $(FW_BUILD_DIR)/obj/third_party/monocypher.o
$(FW_MONOCYPHER_OBJ): $(FW_MONOCYPHER_VERSION)
	@mkdir -p $(dir $@)
	$(FW_CC) -std=c99 $(FW_CFLAGS) -fPIC -c $(FW_MONOCYPHER_SRC)/monocypher.c -o $@

# What every host link of the firmware needs besides the firmware itself.
FW_CRYPTO_LIBS := $(FW_MONOCYPHER_OBJ) $(FW_SODIUM_LINKED)

$(FW_BUILD_DIR)/obj/%.o: $(FW_DIR)/%.c $(FW_HEADERS) $(FW_SODIUM_LIB) $(FW_MONOCYPHER_VERSION) $(FW_DIR)/firmware.mk
	@mkdir -p $(dir $@)
	$(FW_CC) $(FW_WARNINGS) $(FW_CFLAGS) -fPIC $(FW_CPPFLAGS) -c $< -o $@

$(FW_BUILD_DIR)/obj/src/measure.o: $(FW_MEASUREMENT_H)

$(FW_LIB): $(FW_OBJECTS) $(FW_MONOCYPHER_OBJ)
	@rm -f $@
	ar rcs $@ $^

# The stamp stands for the module; if the module went missing, rebuild it.
firmware-cffi: $(FW_CFFI_STAMP)
	@ls sim/openheg_sim/_firmware*.so >/dev/null 2>&1 || { rm -f $(FW_CFFI_STAMP); \
		$(MAKE) --no-print-directory -f $(firstword $(MAKEFILE_LIST)) $(FW_CFFI_STAMP); }

$(FW_CFFI_STAMP): $(FW_LIB) $(FW_SODIUM_LINKED) $(FW_CFFI_BUILDER) $(FW_DIR)/port/cffi/heg_cffi.h
	OPENHEG_SODIUM_LIB=$(FW_SODIUM_LINKED) OPENHEG_FIRMWARE_LIB=$(FW_LIB) \
		$(FW_PYTHON) $(FW_CFFI_BUILDER)
	@touch $@

firmware-sanitize: firmware-cffi
	$(FW_DIR)/tools/sanitize_tests.sh $(FW_PYTHON)

firmware-clean:
	rm -rf $(FW_BUILD_DIR) build/firmware-sanitize $(FW_SODIUM_BUILD) $(FW_SODIUM_PREFIX) sim/openheg_sim/_firmware*

# ---------------------------------------------------------------------------
# Tooling: standalone pty server, C-only tests, sanitizers, fuzzing,
# Cortex-M4 cross build, benchmarks. Outputs under build/firmware/.
#   firmware-posix     build/firmware/heg_serve_pty (the device on a pty)
#   firmware-ctest     run the C-only test binary (plain build)
#   firmware-ctest-asan      ... built with ASan + UBSan
#   firmware-ctest-valgrind  ... under valgrind memcheck (errors fail)
#   fuzz               libFuzzer on the frame decoder and heg_dispatch,
#                      FUZZ_SECONDS each (default 60); needs clang
#   firmware-cm4       Cortex-M4 image (arm-none-eabi-gcc, libsodium -Os)
#   size               flash and RAM (stack included) of the Cortex-M4 image
#   bench              the numbers of docs/firmware-numbers.md

FW_PORT_COMMON := $(FW_DIR)/port/common
FW_PORT_CPPFLAGS := -I$(FW_PORT_COMMON) -I$(FW_DIR)/port/posix
FW_CORE_SOURCES := $(sort $(wildcard $(FW_DIR)/src/*.c))
FW_CORE_OBJECTS := $(patsubst $(FW_DIR)/%.c,$(FW_BUILD_DIR)/obj/%.o,$(FW_CORE_SOURCES))
FW_COMMON_SOURCES := $(FW_PORT_COMMON)/heg_frame.c $(FW_PORT_COMMON)/heg_meter_sim.c \
	$(FW_PORT_COMMON)/heg_link_sim.c $(FW_PORT_COMMON)/heg_nor_sim.c
FW_POSIX_SOURCES := $(FW_COMMON_SOURCES) $(FW_DIR)/port/posix/hal_posix.c
FW_PORT_HEADERS := $(wildcard $(FW_PORT_COMMON)/*.h $(FW_DIR)/port/posix/*.h)
FW_POSIX_OBJECTS := $(patsubst $(FW_DIR)/%.c,$(FW_BUILD_DIR)/obj/%.o,$(FW_POSIX_SOURCES))
FW_SERVE_PTY := $(FW_BUILD_DIR)/heg_serve_pty
FW_CTEST_GEN := $(FW_DIR)/tools/gen_test_vectors.py
FW_CTEST_VECTORS := $(FW_BUILD_DIR)/include/heg_test_vectors.h
FW_CTEST_SOURCES := $(sort $(wildcard $(FW_DIR)/tests/*.c))
FW_CTEST := $(FW_BUILD_DIR)/heg_ctest
FW_FRAME_SO := $(FW_BUILD_DIR)/libheg_frame.so

.PHONY: firmware-posix firmware-ctest firmware-ctest-asan firmware-ctest-valgrind

$(FW_BUILD_DIR)/obj/port/%.o: $(FW_DIR)/port/%.c $(FW_HEADERS) $(FW_PORT_HEADERS) $(FW_DIR)/firmware.mk
	@mkdir -p $(dir $@)
	$(FW_CC) $(FW_WARNINGS) $(FW_CFLAGS) -fPIC $(FW_CPPFLAGS) $(FW_PORT_CPPFLAGS) -c $< -o $@

firmware-posix: $(FW_SERVE_PTY)

$(FW_SERVE_PTY): $(FW_DIR)/port/posix/serve_pty.c $(FW_CORE_OBJECTS) $(FW_POSIX_OBJECTS) $(FW_CRYPTO_LIBS)
	$(FW_CC) $(FW_WARNINGS) $(FW_CFLAGS) $(FW_CPPFLAGS) $(FW_PORT_CPPFLAGS) \
		$< $(FW_CORE_OBJECTS) $(FW_POSIX_OBJECTS) $(FW_CRYPTO_LIBS) -o $@

# The framer alone as a shared library, for the Python differential test.
$(FW_FRAME_SO): $(FW_PORT_COMMON)/heg_frame.c $(FW_PORT_HEADERS)
	@mkdir -p $(dir $@)
	$(FW_CC) $(FW_WARNINGS) $(FW_CFLAGS) -fPIC -shared $(FW_CPPFLAGS) $(FW_PORT_CPPFLAGS) $< -o $@

# Golden vectors and Python-made frames as a C header, regenerated when the
# JSON, the framing or the generator change.
$(FW_CTEST_VECTORS): $(FW_CTEST_GEN) tests/vectors/records.json host/openheg/framing.py
	@mkdir -p $(dir $@)
	$(FW_PYTHON) $(FW_CTEST_GEN) $@

$(FW_CTEST): $(FW_CTEST_SOURCES) $(FW_CTEST_VECTORS) $(FW_CORE_OBJECTS) $(FW_POSIX_OBJECTS) $(FW_CRYPTO_LIBS)
	$(FW_CC) $(FW_WARNINGS) $(FW_CFLAGS) $(FW_CPPFLAGS) $(FW_PORT_CPPFLAGS) \
		$(FW_CTEST_SOURCES) $(FW_CORE_OBJECTS) $(FW_POSIX_OBJECTS) $(FW_CRYPTO_LIBS) -o $@

firmware-ctest: $(FW_CTEST)
	$(FW_CTEST)

# ASan + UBSan: core, port and tests recompiled instrumented (libsodium is
# linked as built: sanitizers need not instrument it to check our accesses).
FW_SAN_DIR := $(FW_BUILD_DIR)/asan
FW_SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
FW_SAN_OBJECTS := $(patsubst $(FW_DIR)/%.c,$(FW_SAN_DIR)/obj/%.o,$(FW_CORE_SOURCES) $(FW_POSIX_SOURCES))
FW_CTEST_ASAN := $(FW_SAN_DIR)/heg_ctest

$(FW_SAN_DIR)/obj/%.o: $(FW_DIR)/%.c $(FW_HEADERS) $(FW_PORT_HEADERS) $(FW_MONOCYPHER_VERSION) $(FW_DIR)/firmware.mk
	@mkdir -p $(dir $@)
	$(FW_CC) $(FW_WARNINGS) $(FW_SAN_FLAGS) $(FW_CPPFLAGS) $(FW_PORT_CPPFLAGS) -c $< -o $@

$(FW_SAN_DIR)/obj/src/measure.o: $(FW_MEASUREMENT_H)

$(FW_CTEST_ASAN): $(FW_CTEST_SOURCES) $(FW_CTEST_VECTORS) $(FW_SAN_OBJECTS) $(FW_CRYPTO_LIBS)
	$(FW_CC) $(FW_WARNINGS) $(FW_SAN_FLAGS) $(FW_CPPFLAGS) $(FW_PORT_CPPFLAGS) \
		$(FW_CTEST_SOURCES) $(FW_SAN_OBJECTS) $(FW_CRYPTO_LIBS) -o $@

firmware-ctest-asan: $(FW_CTEST_ASAN)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		$(FW_CTEST_ASAN)

firmware-ctest-valgrind: $(FW_CTEST)
	valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
		$(FW_CTEST) --quick

# The meter model alone, driven by a text trace (tests compare it with the
# Python MeterModel).
FW_METER_REPLAY := $(FW_BUILD_DIR)/heg_meter_replay
$(FW_METER_REPLAY): $(FW_DIR)/port/posix/meter_replay.c $(FW_PORT_COMMON)/heg_meter_sim.c $(FW_PORT_HEADERS)
	@mkdir -p $(dir $@)
	$(FW_CC) $(FW_WARNINGS) $(FW_CFLAGS) $(FW_CPPFLAGS) $(FW_PORT_CPPFLAGS) \
		$< $(FW_PORT_COMMON)/heg_meter_sim.c -o $@

.PHONY: firmware-test-tools
firmware-test-tools: $(FW_METER_REPLAY) $(FW_FRAME_SO) $(FW_SERVE_PTY)

# libFuzzer (clang with ASan + UBSan). `make fuzz` runs each harness for
# FUZZ_SECONDS on a corpus seeded from the golden vectors; what it finds is
# kept in build/firmware/fuzz/corpus, crashes in build/firmware/fuzz/artifacts.
FW_CLANG ?= $(shell command -v clang-14 || command -v clang)
FUZZ_SECONDS ?= 60
FW_FUZZ_DIR := $(FW_BUILD_DIR)/fuzz
FW_FUZZ_FLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all
FW_FUZZ_OBJECTS := $(patsubst $(FW_DIR)/%.c,$(FW_FUZZ_DIR)/obj/%.o,$(FW_CORE_SOURCES) $(FW_POSIX_SOURCES))
FW_FUZZERS := $(FW_FUZZ_DIR)/fuzz_frame $(FW_FUZZ_DIR)/fuzz_dispatch

.PHONY: fuzz firmware-fuzz-build firmware-fuzz-corpus

$(FW_FUZZ_DIR)/obj/%.o: $(FW_DIR)/%.c $(FW_HEADERS) $(FW_PORT_HEADERS) $(FW_MONOCYPHER_VERSION) $(FW_DIR)/firmware.mk
	@test -n "$(FW_CLANG)" || { echo "fuzz: clang not found (tools/install-system-deps.sh installs clang-14)" >&2; exit 1; }
	@mkdir -p $(dir $@)
	$(FW_CLANG) $(FW_WARNINGS) $(FW_FUZZ_FLAGS) -fsanitize=fuzzer-no-link $(FW_CPPFLAGS) \
		$(FW_PORT_CPPFLAGS) -c $< -o $@

$(FW_FUZZ_DIR)/obj/src/measure.o: $(FW_MEASUREMENT_H)

$(FW_FUZZ_DIR)/fuzz_%: $(FW_DIR)/fuzz/fuzz_%.c $(FW_FUZZ_OBJECTS) $(FW_CRYPTO_LIBS)
	$(FW_CLANG) $(FW_WARNINGS) $(FW_FUZZ_FLAGS) -fsanitize=fuzzer $(FW_CPPFLAGS) $(FW_PORT_CPPFLAGS) \
		$< $(FW_FUZZ_OBJECTS) $(FW_CRYPTO_LIBS) -o $@

firmware-fuzz-build: $(FW_FUZZERS)

firmware-fuzz-corpus: $(FW_DIR)/fuzz/make_corpus.py tests/vectors/records.json
	$(FW_PYTHON) $(FW_DIR)/fuzz/make_corpus.py $(FW_FUZZ_DIR)/seeds

fuzz: firmware-fuzz-build firmware-fuzz-corpus
	@mkdir -p $(FW_FUZZ_DIR)/artifacts
	@for h in frame dispatch; do \
		mkdir -p $(FW_FUZZ_DIR)/corpus/$$h; \
		echo "fuzz: $$h for $(FUZZ_SECONDS) s"; \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
		$(FW_FUZZ_DIR)/fuzz_$$h -max_total_time=$(FUZZ_SECONDS) -max_len=2048 -timeout=10 \
			-print_final_stats=1 -artifact_prefix=$(FW_FUZZ_DIR)/artifacts/$$h- \
			$(FW_FUZZ_DIR)/corpus/$$h $(FW_FUZZ_DIR)/seeds/$$h 2>$(FW_FUZZ_DIR)/$$h.log \
			|| { tail -40 $(FW_FUZZ_DIR)/$$h.log; exit 1; }; \
		grep -E "^stat::number_of_executed_units|^stat::new_units_added" $(FW_FUZZ_DIR)/$$h.log; \
	done

# Objects of the instrumented builds are named only through pattern rules;
# keep them so a rebuild is incremental.
.SECONDARY: $(FW_FUZZ_OBJECTS) $(FW_SAN_OBJECTS)

# ---------------------------------------------------------------------------
# Cortex-M4 (arm-none-eabi-gcc, newlib-nano): the same core, the cortex_m4
# port, libsodium cross-built by its own configure (minimal, -Os); the
# linker keeps only what is reached (--gc-sections).
FW_ARM_CC ?= arm-none-eabi-gcc
FW_ARM_SIZE ?= arm-none-eabi-size
FW_ARM_OBJCOPY ?= arm-none-eabi-objcopy
FW_CM4_DIR := $(FW_BUILD_DIR)/cm4
FW_CM4_ARCH := -mcpu=cortex-m4 -mthumb -mfloat-abi=soft
# -flto: link-time optimisation across the core and the port saves about 1.2 KB
# of flash (the libsodium archive is built without it).
FW_CM4_CFLAGS := $(FW_CM4_ARCH) -Os -g -flto -ffunction-sections -fdata-sections
FW_CM4_SODIUM_BUILD := $(FW_THIRD_PARTY)/libsodium-cm4-build
FW_CM4_SODIUM_PREFIX := $(FW_THIRD_PARTY)/sodium-cm4
FW_CM4_SODIUM_LIB := $(FW_CM4_SODIUM_PREFIX)/lib/libsodium.a
FW_CM4_CPPFLAGS := -Ifirmware/include -I$(FW_DIR)/src -I$(FW_BUILD_DIR)/include \
	-isystem $(FW_CM4_SODIUM_PREFIX)/include -isystem $(FW_MONOCYPHER_SRC) -I$(FW_PORT_COMMON) \
	-I$(FW_DIR)/port/cortex_m4
FW_CM4_PORT_SOURCES := $(FW_PORT_COMMON)/heg_frame.c $(FW_PORT_COMMON)/heg_serve.c \
	$(FW_PORT_COMMON)/heg_nor_sim.c \
	$(FW_DIR)/port/cortex_m4/hal_cm4.c $(FW_DIR)/port/cortex_m4/startup.c
FW_CM4_OBJECTS := $(patsubst $(FW_DIR)/%.c,$(FW_CM4_DIR)/obj/%.o,$(FW_CORE_SOURCES) $(FW_CM4_PORT_SOURCES))
# Two images differ only in the meter binding: the QEMU test image (the RTL's
# software model, what the QEMU test runs) and the board image (the block's
# registers on the bus, what `make size` holds to the flash and RAM targets).
FW_CM4_MODEL_OBJECTS := $(FW_CM4_DIR)/obj/port/cortex_m4/meter_model.o \
	$(FW_CM4_DIR)/obj/port/common/heg_meter_sim.o $(FW_CM4_DIR)/obj/port/common/heg_link_sim.o
FW_CM4_MMIO_OBJECTS := $(FW_CM4_DIR)/obj/port/cortex_m4/meter_mmio.o
FW_CM4_LDSCRIPT := $(FW_DIR)/port/cortex_m4/mps2_an386.ld
FW_CM4_LDFLAGS := $(FW_CM4_ARCH) -nostartfiles -Wl,--gc-sections -T$(FW_CM4_LDSCRIPT) \
	--specs=nano.specs --specs=nosys.specs
FW_CM4_ELF := $(FW_CM4_DIR)/openheg_cm4.elf
FW_CM4_BOARD_ELF := $(FW_CM4_DIR)/openheg_cm4_board.elf
FW_CM4_BENCH_ELF := $(FW_CM4_DIR)/bench_cm4.elf

.PHONY: firmware-cm4 size

FW_CM4_MONOCYPHER_OBJ := $(FW_CM4_DIR)/obj/third_party/monocypher.o
$(FW_CM4_MONOCYPHER_OBJ): $(FW_MONOCYPHER_VERSION)
	@mkdir -p $(dir $@)
	$(FW_ARM_CC) -std=c99 $(FW_CM4_ARCH) -Os -g -flto -ffunction-sections -fdata-sections \
		-c $(FW_MONOCYPHER_SRC)/monocypher.c -o $@
FW_CM4_SODIUM_LINKED := $(FW_CM4_DIR)/sodium/libsodium.a
$(FW_CM4_SODIUM_LINKED): $(FW_CM4_SODIUM_LIB) $(FW_DIR)/firmware.mk
	$(call fw_sodium_weaken,$(FW_ARM_OBJCOPY))
FW_CM4_CRYPTO_LIBS := $(FW_CM4_MONOCYPHER_OBJ) $(FW_CM4_SODIUM_LINKED)

$(FW_CM4_SODIUM_LIB): $(FW_SODIUM_VERSION)
	@command -v $(FW_ARM_CC) >/dev/null || { echo "firmware-cm4: $(FW_ARM_CC) not found (tools/install-system-deps.sh installs gcc-arm-none-eabi)" >&2; exit 1; }
	rm -rf $(FW_CM4_SODIUM_BUILD)
	mkdir -p $(FW_CM4_SODIUM_BUILD)
	cd $(FW_CM4_SODIUM_BUILD) && ../libsodium/configure --quiet --host=arm-none-eabi \
		--disable-shared --enable-minimal --disable-ssp --without-pthreads --disable-asm \
		--disable-dependency-tracking --prefix=$(CURDIR)/$(FW_CM4_SODIUM_PREFIX) \
		CC=$(FW_ARM_CC) CFLAGS="$(FW_CM4_ARCH) -Os -ffunction-sections -fdata-sections" \
		LDFLAGS="--specs=nosys.specs" > configure.log
	$(MAKE) -C $(FW_CM4_SODIUM_BUILD) -j$$(nproc) --no-print-directory install > $(FW_CM4_SODIUM_BUILD)/make.log
	@touch $@

$(FW_CM4_DIR)/obj/%.o: $(FW_DIR)/%.c $(FW_HEADERS) $(FW_PORT_HEADERS) $(FW_CM4_SODIUM_LIB) $(FW_MONOCYPHER_VERSION) $(FW_DIR)/firmware.mk
	@mkdir -p $(dir $@)
	$(FW_ARM_CC) $(FW_WARNINGS) $(FW_CM4_CFLAGS) $(FW_CM4_CPPFLAGS) -c $< -o $@

$(FW_CM4_DIR)/obj/src/measure.o: $(FW_MEASUREMENT_H)

$(FW_CM4_ELF): $(FW_DIR)/port/cortex_m4/main.c $(FW_CM4_OBJECTS) $(FW_CM4_MODEL_OBJECTS) $(FW_CM4_CRYPTO_LIBS) $(FW_CM4_LDSCRIPT)
	$(FW_ARM_CC) $(FW_WARNINGS) $(FW_CM4_CFLAGS) $(FW_CM4_CPPFLAGS) $< $(FW_CM4_OBJECTS) \
		$(FW_CM4_MODEL_OBJECTS) $(FW_CM4_CRYPTO_LIBS) $(FW_CM4_LDFLAGS) \
		-Wl,-Map=$(FW_CM4_DIR)/openheg_cm4.map -o $@

$(FW_CM4_BOARD_ELF): $(FW_DIR)/port/cortex_m4/main.c $(FW_CM4_OBJECTS) $(FW_CM4_MMIO_OBJECTS) $(FW_CM4_CRYPTO_LIBS) $(FW_CM4_LDSCRIPT)
	$(FW_ARM_CC) $(FW_WARNINGS) $(FW_CM4_CFLAGS) $(FW_CM4_CPPFLAGS) $< $(FW_CM4_OBJECTS) \
		$(FW_CM4_MMIO_OBJECTS) $(FW_CM4_CRYPTO_LIBS) $(FW_CM4_LDFLAGS) \
		-Wl,-Map=$(FW_CM4_DIR)/openheg_cm4_board.map -o $@

# The QEMU test image with a stack too small on purpose (2 KiB; a signature
# check needs about 4): tests/firmware/test_qemu_cm4.py shows an overflow
# faults on the MPU guard instead of running into the firmware's data.
FW_CM4_SMALL_STACK_ELF := $(FW_CM4_DIR)/openheg_cm4_small_stack.elf
$(FW_CM4_SMALL_STACK_ELF): $(FW_DIR)/port/cortex_m4/main.c $(FW_CM4_OBJECTS) $(FW_CM4_MODEL_OBJECTS) $(FW_CM4_CRYPTO_LIBS) $(FW_CM4_LDSCRIPT)
	$(FW_ARM_CC) $(FW_WARNINGS) $(FW_CM4_CFLAGS) $(FW_CM4_CPPFLAGS) $< $(FW_CM4_OBJECTS) \
		$(FW_CM4_MODEL_OBJECTS) $(FW_CM4_CRYPTO_LIBS) $(FW_CM4_LDFLAGS) \
		-Wl,--defsym=__stack_size=2048 -o $@

$(FW_CM4_BENCH_ELF): bench/firmware/bench_cm4.c bench/firmware/bench_ops.c $(FW_CTEST_VECTORS) $(FW_CM4_OBJECTS) $(FW_CM4_MODEL_OBJECTS) $(FW_CM4_CRYPTO_LIBS)
	$(FW_ARM_CC) $(FW_WARNINGS) $(FW_CM4_CFLAGS) $(FW_CM4_CPPFLAGS) -Ibench/firmware \
		bench/firmware/bench_cm4.c bench/firmware/bench_ops.c $(FW_CM4_OBJECTS) \
		$(FW_CM4_MODEL_OBJECTS) $(FW_CM4_CRYPTO_LIBS) $(FW_CM4_LDFLAGS) -o $@

firmware-cm4: $(FW_CM4_ELF) $(FW_CM4_BOARD_ELF)

size: $(FW_CM4_BOARD_ELF) $(FW_CM4_ELF)
	@$(FW_PYTHON) $(FW_DIR)/tools/cm4_size.py $(FW_CM4_BOARD_ELF) $(FW_CM4_ELF)

# `make qemu-cm4`: boot the Cortex-M4 image in QEMU (mps2-an386), UART0 on a
# pseudo-terminal (QEMU prints "char device redirected to /dev/pts/N"), the
# QEMU monitor on this terminal (`quit` stops it). A test image: its RNG is a
# fixed generator (NOT SECRET), its clock fixed (firmware/README.md).
FW_QEMU_ARM ?= qemu-system-arm

.PHONY: qemu-cm4

qemu-cm4: $(FW_CM4_ELF)
	@command -v $(FW_QEMU_ARM) >/dev/null || { echo "qemu-cm4: $(FW_QEMU_ARM) not found (tools/install-system-deps.sh installs qemu-system-arm)" >&2; exit 1; }
	@echo "qemu-cm4: $(FW_CM4_ELF) on mps2-an386; the device's serial port is the pty below"
	@echo "qemu-cm4: e.g. .venv/bin/openheg device info /dev/pts/N; type 'quit' to stop"
	$(FW_QEMU_ARM) -M mps2-an386 -nographic -serial pty -monitor stdio -kernel $(FW_CM4_ELF)

# ---------------------------------------------------------------------------
# Benchmarks (docs/firmware-numbers.md is written by the script).
FW_BENCH_HOST := $(FW_BUILD_DIR)/bench_host

.PHONY: firmware-bench

$(FW_BENCH_HOST): bench/firmware/bench_host.c bench/firmware/bench_ops.c $(FW_CTEST_VECTORS) $(FW_CORE_OBJECTS) $(FW_POSIX_OBJECTS) $(FW_CRYPTO_LIBS)
	$(FW_CC) $(FW_WARNINGS) $(FW_CFLAGS) $(FW_CPPFLAGS) $(FW_PORT_CPPFLAGS) -Ibench/firmware \
		bench/firmware/bench_host.c bench/firmware/bench_ops.c $(FW_CORE_OBJECTS) \
		$(FW_POSIX_OBJECTS) $(FW_CRYPTO_LIBS) -o $@

firmware-bench: $(FW_BENCH_HOST) $(FW_CM4_BOARD_ELF) $(FW_CM4_BENCH_ELF) $(FW_SERVE_PTY) firmware-cffi
	$(FW_PYTHON) bench/firmware/run_bench.py

# ---------------------------------------------------------------------------
# The fault-injection harness images and `make fault` (docs/fault.md).
include $(FW_DIR)/port/cortex_m4/fault_harness.mk

# The openheg SoC (RV32, hdl/soc): its own rules.
include $(FW_DIR)/port/rv32/rv32.mk
