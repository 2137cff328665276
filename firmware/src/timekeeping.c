/* Trusted time: an authority-signed beacon that echoes a fresh device nonce,
 * plus the time the device has seen pass since. The operator chooses when the
 * answer arrives, so the beacon's time T only says that the true time was at
 * most T when the nonce was issued and at least T when the beacon arrived:
 * the lower bound runs from the arrival, the upper from the nonce's instant,
 * and a nonce older than HEG_NONCE_LIFETIME_S is not answered at all. Once
 * the time since the nonce may exceed beacon_max_age_s the device trusts no
 * time at all and every grant fails closed. Kept in RAM only: both clocks
 * restart at power-up, so after a reset the device needs a new beacon.
 *
 * Time passes on two clocks (heg_hal.h). Uptime counts the board's clock
 * input, precise (the policy's clock_drift_ppm) but the operator's: slowed,
 * it would stretch every window. The reference oscillator is inside the
 * package, coarse (HEG_REFERENCE_TOLERANCE_PPM) but out of the operator's
 * reach. Elapsed time is bounded by both: at most what either clock allows,
 * at least what both do, so the bounds hold as long as the reference does,
 * whatever the board's clock does. And the clock monitor compares them over
 * windows of HEG_CLOCK_MONITOR_WINDOW_MS: a disagreement no honest pair of
 * clocks shows, over a window and over it and the one before together, is
 * tamper (latched by heg_meter_read_checked). */
#include <string.h>

#include "codec.h"
#include "heg/heg_crypto.h"
#include "internal.h"

HEG_STATIC_ASSERT(sizeof(HEG_DOMAIN_TIME_BEACON) == HEG_DOMAIN_TIME_BEACON_LEN,
                  beacon_domain_len);

#define HEG_PPM 1000000u
/* Longest stretch the arithmetic below takes (~139 years): products with a
 * ppm figure fit in 64 bits. */
#define HEG_ELAPSED_CAP ((uint64_t)1 << 42)

uint64_t heg_uptime_ms(heg_ctx_t *ctx) { return heg_hal_uptime_ms(ctx->hal); }

void heg_now(heg_ctx_t *ctx, heg_instant_t *out) {
  out->uptime_ms = heg_hal_uptime_ms(ctx->hal);
  out->reference_ms = heg_hal_reference_ms(ctx->hal);
}

/* ppm of elapsed_ms, rounded up. */
static uint64_t ppm_of(uint64_t elapsed_ms, uint32_t ppm) {
  uint64_t bounded = ppm > HEG_PPM ? HEG_PPM : ppm;
  return heg_u64_div_u32(elapsed_ms * bounded + (HEG_PPM - 1u), HEG_PPM, NULL);
}

/* Milliseconds on each clock from since to now; HEG_HFALSE when either went
 * backwards (no honest clock does: nothing is trusted then). */
static heg_hbool_t clock_spans(const heg_instant_t *since, const heg_instant_t *now,
                               uint64_t *uptime, uint64_t *reference) {
  if (now->uptime_ms < since->uptime_ms || now->reference_ms < since->reference_ms) {
    return HEG_HFALSE;
  }
  *uptime = now->uptime_ms - since->uptime_ms;
  *reference = now->reference_ms - since->reference_ms;
  *uptime = *uptime > HEG_ELAPSED_CAP ? HEG_ELAPSED_CAP : *uptime;
  *reference = *reference > HEG_ELAPSED_CAP ? HEG_ELAPSED_CAP : *reference;
  return HEG_HTRUE;
}

/* The most true time that can have passed: what either clock allows. (Each
 * clock's resolution, a few ms, is below the beacon's, whole seconds, which
 * the bounds take as exact.) */
static uint64_t elapsed_ms_at_most(const heg_ctx_t *ctx, uint64_t uptime, uint64_t reference) {
  uint64_t by_uptime = uptime + ppm_of(uptime, ctx->ps.policy.clock_drift_ppm);
  uint64_t by_reference = reference + ppm_of(reference, HEG_REFERENCE_TOLERANCE_PPM);
  return by_uptime > by_reference ? by_uptime : by_reference;
}

/* The least true time that has passed: what both clocks allow. */
static uint64_t elapsed_ms_at_least(const heg_ctx_t *ctx, uint64_t uptime, uint64_t reference) {
  uint64_t by_uptime = uptime - ppm_of(uptime, ctx->ps.policy.clock_drift_ppm);
  uint64_t by_reference = reference - ppm_of(reference, HEG_REFERENCE_TOLERANCE_PPM);
  return by_uptime < by_reference ? by_uptime : by_reference;
}

