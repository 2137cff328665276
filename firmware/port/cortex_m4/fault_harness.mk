# Fault-injection harness images (included by firmware/firmware.mk after the
# Cortex-M4 rules, whose objects and flags it reuses; docs/fault.md):
#   firmware-fault  the harness image and its two planted-weakness mutants
#   fault           the whole campaign (bench/fault/run_campaign.py), which
#                   prints its table and writes docs/fault.md's numbers
# The harness is the same core objects and port as the QEMU test image, with
# fault_harness.c in place of main.c. Each mutant differs from it in one
# object only: crypto_port.c compiled to call a planted verifier
# (fault_planted.c) instead of libsodium's.

FW_FAULT_DIR := $(FW_BUILD_DIR)/fault
FW_FAULT_SRC := $(FW_DIR)/port/cortex_m4/fault_harness.c
FW_FAULT_PLANTED_SRC := $(FW_DIR)/port/cortex_m4/fault_planted.c
FW_FAULT_ELF := $(FW_FAULT_DIR)/fault_harness.elf
FW_FAULT_MUTANTS := accept_all one_branch
FW_FAULT_MUTANT_ELFS := $(foreach m,$(FW_FAULT_MUTANTS),$(FW_FAULT_DIR)/fault_harness_$(m).elf)
FW_FAULT_CRYPTO_PORT_OBJ := $(FW_CM4_DIR)/obj/src/crypto_port.o
FW_FAULT_LINK_DEPS := $(FW_CM4_OBJECTS) $(FW_CM4_MODEL_OBJECTS) $(FW_CM4_CRYPTO_LIBS) \
	$(FW_CM4_LDSCRIPT) $(FW_FAULT_SRC) $(FW_DIR)/port/cortex_m4/fault_harness.mk

.PHONY: firmware-fault

firmware-fault: $(FW_FAULT_ELF) $(FW_FAULT_MUTANT_ELFS)

# $(1): the output; $(2): the objects beside the harness source. Nothing in
# the image calls heg_fault_observe (the driver does): --undefined keeps it
# from the linker's garbage collection.
define fw_fault_link
	@mkdir -p $(dir $(1))
	$(FW_ARM_CC) $(FW_WARNINGS) $(FW_CM4_CFLAGS) $(FW_CM4_CPPFLAGS) $(FW_FAULT_SRC) $(2) \
		$(FW_CM4_MODEL_OBJECTS) $(FW_CM4_CRYPTO_LIBS) $(FW_CM4_LDFLAGS) \
		-Wl,--undefined=heg_fault_observe -Wl,-Map=$(basename $(1)).map -o $(1)
endef

$(FW_FAULT_ELF): $(FW_FAULT_LINK_DEPS)
	$(call fw_fault_link,$@,$(FW_CM4_OBJECTS))

$(FW_FAULT_DIR)/%/crypto_port.o: $(FW_DIR)/src/crypto_port.c $(FW_HEADERS) $(FW_CM4_SODIUM_LIB) $(FW_MONOCYPHER_VERSION) $(FW_DIR)/port/cortex_m4/fault_harness.mk
	@mkdir -p $(dir $@)
	$(FW_ARM_CC) $(FW_WARNINGS) $(FW_CM4_CFLAGS) $(FW_CM4_CPPFLAGS) \
		-Dcrypto_sign_ed25519_verify_detached=heg_fault_planted_verify -c $< -o $@

$(FW_FAULT_DIR)/%/fault_planted.o: $(FW_FAULT_PLANTED_SRC) $(FW_CM4_SODIUM_LIB) $(FW_DIR)/port/cortex_m4/fault_harness.mk
	@mkdir -p $(dir $@)
	$(FW_ARM_CC) $(FW_WARNINGS) $(FW_CM4_CFLAGS) $(FW_CM4_CPPFLAGS) \
		-DHEG_FAULT_PLANTED_$(shell echo $* | tr a-z A-Z) -c $< -o $@

$(FW_FAULT_DIR)/fault_harness_%.elf: $(FW_FAULT_LINK_DEPS) $(FW_FAULT_DIR)/%/crypto_port.o $(FW_FAULT_DIR)/%/fault_planted.o
	$(call fw_fault_link,$@,$(filter-out $(FW_FAULT_CRYPTO_PORT_OBJ),$(FW_CM4_OBJECTS)) \
		$(FW_FAULT_DIR)/$*/crypto_port.o $(FW_FAULT_DIR)/$*/fault_planted.o)

.SECONDARY: $(foreach m,$(FW_FAULT_MUTANTS),$(FW_FAULT_DIR)/$(m)/crypto_port.o $(FW_FAULT_DIR)/$(m)/fault_planted.o)

# The whole campaign on the harness image (the better part of an hour in one
# process; progress on stderr). FAULT_JOBS=N runs N scenarios at a time.
FAULT_JOBS ?= 1
fault: firmware-fault
	$(FW_PYTHON) bench/fault/run_campaign.py --jobs $(FAULT_JOBS)
