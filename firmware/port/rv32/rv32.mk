# The firmware for the openheg SoC (hdl/soc): the same core as every port,
# the rv32 port, libsodium cross-built by its own configure (minimal, -Os)
# and Monocypher, for the SoC's PicoRV32 (rv32imc, ilp32). Included by
# firmware/firmware.mk; paths are relative to the repository root.
#   firmware-rv32   build/firmware/rv32/openheg_rv32.{elf,hex}
#
# The compiler is Debian's riscv64-unknown-elf-gcc with picolibc. Its
# multilib set has no rv32imc entry: -march=rv32imc selects the rv32im/ilp32
# libraries (libgcc, picolibc), which are rv32im code without compressed
# instructions and run unchanged on an rv32imc core; only our code and the
# crypto libraries are compressed. The assembler is told about Zicsr so the
# cycle counters (rdcycle, rdinstret) assemble.
FW_RV32_CC ?= riscv64-unknown-elf-gcc
FW_RV32_OBJCOPY ?= riscv64-unknown-elf-objcopy
FW_RV32_DIR := $(FW_BUILD_DIR)/rv32
FW_RV32_PORT := $(FW_DIR)/port/rv32
FW_RV32_ARCH := -march=rv32imc -mabi=ilp32
FW_RV32_SPECS := --specs=picolibc.specs
# -msave-restore: prologues and epilogues call shared register save/restore
# routines instead of inlining them (1.5 KB less flash for the core and
# Monocypher alone, a few cycles a call).
FW_RV32_SIZE_FLAGS := -Os -msave-restore -ffunction-sections -fdata-sections
FW_RV32_CFLAGS := $(FW_RV32_ARCH) $(FW_RV32_SPECS) $(FW_RV32_SIZE_FLAGS) -g -flto \
	-Wa,-march=rv32imc_zicsr
FW_RV32_SODIUM_BUILD := $(FW_THIRD_PARTY)/libsodium-rv32-build
FW_RV32_SODIUM_PREFIX := $(FW_THIRD_PARTY)/sodium-rv32
FW_RV32_SODIUM_LIB := $(FW_RV32_SODIUM_PREFIX)/lib/libsodium.a
FW_RV32_CPPFLAGS := -Ifirmware/include -I$(FW_DIR)/src -I$(FW_BUILD_DIR)/include \
	-isystem $(FW_RV32_SODIUM_PREFIX)/include -isystem $(FW_MONOCYPHER_SRC) -I$(FW_PORT_COMMON) \
	-I$(FW_RV32_PORT)
FW_RV32_PORT_SOURCES := $(FW_PORT_COMMON)/heg_frame.c $(FW_PORT_COMMON)/heg_serve.c \
	$(FW_RV32_PORT)/hal_rv32.c
