/* Fault-injection harness image: the firmware core and the Cortex-M4 port
 * (hal_cm4.c, startup.c, the QEMU image's meter model) with a mailbox in
 * place of the UART loop, driven by bench/fault/ in the unicorn emulator.
 *
 * THIS IS A TEST IMAGE, like the QEMU image: its RNG is a fixed generator
 * (NOT SECRET) and its storage and meter are models in RAM.
 *
 * The driver preloads the storage (erased, or a record a previous run left),
 * starts at the reset vector and meets the harness at breakpoints:
 *   HEG_FAULT_STOP_READY       booted (heg_fault_boot_status says how) or the
 *                              last request answered: write the next request
 *                              into heg_fault_request and resume;
 *   HEG_FAULT_STOP_DISPATCHED  heg_dispatch returned (heg_fault_response);
 *   HEG_FAULT_STOP_OBSERVED    heg_fault_observe filled heg_fault_view.
 * A faulted run is the code between READY and DISPATCHED. Whatever became
 * of it (answered, crashed, hung), the driver then calls heg_fault_observe on
 * a fresh stack to see what the device would act on: the running context, the
 * record a reboot would load, and the meter's registers. */
#include <stdint.h>
#include <string.h>

#include "hal_cm4.h"
#include "heg/heg.h"
#include "internal.h"

/* The breakpoint codes (bkpt's immediate; heg_cm4_fault uses 1). */
#define HEG_FAULT_STOP_READY 0x10
#define HEG_FAULT_STOP_DISPATCHED 0x11
#define HEG_FAULT_STOP_OBSERVED 0x12
/* bkpt takes a literal: HEG_FAULT_STOP expands the code's name first. */
#define HEG_FAULT_BKPT(code) __asm__ volatile("bkpt #" #code ::: "memory")
#define HEG_FAULT_STOP(code) HEG_FAULT_BKPT(code)

/* Any fixed values do: the firmware decides nothing on the wall clock, and
 * the generator only has to repeat from run to run. */
#define HEG_FAULT_WALL_CLOCK 1800000000u
#define HEG_FAULT_RNG_SEED 0x5eed0f17u

/* Bumped whenever heg_fault_view_t changes (bench/fault/fault_harness.py checks it). */
#define HEG_FAULT_VIEW_LAYOUT 0x46560002u
/* Room for one scalar record, byte for byte (the driver compares the bytes:
 * any change shows, even in fields the named ones below leave out). */
#define HEG_FAULT_RECORD_CAP 1536u
HEG_STATIC_ASSERT(sizeof(heg_persistent_t) <= HEG_FAULT_RECORD_CAP, record_fits_the_view);

/* The grant-relevant fields of one copy of the persistent record, by name. */
typedef struct {
  uint32_t device_state;
  uint32_t policy_version;
  heg_hbool_t license_active;
  heg_hbool_t paused;
  heg_hbool_t halted;
  heg_hbool_t tampered;
  uint64_t license_sequence;
  uint64_t order_sequence;
  heg_u128_t allocation;
  heg_u128_t charged;
  uint8_t license_id[HEG_ID_SIZE];
} heg_fault_record_view_t;

typedef struct {
  uint32_t layout;
  uint32_t record_size;    /* sizeof(heg_persistent_t) */
  uint32_t durable_status; /* heg_store_load of the storage as it is now */
  uint32_t gate;           /* meter registers, then the gate output */
  uint32_t pause;
  uint32_t status;
  uint32_t gate_cause;
  uint32_t limit[4];
  uint32_t accel_enable; /* after one more clock edge */
  heg_fault_record_view_t running; /* the context the device acts on */
  heg_fault_record_view_t durable; /* what the next boot would load */
  uint8_t running_record[HEG_FAULT_RECORD_CAP];
  uint8_t durable_record[HEG_FAULT_RECORD_CAP];
} heg_fault_view_t;

HEG_STATIC_ASSERT(sizeof(heg_fault_record_view_t) == 88u, record_view_size);
HEG_STATIC_ASSERT(offsetof(heg_fault_view_t, running) == 48u, view_running_offset);
HEG_STATIC_ASSERT(sizeof(heg_fault_view_t) == 224u + 2u * HEG_FAULT_RECORD_CAP, view_size);

/* What the driver reads or writes, found by symbol. Visible from outside the
 * program, so link-time optimisation neither drops them nor assumes that
 * only this code writes them (the request is written by the driver). */
#define HEG_FAULT_SHARED __attribute__((used, externally_visible))

/* The mailbox. */
HEG_FAULT_SHARED uint8_t heg_fault_request[HEG_MAX_MESSAGE_SIZE];
HEG_FAULT_SHARED uint32_t heg_fault_request_len;
HEG_FAULT_SHARED uint8_t heg_fault_response[HEG_MAX_MESSAGE_SIZE];
HEG_FAULT_SHARED uint32_t heg_fault_response_len;
HEG_FAULT_SHARED uint32_t heg_fault_boot_status;
HEG_FAULT_SHARED heg_fault_view_t heg_fault_view;
/* Set by the driver: non-zero to load the stored record (it skips that work
 * when the storage is byte for byte as before the request). */
HEG_FAULT_SHARED uint32_t heg_fault_observe_durable;
/* The storage the driver preloads (NOLOAD: start-up leaves it alone). */
HEG_FAULT_SHARED __attribute__((section(".storage"))) uint8_t
    heg_fault_storage[HEG_CM4_PAGE_SIZE * HEG_CM4_PAGE_COUNT];
/* The OTP area, blank at every boot of the harness as on the QEMU image
 * (main.c): no scenario loses its store, so none needs the anchor to outlive
 * a power cycle; the driver's snapshot carries it within a run. */
