/* ATTEST: a signed report of what this device has metered and enforced.
 *
 * ATTEST costs no flash write of its own: report counters are reserved a
 * block at a time (the record holds "every counter up to N may have been
 * signed"; boot reserves the next block in the commit it makes anyway), and
 * the lane totals it reports are read live, not persisted. So a host cannot
 * wear the flash out by asking for attestations, and after any power cut the
 * device resumes past the whole reserved block: a counter is never signed
 * twice and never goes back. */
#include <string.h>

#include "codec.h"
#include "heg/heg_crypto.h"
#include "internal.h"

HEG_STATIC_ASSERT(sizeof(HEG_DOMAIN_ATTESTATION) == HEG_DOMAIN_ATTESTATION_LEN,
                  attestation_domain_len);
HEG_STATIC_ASSERT(HEG_ATTESTATION_LANE_OPS_LEN == HEG_LANES * HEG_U128_SIZE, lane_ops_len);
HEG_STATIC_ASSERT(HEG_ATTESTATION_SIZE == HEG_ATTESTATION_BODY_SIZE + HEG_SIGNATURE_SIZE,
                  attestation_size);
HEG_STATIC_ASSERT(HEG_DOMAIN_ATTESTATION_LEN <= HEG_SIGNATURE_SIZE, message_fits_the_response);
/* The three role counters are consecutive, in HEG_SIGNER_ROLE_* order. */
HEG_STATIC_ASSERT(HEG_ATTESTATION_BOARD_ORDER_SEQUENCE_OFF ==
                          HEG_ATTESTATION_INSPECTOR_ORDER_SEQUENCE_OFF + 8u &&
                      HEG_ATTESTATION_ISSUER_ORDER_SEQUENCE_OFF ==
                          HEG_ATTESTATION_INSPECTOR_ORDER_SEQUENCE_OFF + 16u,
                  role_counters_consecutive);

/* The meter's causes reported as read; its PAUSED bit is reported as the
 * order behind it (PAUSED or HALTED), and THROTTLED is a duty cycle, not a
 * closure. */
#define HEG_METER_CAUSES                                                                   \
  (HEG_GATE_CAUSE_EXHAUSTED_MASK | HEG_GATE_CAUSE_DISARMED_MASK | HEG_GATE_CAUSE_FATAL_MASK | \
   HEG_GATE_CAUSE_WATCHDOG_MASK | HEG_GATE_CAUSE_TAMPER_MASK)

heg_status_t heg_cmd_attest(heg_ctx_t *ctx, const uint8_t *payload, size_t len, uint8_t *out,
                            size_t cap, size_t *out_len) {
  *out_len = 0;
  HEG_TRY(heg_attest_check_request(ctx, len));
  if (cap < HEG_ATTESTATION_SIZE) {
    return HEG_STATUS_BAD_REQUEST;
  }
  HEG_TRY(heg_attest_sign(ctx, payload + HEG_ATTEST_REQ_NONCE_OFF, out));
  *out_len = HEG_ATTESTATION_SIZE;
  return HEG_STATUS_OK;
}

heg_status_t heg_attest_check_request(const heg_ctx_t *ctx, size_t len) {
  if (ctx->ps.device_state != HEG_DEVICE_STATE_PROVISIONED) {
    return HEG_STATUS_WRONG_STATE;
  }
  return len == HEG_ATTEST_REQ_SIZE ? HEG_STATUS_OK : HEG_STATUS_BAD_REQUEST;
}