uint64_t heg_elapsed_s_at_least(heg_ctx_t *ctx, uint64_t since_ms) {
  uint64_t now = heg_uptime_ms(ctx);
  uint64_t elapsed;
  if (now <= since_ms) {
    return 0;
  }
  elapsed = now - since_ms;
  if (elapsed > HEG_ELAPSED_CAP) {
    elapsed = HEG_ELAPSED_CAP;
  }
  return heg_u64_div_u32(elapsed - ppm_of(elapsed, ctx->ps.policy.clock_drift_ppm), 1000u, NULL);
}

void heg_clock_monitor_start(heg_ctx_t *ctx) {
  heg_now(ctx, &ctx->monitor_at);
  ctx->monitor_before = ctx->monitor_at;
  ctx->monitor_history = HEG_HFALSE;
}

/* Whether the clocks disagree from since to now by more than honest clocks
 * can: each is within its tolerance of the true time, so within the sum of
 * both of each other (one tick of each for the resolution). */
static heg_hbool_t clocks_disagree(const heg_ctx_t *ctx, uint64_t uptime, uint64_t reference) {
  uint64_t apart = uptime > reference ? uptime - reference : reference - uptime;
  uint64_t allowed = ppm_of(reference, HEG_REFERENCE_TOLERANCE_PPM) +
                     ppm_of(uptime, ctx->ps.policy.clock_drift_ppm) +
                     2u * HEG_REFERENCE_RESOLUTION_MS;
  return apart > allowed ? HEG_HTRUE : HEG_HFALSE;
}

uint32_t heg_clock_monitor_check(heg_ctx_t *ctx) {
  heg_instant_t now;
  uint64_t uptime;
  uint64_t reference;
  heg_hbool_t window;
  heg_hbool_t both = HEG_HFALSE;
  heg_now(ctx, &now);
  if (clock_spans(&ctx->monitor_at, &now, &uptime, &reference) != HEG_HTRUE) {
    return HEG_METER_EVIDENCE_CLOCK_DISAGREES;
  }
  if (uptime < HEG_CLOCK_MONITOR_WINDOW_MS && reference < HEG_CLOCK_MONITOR_WINDOW_MS) {
    return 0u; /* too short a window to tell drift from tamper */
  }
  window = clocks_disagree(ctx, uptime, reference);
  /* And over this window and the one before together: a counter read late
   * once (an interrupt taken late) puts one window behind and the next as far
   * ahead, which together agree, and is no tamper; a slowed, stopped or
   * sped-up clock disagrees over both, even if the operator lets one window
   * run honest in between. */
  if (window == HEG_HTRUE && ctx->monitor_history == HEG_HTRUE &&
      clock_spans(&ctx->monitor_before, &now, &uptime, &reference) == HEG_HTRUE) {
    both = clocks_disagree(ctx, uptime, reference);
  }
  ctx->monitor_before = ctx->monitor_at;
  ctx->monitor_at = now;
  ctx->monitor_history = HEG_HTRUE;
  return both == HEG_HTRUE ? HEG_METER_EVIDENCE_CLOCK_DISAGREES : 0u;
}

void heg_time_bounds(heg_ctx_t *ctx, heg_time_bounds_t *out) {
  heg_instant_t now;
  uint64_t uptime;
  uint64_t reference;
  uint64_t since_nonce; /* at most, ms */
  uint64_t since_arrival; /* at least, ms */
  out->trusted = HEG_HFALSE;
  out->lo = 0;
  out->hi = UINT64_MAX;
  if (ctx->beacon_valid != HEG_HTRUE) {
    return;
  }
  heg_now(ctx, &now);
  if (clock_spans(&ctx->beacon_at, &now, &uptime, &reference) != HEG_HTRUE) {
    ctx->beacon_valid = HEG_HFALSE; /* a clock went backwards: trust nothing */
    return;
  }
  since_arrival = elapsed_ms_at_least(ctx, uptime, reference);
  if (clock_spans(&ctx->beacon_nonce_at, &now, &uptime, &reference) != HEG_HTRUE) {
    ctx->beacon_valid = HEG_HFALSE;
    return;
  }
  since_nonce = elapsed_ms_at_most(ctx, uptime, reference);
  if (since_nonce > (uint64_t)ctx->ps.policy.beacon_max_age_s * 1000u) {
    return;
  }
  out->hi = ctx->beacon_time + heg_u64_div_u32(since_nonce + 999u, 1000u, NULL);
  out->lo = ctx->beacon_time + heg_u64_div_u32(since_arrival, 1000u, NULL);
  if (out->lo < ctx->beacon_time || out->hi < ctx->beacon_time) {
    out->lo = 0;
    out->hi = UINT64_MAX;
    return;
  }
  out->trusted = HEG_HTRUE;
}