__attribute__((section(".storage"))) static uint8_t g_otp[HEG_OTP_SIZE];

static uint64_t g_ctx_mem[HEG_CTX_BYTES / 8u];
/* A second context: heg_fault_observe loads the stored record into it. */
static uint64_t g_probe_mem[HEG_CTX_BYTES / 8u];
static heg_hal_t g_hal;
/* The meter model as bound at boot, kept apart from g_hal, which a faulted
 * run may have overwritten. */
HEG_FAULT_SHARED heg_meter_sim_t *heg_fault_meter;

static void view_record(const heg_persistent_t *ps, heg_fault_record_view_t *out,
                        uint8_t bytes[HEG_FAULT_RECORD_CAP]) {
  uint32_t role;
  memcpy(bytes, ps, sizeof(*ps));
  out->device_state = ps->device_state;
  out->policy_version = ps->policy.version;
  out->license_active = ps->license_active;
  out->paused = ps->paused;
  out->halted = ps->halted;
  out->tampered = ps->tampered;
  out->license_sequence = ps->license_sequence;
  /* One figure for the per-role order counters: any role's floor moving
   * moves their sum, which is what the driver compares. */
  out->order_sequence = 0u;
  for (role = 0; role < HEG_SIGNER_ROLE_COUNT; ++role) {
    out->order_sequence += ps->order_sequence[role];
  }
  out->allocation = ps->allocation;
  out->charged = ps->charged;
  memcpy(out->license_id, ps->license_id, HEG_ID_SIZE);
}

/* Fills heg_fault_view, then stops at HEG_FAULT_STOP_OBSERVED. Never inlined:
 * the driver calls it by its symbol after a crash. */
void heg_fault_observe(void);

HEG_FAULT_SHARED __attribute__((noinline, noipa)) void heg_fault_observe(void) {
  heg_hal_t hal;
  heg_ctx_t *probe = (heg_ctx_t *)(void *)g_probe_mem;
  uint64_t lost_counter = 0u;
  uint32_t word;

  memset(&heg_fault_view, 0, sizeof(heg_fault_view));
  heg_fault_view.layout = HEG_FAULT_VIEW_LAYOUT;
  heg_fault_view.record_size = (uint32_t)sizeof(heg_persistent_t);
  view_record(&((heg_ctx_t *)(void *)g_ctx_mem)->ps, &heg_fault_view.running,
              heg_fault_view.running_record);
  /* The record as a reboot would find it, through a HAL of its own. */
  memset(&hal, 0, sizeof(hal));
  hal.meter = heg_fault_meter;
  heg_nor_sim_init(&hal.nor, heg_fault_storage, HEG_CM4_PAGE_SIZE, HEG_CM4_PAGE_COUNT,
                   HEG_HFALSE);
  if (heg_fault_observe_durable != 0u) {
    memset(probe, 0, sizeof(g_probe_mem));
    probe->hal = &hal;
    /* A lost newer record (what boot would log as a revert) changes nothing
     * the view compares: the record loaded is the one in force. */
    heg_fault_view.durable_status = (uint32_t)heg_store_load(probe, &lost_counter);
    view_record(&probe->ps, &heg_fault_view.durable, heg_fault_view.durable_record);
  }
  heg_fault_view.gate = heg_hal_reg_read(&hal, HEG_REG_GATE);
  heg_fault_view.pause = heg_hal_reg_read(&hal, HEG_REG_PAUSE);
  heg_fault_view.status = heg_hal_reg_read(&hal, HEG_REG_STATUS);
  heg_fault_view.gate_cause = heg_hal_reg_read(&hal, HEG_REG_GATE_CAUSE);
  for (word = 0; word < 4u; ++word) {
    heg_fault_view.limit[word] = heg_hal_reg_read(&hal, HEG_REG_LIMIT_0 + 4u * word);
  }
  /* The gate output follows the registers at the next edge. */
  heg_cm4_meter_clock(&hal);
  heg_fault_view.accel_enable = (uint32_t)heg_meter_sim_enable(heg_fault_meter);
  HEG_FAULT_STOP(HEG_FAULT_STOP_OBSERVED);
}

int main(void) {
  heg_ctx_t *ctx = (heg_ctx_t *)(void *)g_ctx_mem;
  size_t response_len;
  heg_status_t status;

  heg_cm4_meter_init(&g_hal);
  heg_fault_meter = g_hal.meter;
  heg_nor_sim_init(&g_hal.nor, heg_fault_storage, HEG_CM4_PAGE_SIZE, HEG_CM4_PAGE_COUNT,
                   HEG_HFALSE);
  heg_otp_sim_init(&g_hal.otp, g_otp, HEG_HTRUE);
  g_hal.rng = HEG_FAULT_RNG_SEED;
  g_hal.time_now = HEG_FAULT_WALL_CLOCK;
  heg_fault_boot_status = heg_ctx_size() > sizeof(g_ctx_mem) ? (uint32_t)HEG_STATUS_BAD_REQUEST
                                                             : (uint32_t)heg_init(ctx, &g_hal);
  for (;;) {
    HEG_FAULT_STOP(HEG_FAULT_STOP_READY);
    response_len = 0;
    status = heg_dispatch(ctx, heg_fault_request, heg_fault_request_len, heg_fault_response,
                          sizeof(heg_fault_response), &response_len);
    heg_fault_response_len = status == HEG_STATUS_OK ? (uint32_t)response_len : 0u;
    HEG_FAULT_STOP(HEG_FAULT_STOP_DISPATCHED);
  }
}
