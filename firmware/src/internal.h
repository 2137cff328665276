/* Firmware internals: the context, the persistent record and the functions
 * the per-job source files share. Not part of the public API. */
#ifndef HEG_SRC_INTERNAL_H
#define HEG_SRC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "heg/heg.h"
#include "heg/heg_regs.h"
#include "hardened.h"

/* ---- Persistent state (store.c) ----------------------------------------
 * One fixed-size record, written whole to the page not holding the current
 * one, with counter + 1 and a SHA-256 digest over everything before it.
 * Boot takes the valid record with the highest counter, so a power cut at
 * any point leaves the old record or the new one. Erased flash (all 0xFF)
 * fails the magic and the digest, so it never reads as a record. The record
 * is only ever read back by this firmware, in native byte order. */
#define HEG_STORE_MAGIC 0x54534748u /* "HGST" */
#define HEG_STORE_LAYOUT 1u
#define HEG_STORE_ENDORSEMENT_CAP 144u
#define HEG_STORE_PAGES 2u
#define HEG_STORE_NO_PAGE 0xffffffffu

typedef struct {
  uint32_t magic;
  uint32_t layout;
  uint64_t counter;
  uint32_t device_state; /* HEG_DEVICE_STATE_* */
  uint32_t reset_count;
  uint8_t device_seed[HEG_KEY_SIZE]; /* secret: the device key is derived from it */
  uint8_t issuer_key[HEG_KEY_SIZE];
  uint8_t vendor_key[HEG_KEY_SIZE];
  uint8_t endorsement[HEG_STORE_ENDORSEMENT_CAP];
  heg_hbool_t license_active;
  heg_hbool_t exhausted_logged;
  uint8_t license_id[HEG_ID_SIZE];
  uint64_t license_sequence; /* last accepted; replay floor */
  heg_u128_t allocation;
  heg_u128_t charged; /* allowance reserved for the license, never refunded */
  heg_u128_t lane_totals[HEG_LANES];
  uint64_t report_counter;
  uint8_t log_head[HEG_DIGEST_SIZE];
  uint8_t digest[HEG_DIGEST_SIZE]; /* SHA-256 of every byte before it */
} heg_persistent_t;

#define HEG_STORE_RECORD_SIZE 496u

/* ---- The context --------------------------------------------------------- */
struct heg_ctx {
  heg_hbool_t booted;
  heg_hal_t *hal;
  heg_persistent_t ps; /* mirror of the newest valid record */
  uint32_t active_page; /* page holding ps, or HEG_STORE_NO_PAGE */
  uint8_t device_pk[HEG_KEY_SIZE];
  uint8_t device_sk[64]; /* secret; wiped when not KEYED */
  /* Per-boot metering base: consumed = consumed_base + (acc - acc_base). */
  heg_u128_t consumed_base;
  heg_u128_t acc_base;
  heg_u128_t lanes_at_boot[HEG_LANES];
  heg_hbool_t gate_requested;
};

/* A coherent reading of the meter. */
typedef struct {
  heg_u128_t acc;
  heg_u128_t lanes[HEG_LANES];
  uint32_t status;
  uint32_t gate_cause;
} heg_meter_reading_t;

/* store.c */
HEG_MUST_USE heg_status_t heg_store_load(heg_ctx_t *ctx);
/* Writes next (counter, magic and digest filled in here) and, once it is
 * durable, makes it ctx->ps. On failure ctx->ps is unchanged. */
HEG_MUST_USE heg_status_t heg_store_commit(heg_ctx_t *ctx, heg_persistent_t *next);

/* eventlog.c. Event types and their payloads: openheg.wire.EventType (generated
 * into heg_wire.h as HEG_EVENT_*). */
/* head = SHA-256(head || type || payload), in ps (the caller persists). */
HEG_MUST_USE heg_status_t heg_log_append(heg_persistent_t *ps, uint8_t type,
                                         const uint8_t *payload, size_t len);

/* meter.c */
HEG_MUST_USE heg_status_t heg_meter_check_id(heg_ctx_t *ctx);
void heg_meter_load_default_weights(heg_ctx_t *ctx);
void heg_meter_read(heg_ctx_t *ctx, heg_meter_reading_t *out);
void heg_meter_write_limit(heg_ctx_t *ctx, heg_u128_t limit);
void heg_meter_gate_close(heg_ctx_t *ctx);
/* Consumption of the active license given a reading. */
heg_u128_t heg_meter_consumed(const heg_ctx_t *ctx, const heg_meter_reading_t *reading);
/* Lane totals to persist given a reading. */
void heg_meter_lane_totals(const heg_ctx_t *ctx, const heg_meter_reading_t *reading,
                           heg_u128_t out[HEG_LANES]);
/* First allowance for a freshly accepted license: chunk size. */
heg_u128_t heg_meter_chunk(heg_u128_t allocation);
/* Raises the limit to the charged amount and opens the gate when allowed. */
HEG_MUST_USE heg_status_t heg_meter_arm(heg_ctx_t *ctx);
/* The metering loop tick. */
HEG_MUST_USE heg_status_t heg_meter_step(heg_ctx_t *ctx);

/* keys (provision.c) */
HEG_MUST_USE heg_status_t heg_keys_derive(heg_ctx_t *ctx);

/* measure.c */
void heg_firmware_measurement(uint8_t out[HEG_DIGEST_SIZE]);

/* Command handlers. payload/len: request payload; out/cap: response payload. */
typedef heg_status_t (*heg_handler_t)(heg_ctx_t *ctx, const uint8_t *payload, size_t len,
                                      uint8_t *out, size_t cap, size_t *out_len);
HEG_MUST_USE heg_status_t heg_cmd_info(heg_ctx_t *ctx, const uint8_t *payload, size_t len,
                                       uint8_t *out, size_t cap, size_t *out_len);
HEG_MUST_USE heg_status_t heg_cmd_provision(heg_ctx_t *ctx, const uint8_t *payload, size_t len,
                                            uint8_t *out, size_t cap, size_t *out_len);
HEG_MUST_USE heg_status_t heg_cmd_endorse(heg_ctx_t *ctx, const uint8_t *payload, size_t len,
                                          uint8_t *out, size_t cap, size_t *out_len);
HEG_MUST_USE heg_status_t heg_cmd_read_endorsement(heg_ctx_t *ctx, const uint8_t *payload,
                                                   size_t len, uint8_t *out, size_t cap,
                                                   size_t *out_len);
HEG_MUST_USE heg_status_t heg_cmd_install_license(heg_ctx_t *ctx, const uint8_t *payload,
                                                  size_t len, uint8_t *out, size_t cap,
                                                  size_t *out_len);
HEG_MUST_USE heg_status_t heg_cmd_attest(heg_ctx_t *ctx, const uint8_t *payload, size_t len,
                                         uint8_t *out, size_t cap, size_t *out_len);

#endif /* HEG_SRC_INTERNAL_H */
