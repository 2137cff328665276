/* Trusted time: an authority-signed beacon that echoes a fresh device nonce,
 * plus the device's own uptime. The operator chooses when the answer arrives,
 * so the beacon's time T only says that the true time was at most T when the
 * nonce was issued and at least T when the beacon arrived: the lower bound
 * runs from the arrival, the upper from the nonce's tick, and a nonce older
 * than HEG_NONCE_LIFETIME_S is not answered at all. Uncertainty grows with
 * the policy's worst-case clock drift; once the time since the nonce (drift
 * added) passes beacon_max_age_s the device trusts no time at all and every
 * grant fails closed. Kept in RAM only: uptime restarts at power-up, so after
 * a reset the device needs a new beacon. */
#include <string.h>

#include "codec.h"
#include "heg/heg_crypto.h"
#include "internal.h"

HEG_STATIC_ASSERT(sizeof(HEG_DOMAIN_TIME_BEACON) == HEG_DOMAIN_TIME_BEACON_LEN,
                  beacon_domain_len);

#define HEG_PPM 1000000u

uint64_t heg_uptime_ms(heg_ctx_t *ctx) { return heg_hal_uptime_ms(ctx->hal); }

/* Worst-case drift over elapsed_ms, rounded up (elapsed_ms is bounded by the
 * caller so the product fits). */
static uint64_t drift_ms(uint64_t elapsed_ms, uint32_t drift_ppm) {
  uint64_t ppm = drift_ppm > HEG_PPM ? HEG_PPM : drift_ppm;
  return (elapsed_ms * ppm + (HEG_PPM - 1u)) / HEG_PPM;
}

uint64_t heg_elapsed_s_at_least(heg_ctx_t *ctx, uint64_t since_ms) {
  uint64_t now = heg_uptime_ms(ctx);
  uint64_t elapsed;
  if (now <= since_ms) {
    return 0;
  }
  elapsed = now - since_ms;
  if (elapsed > ((uint64_t)1 << 42)) { /* ~139 years: no overflow below */
    elapsed = (uint64_t)1 << 42;
  }
  return (elapsed - drift_ms(elapsed, ctx->ps.policy.clock_drift_ppm)) / 1000u;
}

void heg_time_bounds(heg_ctx_t *ctx, heg_time_bounds_t *out) {
  uint64_t now;
  uint64_t elapsed;     /* since the beacon arrived */
  uint64_t since_nonce; /* since its nonce was issued */
  uint64_t drift;
  uint64_t max_age_ms;
  out->trusted = HEG_HFALSE;
  out->lo = 0;
  out->hi = UINT64_MAX;
  if (ctx->beacon_valid != HEG_HTRUE) {
    return;
  }
  now = heg_uptime_ms(ctx);
  if (now < ctx->beacon_tick_ms) {
    ctx->beacon_valid = HEG_HFALSE; /* uptime went backwards: trust nothing */
    return;
  }
  elapsed = now - ctx->beacon_tick_ms;
  since_nonce = elapsed + ctx->beacon_delay_ms;
  max_age_ms = (uint64_t)ctx->ps.policy.beacon_max_age_s * 1000u;
  if (since_nonce > max_age_ms) {
    return;
  }
  drift = drift_ms(since_nonce, ctx->ps.policy.clock_drift_ppm);
  if (since_nonce + drift > max_age_ms) {
    return;
  }
  out->hi = ctx->beacon_time + (since_nonce + drift + 999u) / 1000u;
  drift = drift_ms(elapsed, ctx->ps.policy.clock_drift_ppm);
  out->lo = ctx->beacon_time + (elapsed - drift) / 1000u;
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
  ctx->nonce_tick_ms = heg_uptime_ms(ctx);
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
  uint64_t tick;
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
  tick = heg_uptime_ms(ctx);
  if (tick < ctx->nonce_tick_ms || tick - ctx->nonce_tick_ms > HEG_NONCE_LIFETIME_S * 1000u) {
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
  ctx->beacon_tick_ms = tick;
  ctx->beacon_delay_ms = (uint32_t)(tick - ctx->nonce_tick_ms); /* <= the nonce lifetime */
  ctx->beacon_valid = HEG_HTRUE;
  return heg_meter_arm(ctx);
}