heg_status_t heg_time_window_check(heg_ctx_t *ctx, uint64_t not_before, uint64_t not_after) {
  heg_time_bounds_t t;
  /* No exception for a license without a window ([0, 2^64 - 1]): without
   * trusted time nothing computes (DESIGN: fail closed). */
  heg_time_bounds(ctx, &t);
  if (t.trusted != HEG_HTRUE) {
    return HEG_STATUS_TIME_UNTRUSTED;
  }
  /* Conservative: every time the bounds allow must be inside the window. */
  if (t.lo < not_before) {
    return HEG_STATUS_NOT_YET_VALID;
  }
  if (t.hi > not_after) {
    return HEG_STATUS_EXPIRED;
  }
  return HEG_STATUS_OK;
}

heg_status_t heg_cmd_time_nonce(heg_ctx_t *ctx, const uint8_t *payload, size_t len, uint8_t *out,
                                size_t cap, size_t *out_len) {
  (void)payload;
  *out_len = 0;
  if (ctx->ps.device_state != HEG_DEVICE_STATE_PROVISIONED) {
    return HEG_STATUS_WRONG_STATE;
  }
  if (len != 0 || cap < HEG_TIME_NONCE_RESP_SIZE) {
    return HEG_STATUS_BAD_REQUEST;
  }
  ctx->nonce_valid = HEG_HFALSE;
  HEG_TRY(heg_hal_random(ctx->hal, ctx->nonce, sizeof(ctx->nonce)));
  heg_now(ctx, &ctx->nonce_at);
  ctx->nonce_valid = HEG_HTRUE;
  memcpy(out + HEG_TIME_NONCE_RESP_DEVICE_NONCE_OFF, ctx->nonce, HEG_NONCE_SIZE);
  *out_len = HEG_TIME_NONCE_RESP_SIZE;
  return HEG_STATUS_OK;
}

heg_status_t heg_cmd_time_beacon(heg_ctx_t *ctx, const uint8_t *payload, size_t len,
                                 uint8_t *out, size_t cap, size_t *out_len) {
  uint8_t msg[HEG_DOMAIN_TIME_BEACON_LEN + HEG_TIME_BEACON_BODY_SIZE];
  heg_hbool_t valid = HEG_HFALSE;
  uint64_t unix_time;
  heg_instant_t now;
  uint64_t uptime;
  uint64_t reference;
  uint8_t event[8];
  heg_status_t status;

  (void)out;
  (void)cap;
  *out_len = 0;
  if (ctx->ps.device_state != HEG_DEVICE_STATE_PROVISIONED) {
    return HEG_STATUS_WRONG_STATE;
  }
  HEG_TRY(heg_check_record_header(payload, len, HEG_RECORD_TIME_BEACON));
  if (len != HEG_TIME_BEACON_SIZE) {
    return HEG_STATUS_RECORD_LENGTH;
  }
  if (heg_bytes_equal(payload + HEG_TIME_BEACON_DEVICE_ID_OFF, ctx->device_pk, HEG_KEY_SIZE) !=
      HEG_HTRUE) {
    return HEG_STATUS_WRONG_DEVICE;
  }
  /* Only an answer to the nonce outstanding now: anything else is a replay. */
  if (ctx->nonce_valid != HEG_HTRUE ||
      heg_bytes_equal(payload + HEG_TIME_BEACON_DEVICE_NONCE_OFF, ctx->nonce, HEG_NONCE_SIZE) !=
          HEG_HTRUE) {
    return HEG_STATUS_REPLAYED;
  }
  heg_now(ctx, &now);
  if (clock_spans(&ctx->nonce_at, &now, &uptime, &reference) != HEG_HTRUE ||
      elapsed_ms_at_most(ctx, uptime, reference) > HEG_NONCE_LIFETIME_S * 1000u) {
    return HEG_STATUS_NONCE_EXPIRED;
  }
  memcpy(msg, HEG_DOMAIN_TIME_BEACON, HEG_DOMAIN_TIME_BEACON_LEN);
  memcpy(msg + HEG_DOMAIN_TIME_BEACON_LEN, payload, HEG_TIME_BEACON_BODY_SIZE);
  HEG_TRY(heg_crypto_ed25519_verify(payload + HEG_TIME_BEACON_BODY_SIZE, msg, sizeof(msg),
                                    ctx->ps.policy.time_authority_key, &valid));
  if (valid != HEG_HTRUE) {
    return HEG_STATUS_SIGNATURE_INVALID;
  }
  unix_time = heg_load_u64(payload + HEG_TIME_BEACON_UNIX_TIME_OFF);
  heg_store_u64(event, unix_time);
  status = heg_log_append(ctx, HEG_EVENT_TIME_SET, event, sizeof(event));
  HEG_TRY(heg_store_finish(ctx, status));
  HEG_HARDENED_CHECK_TRUE(valid);
  ctx->nonce_valid = HEG_HFALSE; /* single use */
  ctx->beacon_time = unix_time;
  ctx->beacon_at = now;
  ctx->beacon_nonce_at = ctx->nonce_at;
  ctx->beacon_valid = HEG_HTRUE;
  return heg_meter_arm(ctx);
}
