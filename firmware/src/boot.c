/* Boot and the metering loop entry points. */
#include <string.h>

#include "codec.h"
#include "heg/heg_crypto.h"
#include "internal.h"

HEG_STATIC_ASSERT(sizeof(heg_ctx_t) <= HEG_CTX_BYTES, ctx_fits_the_advertised_bound);

size_t heg_ctx_size(void) { return sizeof(heg_ctx_t); }

heg_status_t heg_init(heg_ctx_t *ctx, heg_hal_t *hal) {
  uint8_t event[16];
  uint64_t lost_counter = 0;
  uint32_t lane;
  uint32_t kind;
  heg_status_t status;

  if (ctx == NULL || hal == NULL) {
    return HEG_STATUS_BAD_REQUEST;
  }
  memset(ctx, 0, sizeof(*ctx));
  ctx->booted = HEG_HFALSE;
  ctx->gate_requested = HEG_HFALSE;
  ctx->pause_requested = HEG_HFALSE;
  ctx->watchdog_armed = HEG_HFALSE;
  ctx->nonce_valid = HEG_HFALSE;
  ctx->beacon_valid = HEG_HFALSE;
  ctx->hal = hal;

  HEG_TRY(heg_meter_check_id(ctx));
  /* Fail closed until this boot decides otherwise. */
  heg_meter_gate_close(ctx);
  for (kind = 0; kind < HEG_LOCKOUT_KINDS; ++kind) {
    ctx->lockout_since_ms[kind] = heg_uptime_ms(ctx);
  }
  heg_clock_monitor_start(ctx);
  HEG_TRY(heg_store_load(ctx, &lost_counter));
  HEG_TRY(heg_keys_derive(ctx));
  if (ctx->ps.device_state == HEG_DEVICE_STATE_RECOVERY_REQUIRED) {
    HEG_TRY(heg_hal_random(ctx->hal, ctx->recovery_nonce, sizeof(ctx->recovery_nonce)));
  }

  if (ctx->ps.reset_count == UINT32_MAX) {
    return HEG_STATUS_STORAGE;
  }
  ctx->ps.reset_count += 1u;
  /* Counters up to the reserved one may have been signed before the reset:
   * resume past them, and reserve the next block in this same commit. */
  ctx->report_counter = ctx->ps.report_counter_reserved;
  heg_store_u32(event, ctx->ps.reset_count);
  status = heg_attest_reserve(ctx);
  if (status == HEG_STATUS_OK) {
    status = heg_log_append(ctx, HEG_EVENT_RESET, event, 4u);
  }
  /* A newer record than the one in force failed its check: its commit is
   * lost (an undone charge or sequence). Counted and logged, never silent;
   * this commit overwrites that slot, so it is counted once. */
  if (status == HEG_STATUS_OK && lost_counter != 0u) {
    if (ctx->ps.store_reverts != UINT32_MAX) {
      ctx->ps.store_reverts += 1u;
    }
    heg_store_u64(event, lost_counter);
    heg_store_u64(event + 8u, ctx->ps.counter);
    status = heg_log_append(ctx, HEG_EVENT_STORE_REVERTED, event, sizeof(event));
  }
  HEG_TRY(heg_store_finish(ctx, status));

  /* Weights of the policy in force, then locked until the next reset. */
  heg_meter_load_weights_and_lock(ctx);
  heg_link_load_and_lock(ctx);
  heg_meter_watchdog_start(ctx);
  /* The accumulator restarts at 0 with the meter; everything charged before
   * this boot counts as consumed (a power cut never refunds). */
  ctx->acc_base = heg_u128_zero();
  ctx->consumed_base = ctx->ps.charged;
  for (lane = 0; lane < HEG_LANES; ++lane) {
    ctx->lanes_at_boot[lane] = ctx->ps.lane_totals[lane];
  }
  ctx->booted = HEG_HTRUE;
  return heg_meter_step(ctx);
}

heg_status_t heg_poll(heg_ctx_t *ctx) {
  if (ctx == NULL) {
    return HEG_STATUS_BAD_REQUEST;
  }
  if (ctx->booted != HEG_HTRUE) {
    return HEG_STATUS_WRONG_STATE;
  }
  return heg_meter_step(ctx);
}

heg_status_t heg_shutdown(heg_ctx_t *ctx, heg_hbool_t *settled) {
  /* One reading buffer: the first reading's accumulator is all that is kept
   * of it when the second is taken. */
  heg_meter_reading_t reading;
  heg_u128_t first_acc;
  heg_u128_t consumed;
  heg_status_t status = HEG_STATUS_OK;

  if (ctx == NULL || settled == NULL) {
    return HEG_STATUS_BAD_REQUEST;
  }
  *settled = HEG_HFALSE;
  if (ctx->booted != HEG_HTRUE) {
    return HEG_STATUS_WRONG_STATE;
  }
  heg_meter_gate_close(ctx);
  if (ctx->ps.device_state == HEG_DEVICE_STATE_PROVISIONED &&
      ctx->ps.license_active == HEG_HTRUE) {
    /* Checked: after a reset of the meter alone, settling to its reading would
     * refund what it lost. */
    HEG_TRY(heg_meter_read_checked(ctx, &reading));
    if ((reading.status & HEG_STATUS_GATE_OPEN_MASK) != 0u ||
        (reading.gate_cause & HEG_GATE_CAUSE_DISARMED_MASK) == 0u) {
      return HEG_STATUS_OK; /* not closed yet: the caller lets a clock edge pass */
    }
    first_acc = reading.acc;
    /* A second, independent reading: the accumulator must be standing still. */
    heg_meter_read(ctx, &reading);
    if ((reading.status & HEG_STATUS_GATE_OPEN_MASK) != 0u ||
        heg_u128_cmp(first_acc, reading.acc) != 0) {
      return HEG_STATUS_OK;
    }
    consumed = heg_meter_consumed(ctx, &reading);
    /* Settle to exactly what was metered: lower when charged allowance went
     * unspent, higher when ops in flight as the gate closed ran past it. The
     * record never drops metered compute. */
    if (heg_u128_cmp(consumed, ctx->ps.charged) != 0) {
      ctx->ps.charged = consumed;
      heg_meter_lane_totals(ctx, &reading, ctx->ps.lane_totals);
      status = heg_store_commit(ctx);
    }
  }
  HEG_TRY(status);
  ctx->booted = HEG_HFALSE;
  heg_crypto_wipe(ctx->device_sk, sizeof(ctx->device_sk));
  *settled = HEG_HTRUE;
  return HEG_STATUS_OK;
}