heg_status_t heg_attest_sign(heg_ctx_t *ctx, const uint8_t nonce[HEG_NONCE_SIZE],
                             uint8_t out[HEG_ATTESTATION_SIZE]) {
  /* domain || body is assembled in out (which holds the whole attestation,
   * longer than the domain), signed, and then the body moved down over the
   * domain: no message copy on the stack. */
  uint8_t *msg = out;
  uint8_t *body = out + HEG_DOMAIN_ATTESTATION_LEN;
  uint8_t sig[HEG_SIGNATURE_SIZE];
  heg_meter_reading_t reading;
  heg_u128_t consumed = heg_u128_zero();
  heg_u128_t remaining = heg_u128_zero();
  heg_u128_t workload_total = heg_u128_zero();
  heg_workload_t workload;
  uint32_t causes;
  uint32_t lane;
  uint32_t role;
  heg_hbool_t licensed;

  licensed = ctx->ps.license_active == HEG_HTRUE ? HEG_HTRUE : HEG_HFALSE;
  HEG_TRY(heg_meter_read_checked(ctx, &reading));
  causes = (reading.gate_cause & HEG_METER_CAUSES) | heg_gate_causes(ctx);
  if (licensed == HEG_HTRUE) {
    consumed = heg_meter_consumed(ctx, &reading);
    remaining = heg_u128_sub_floor(ctx->ps.allocation, consumed);
    /* What the workload consumed under all its licenses. */
    HEG_TRY(heg_workload_read(ctx, ctx->ps.workload_slot, &workload));
    workload_total = heg_workload_settled(ctx, workload.granted, consumed);
  }
  if ((reading.status & HEG_STATUS_GATE_OPEN_MASK) != 0u && causes != 0u) {
    /* The gate stands open although a cause says it must not: report it as
     * closed-by-fault rather than vouch for an open gate. */
    causes |= HEG_GATE_CAUSE_FATAL;
  }

  /* The counter's block is durable before any signature carrying it exists. */
  if (ctx->report_counter >= ctx->ps.report_counter_reserved) {
    HEG_TRY(heg_attest_reserve(ctx));
    HEG_TRY(heg_store_commit(ctx));
  }
  ctx->report_counter += 1u;
  heg_meter_lane_totals(ctx, &reading, reading.lanes); /* in place: since-boot to totals */

  memset(msg, 0, HEG_DOMAIN_ATTESTATION_LEN + HEG_ATTESTATION_BODY_SIZE);
  memcpy(msg, HEG_DOMAIN_ATTESTATION, HEG_DOMAIN_ATTESTATION_LEN);
  memcpy(body + HEG_ATTESTATION_MAGIC_OFF, HEG_WIRE_MAGIC, HEG_WIRE_MAGIC_LEN);
  body[HEG_ATTESTATION_RECORD_TYPE_OFF] = HEG_RECORD_ATTESTATION;
  body[HEG_ATTESTATION_VERSION_OFF] = HEG_WIRE_VERSION;
  memcpy(body + HEG_ATTESTATION_DEVICE_ID_OFF, ctx->device_pk, HEG_KEY_SIZE);
  memcpy(body + HEG_ATTESTATION_NONCE_OFF, nonce, HEG_NONCE_SIZE);
  heg_firmware_measurement(body + HEG_ATTESTATION_FIRMWARE_MEASUREMENT_OFF);
  heg_store_u32(body + HEG_ATTESTATION_POLICY_VERSION_OFF, ctx->ps.policy.version);
  if (licensed == HEG_HTRUE) {
    memcpy(body + HEG_ATTESTATION_LICENSE_ID_OFF, ctx->ps.license_id, HEG_ID_SIZE);
    heg_store_u64(body + HEG_ATTESTATION_LICENSE_SEQUENCE_OFF, ctx->ps.license_sequence);
  }
  for (lane = 0; lane < HEG_LANES; ++lane) {
    heg_store_u128(body + HEG_ATTESTATION_LANE_OPS_OFF + lane * HEG_U128_SIZE,
                   reading.lanes[lane]);
  }
  heg_store_u128(body + HEG_ATTESTATION_CONSUMED_MSFLOP_OFF, consumed);
  heg_store_u128(body + HEG_ATTESTATION_REMAINING_MSFLOP_OFF, remaining);
  /* G-oversight and G-orders (FW-AUTH): the reserve held back, each signer
   * role's order counter. */
  if (licensed == HEG_HTRUE) {
    heg_store_u128(body + HEG_ATTESTATION_OVERSIGHT_RESERVED_MSFLOP_OFF,
                   ctx->ps.oversight_reserved);
  }
  for (role = 0; role < HEG_SIGNER_ROLE_COUNT; ++role) {
    heg_store_u64(body + HEG_ATTESTATION_INSPECTOR_ORDER_SEQUENCE_OFF + 8u * role,
                  ctx->ps.order_sequence[role]);
  }
  if ((reading.status & HEG_STATUS_GATE_OPEN_MASK) == 0u && causes == 0u) {
    /* Closed with no reason given: the meter contradicts itself. */
    causes |= HEG_GATE_CAUSE_FATAL;
  }
  body[HEG_ATTESTATION_GATE_STATE_OFF] =
      (uint8_t)(causes == 0u ? HEG_GATE_STATE_OPEN : HEG_GATE_STATE_CLOSED);
  heg_store_u32(body + HEG_ATTESTATION_GATE_CAUSES_OFF, causes);
  heg_store_u64(body + HEG_ATTESTATION_REPORT_COUNTER_OFF, ctx->report_counter);
  heg_store_u32(body + HEG_ATTESTATION_RESET_COUNT_OFF, ctx->ps.reset_count);
  memcpy(body + HEG_ATTESTATION_LOG_HEAD_OFF, ctx->ps.log_head, HEG_DIGEST_SIZE);
  heg_store_u32(body + HEG_ATTESTATION_STORE_REVERTS_OFF, ctx->ps.store_reverts);
  memcpy(body + HEG_ATTESTATION_POLICY_DIGEST_OFF, ctx->ps.policy.digest, HEG_DIGEST_SIZE);
  heg_store_u128(body + HEG_ATTESTATION_WORKLOAD_MSFLOP_OFF, workload_total);
  heg_store_u128(body + HEG_ATTESTATION_RETIRED_MSFLOP_OFF, ctx->ps.retired);
  heg_link_attest(ctx, body);

  HEG_TRY(heg_crypto_ed25519_sign(sig, msg, HEG_DOMAIN_ATTESTATION_LEN + HEG_ATTESTATION_BODY_SIZE,
                                  ctx->device_sk));
  memmove(out, body, HEG_ATTESTATION_BODY_SIZE);
  memcpy(out + HEG_ATTESTATION_BODY_SIZE, sig, HEG_SIGNATURE_SIZE);
  return HEG_STATUS_OK;
}

heg_status_t heg_attest_reserve(heg_ctx_t *ctx) {
  if (ctx->ps.report_counter_reserved > UINT64_MAX - HEG_REPORT_COUNTER_BLOCK) {
    return HEG_STATUS_STORAGE;
  }
  ctx->ps.report_counter_reserved += HEG_REPORT_COUNTER_BLOCK;
  return HEG_STATUS_OK;
}