FW_RV32_PORT_HEADERS := $(wildcard $(FW_RV32_PORT)/*.h)
FW_RV32_OBJECTS := $(patsubst $(FW_DIR)/%.c,$(FW_RV32_DIR)/obj/%.o,$(FW_CORE_SOURCES) $(FW_RV32_PORT_SOURCES))
FW_RV32_START_OBJ := $(FW_RV32_DIR)/obj/port/rv32/startup.o
FW_RV32_LDSCRIPT := $(FW_RV32_PORT)/soc.ld
FW_RV32_LDFLAGS := -nostartfiles -Wl,--gc-sections \
	-T$(FW_RV32_LDSCRIPT)
FW_RV32_ELF := $(FW_RV32_DIR)/openheg_rv32.elf
FW_RV32_HEX := $(FW_RV32_DIR)/openheg_rv32.hex
FW_RV32_BENCH_ELF := $(FW_RV32_DIR)/bench_rv32.elf
FW_RV32_BENCH_HEX := $(FW_RV32_DIR)/bench_rv32.hex
FW_RV32_HEXGEN := tools/soc/elf_to_hex.py

.PHONY: firmware-rv32 firmware-rv32-size

FW_RV32_MONOCYPHER_OBJ := $(FW_RV32_DIR)/obj/third_party/monocypher.o
$(FW_RV32_MONOCYPHER_OBJ): $(FW_MONOCYPHER_VERSION)
	@mkdir -p $(dir $@)
	$(FW_RV32_CC) -std=c99 $(FW_RV32_CFLAGS) -c $(FW_MONOCYPHER_SRC)/monocypher.c -o $@
FW_RV32_SODIUM_LINKED := $(FW_RV32_DIR)/sodium/libsodium.a
$(FW_RV32_SODIUM_LINKED): $(FW_RV32_SODIUM_LIB) $(FW_RV32_PORT)/rv32.mk $(FW_DIR)/firmware.mk
	$(call fw_sodium_weaken,$(FW_RV32_OBJCOPY))
FW_RV32_CRYPTO_LIBS := $(FW_RV32_MONOCYPHER_OBJ) $(FW_RV32_SODIUM_LINKED)

$(FW_RV32_SODIUM_LIB): $(FW_SODIUM_VERSION) $(FW_RV32_PORT)/rv32.mk
	@command -v $(FW_RV32_CC) >/dev/null || { echo "firmware-rv32: $(FW_RV32_CC) not found (tools/install-system-deps.sh soc installs gcc-riscv64-unknown-elf and picolibc-riscv64-unknown-elf)" >&2; exit 1; }
	rm -rf $(FW_RV32_SODIUM_BUILD)
	mkdir -p $(FW_RV32_SODIUM_BUILD)
	cd $(FW_RV32_SODIUM_BUILD) && ../libsodium/configure --quiet --host=riscv64-unknown-elf \
		--disable-shared --enable-minimal --disable-ssp --without-pthreads --disable-asm \
		--disable-dependency-tracking --prefix=$(CURDIR)/$(FW_RV32_SODIUM_PREFIX) \
		CC=$(FW_RV32_CC) CFLAGS="$(FW_RV32_ARCH) $(FW_RV32_SPECS) $(FW_RV32_SIZE_FLAGS)" \
		> configure.log
	$(MAKE) -C $(FW_RV32_SODIUM_BUILD) -j$$(nproc) --no-print-directory install > $(FW_RV32_SODIUM_BUILD)/make.log
	@touch $@

$(FW_RV32_DIR)/obj/%.o: $(FW_DIR)/%.c $(FW_HEADERS) $(FW_PORT_HEADERS) $(FW_RV32_PORT_HEADERS) $(FW_RV32_SODIUM_LIB) $(FW_MONOCYPHER_VERSION) $(FW_RV32_PORT)/rv32.mk
	@mkdir -p $(dir $@)
	$(FW_RV32_CC) $(FW_WARNINGS) $(FW_RV32_CFLAGS) $(FW_RV32_CPPFLAGS) -c $< -o $@

$(FW_RV32_START_OBJ): $(FW_RV32_PORT)/startup.S
	@mkdir -p $(dir $@)
	$(FW_RV32_CC) $(FW_RV32_CFLAGS) -c $< -o $@

$(FW_RV32_DIR)/obj/src/measure.o: $(FW_MEASUREMENT_H)

$(FW_RV32_ELF): $(FW_RV32_PORT)/main.c $(FW_RV32_START_OBJ) $(FW_RV32_OBJECTS) $(FW_RV32_CRYPTO_LIBS) $(FW_RV32_LDSCRIPT)
	$(FW_RV32_CC) $(FW_WARNINGS) $(FW_RV32_CFLAGS) $(FW_RV32_CPPFLAGS) $< $(FW_RV32_START_OBJ) \
		$(FW_RV32_OBJECTS) $(FW_RV32_CRYPTO_LIBS) $(FW_RV32_LDFLAGS) \
		-Wl,-Map=$(FW_RV32_DIR)/openheg_rv32.map -o $@

# One signature check and the same operations as the Cortex-M4 bench, timed
# by the CPU's cycle counter on the RTL (tools/soc/bench.py).
$(FW_RV32_BENCH_ELF): bench/firmware/bench_ops.c $(FW_RV32_PORT)/bench_rv32.c $(FW_CTEST_VECTORS) $(FW_RV32_START_OBJ) $(FW_RV32_OBJECTS) $(FW_RV32_CRYPTO_LIBS) $(FW_RV32_LDSCRIPT)
	$(FW_RV32_CC) $(FW_WARNINGS) $(FW_RV32_CFLAGS) $(FW_RV32_CPPFLAGS) -Ibench/firmware \
		$(FW_RV32_PORT)/bench_rv32.c bench/firmware/bench_ops.c $(FW_RV32_START_OBJ) \
		$(FW_RV32_OBJECTS) $(FW_RV32_CRYPTO_LIBS) $(FW_RV32_LDFLAGS) -o $@

# The ROM's initial contents for $readmemh (and for the FPGA's block RAM).
$(FW_RV32_DIR)/%.hex: $(FW_RV32_DIR)/%.elf $(FW_RV32_HEXGEN)
	$(FW_PYTHON) $(FW_RV32_HEXGEN) --objcopy $(FW_RV32_OBJCOPY) $< $@

firmware-rv32: $(FW_RV32_ELF) $(FW_RV32_HEX)

firmware-rv32-size: $(FW_RV32_ELF)
	@$(FW_PYTHON) tools/soc/rv32_size.py $(FW_RV32_ELF)

# bench/firmware/run_bench.py records this image's flash and RAM too.
firmware-bench: $(FW_RV32_ELF)

# The OTP self-test image (tests/soc/test_soc_otp.py).
FW_RV32_OTP_ELF := $(FW_RV32_DIR)/otp_selftest.elf
$(FW_RV32_OTP_ELF): $(FW_RV32_PORT)/otp_selftest.c $(FW_RV32_START_OBJ) $(FW_RV32_DIR)/obj/port/rv32/hal_rv32.o $(FW_RV32_LDSCRIPT)
	$(FW_RV32_CC) $(FW_WARNINGS) $(FW_RV32_CFLAGS) $(FW_RV32_CPPFLAGS) $< $(FW_RV32_START_OBJ) \
		$(FW_RV32_DIR)/obj/port/rv32/hal_rv32.o $(FW_RV32_LDFLAGS) -o $@
