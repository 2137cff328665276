# Firmware build rules. Included by the top Makefile; every path is relative to
# the repository root. Targets are idempotent and incremental:
#   firmware-deps  fetch, verify and build libsodium (pinned) into a static library
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
	$(FW_DIR)/include/heg/*.h $(FW_DIR)/port/cffi/*.c $(FW_DIR)/port/cffi/*.h))
FW_CFFI_STAMP := $(FW_BUILD_DIR)/cffi.stamp
FW_CFFI_BUILDER := sim/openheg_sim/firmware_build.py

.PHONY: firmware-deps firmware-cffi firmware-sanitize firmware-clean FW_FORCE

firmware-deps: $(FW_SODIUM_LIB)

# The script leaves the version file untouched when it already holds this
# version, so editing the script alone does not rebuild libsodium.
FW_SODIUM_VERSION := $(FW_THIRD_PARTY)/libsodium.version

$(FW_SODIUM_VERSION): $(FW_DIR)/tools/fetch_libsodium.sh
	@$(FW_DIR)/tools/fetch_libsodium.sh $(FW_PYTHON) $(FW_THIRD_PARTY)

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

# The firmware itself, compiled with the strict warning set into a static
# library (position independent: it goes into the cffi module).
FW_CC ?= cc
FW_CFLAGS ?= -O2 -g
FW_WARNINGS := -std=c99 -Wall -Wextra -Werror -pedantic -Wconversion -Wsign-conversion \
	-Wshadow -Wstrict-prototypes -Wmissing-prototypes
FW_CPPFLAGS := -I$(FW_DIR)/include -I$(FW_DIR)/src -I$(FW_BUILD_DIR)/include \
	-isystem $(FW_SODIUM_INCLUDE)
FW_C_SOURCES := $(sort $(wildcard $(FW_DIR)/src/*.c)) $(FW_DIR)/port/cffi/hal_cffi.c
FW_HEADERS := $(filter %.h,$(FW_SOURCES))
FW_OBJECTS := $(patsubst $(FW_DIR)/%.c,$(FW_BUILD_DIR)/obj/%.o,$(FW_C_SOURCES))
FW_LIB := $(FW_BUILD_DIR)/libheg_cffi.a
FW_MEASUREMENT_H := $(FW_BUILD_DIR)/include/heg_measurement.h

# Always re-derived (a deleted source must change it too); the file is only
# rewritten when the value changes, so an unchanged tree relinks nothing.
$(FW_MEASUREMENT_H): FW_FORCE
	@$(FW_PYTHON) $(FW_CFFI_BUILDER) --measurement-header $@

FW_FORCE:

$(FW_BUILD_DIR)/obj/%.o: $(FW_DIR)/%.c $(FW_HEADERS) $(FW_SODIUM_LIB) $(FW_DIR)/firmware.mk
	@mkdir -p $(dir $@)
	$(FW_CC) $(FW_WARNINGS) $(FW_CFLAGS) -fPIC $(FW_CPPFLAGS) -c $< -o $@

$(FW_BUILD_DIR)/obj/src/measure.o: $(FW_MEASUREMENT_H)

$(FW_LIB): $(FW_OBJECTS)
	@rm -f $@
	ar rcs $@ $^

# The stamp stands for the module; if the module went missing, rebuild it.
firmware-cffi: $(FW_CFFI_STAMP)
	@ls sim/openheg_sim/_firmware*.so >/dev/null 2>&1 || { rm -f $(FW_CFFI_STAMP); \
		$(MAKE) --no-print-directory -f $(firstword $(MAKEFILE_LIST)) $(FW_CFFI_STAMP); }

$(FW_CFFI_STAMP): $(FW_LIB) $(FW_SODIUM_LIB) $(FW_CFFI_BUILDER) $(FW_DIR)/port/cffi/heg_cffi.h
	OPENHEG_SODIUM_PREFIX=$(FW_SODIUM_PREFIX) OPENHEG_FIRMWARE_LIB=$(FW_LIB) \
		$(FW_PYTHON) $(FW_CFFI_BUILDER)
	@touch $@

firmware-sanitize: firmware-cffi
	$(FW_DIR)/tools/sanitize_tests.sh $(FW_PYTHON)

firmware-clean:
	rm -rf $(FW_BUILD_DIR) build/firmware-sanitize $(FW_SODIUM_BUILD) $(FW_SODIUM_PREFIX) sim/openheg_sim/_firmware*
