/* The interconnect cap: the policy's link rate and burst for the license in
 * force's kind, loaded into the stream limiter (heg_link) and locked until
 * reset, as the meter's weights are (meter.c). Before a policy is in force
 * the limiter keeps its reset values, RATE 0 and BURST 0: the link passes
 * nothing. */
#include "codec.h"
#include "internal.h"

/* A policy is in force from KEYED on (as for the weights, meter.c). */
static heg_hbool_t policy_in_force(const heg_ctx_t *ctx) {
  return (ctx->ps.device_state == HEG_DEVICE_STATE_KEYED ||
          ctx->ps.device_state == HEG_DEVICE_STATE_PROVISIONED)
             ? HEG_HTRUE
             : HEG_HFALSE;
}

/* The cap the license in force allows (openheg.wire.Policy.link_cap_for): the
 * general one for a training or fine-tuning license; otherwise (an inference
 * license, or none: nobody signed a kind that needs more) the tighter of the
 * general and the inference cap in rate and in burst, so an inference cap
 * looser than the general one loosens nothing. */
static void link_cap(const heg_ctx_t *ctx, uint32_t *wire_mb_per_s, uint32_t *burst) {
  const heg_policy_t *policy = &ctx->ps.policy;
  *wire_mb_per_s = policy->link_wire_mb_per_s;
  *burst = policy->link_burst_wire_bytes;
  if (ctx->ps.license_active == HEG_HTRUE &&
      (ctx->ps.license_kind == HEG_WORKLOAD_KIND_PRE_TRAINING ||
       ctx->ps.license_kind == HEG_WORKLOAD_KIND_FINE_TUNING)) {
    return;
  }
  if (policy->inference_link_wire_mb_per_s < *wire_mb_per_s) {
    *wire_mb_per_s = policy->inference_link_wire_mb_per_s;
  }
  if (policy->inference_link_burst_wire_bytes < *burst) {
    *burst = policy->inference_link_burst_wire_bytes;
  }
}

uint32_t heg_link_rate(uint32_t wire_mb_per_s, uint32_t clock_hz) {
  uint64_t rate;
  if (clock_hz == 0u) {
    return 0u;
  }
  /* RATE is wire bytes per cycle x 2^16. Rounded down: the cap is never
   * looser than the policy's. The policy bounds the rate to 10^7 MB/s, so
   * 10^7 * 10^6 * 2^16 < 2^63 and the product cannot overflow. */
  rate = heg_u64_div_u32((uint64_t)wire_mb_per_s * 1000000u << 16, clock_hz, NULL);
  /* Past 2^32 - 1 the register's 65,535 wire bytes a cycle exceed any beat
   * the link can carry in a cycle: the cap is the link's own width. */
  return rate > UINT32_MAX ? UINT32_MAX : (uint32_t)rate;
}

void heg_link_load_and_lock(heg_ctx_t *ctx) {
  uint32_t wire_mb_per_s;
  uint32_t burst;
  /* Once locked the registers ignore writes until reset: nothing to do. */
  if (policy_in_force(ctx) != HEG_HTRUE ||
      (heg_hal_link_read(ctx->hal, HEG_LINK_REG_LINK_REGWEN) & HEG_LINK_LINK_REGWEN_EN_MASK) == 0u) {
    return;
  }
  link_cap(ctx, &wire_mb_per_s, &burst);
  heg_hal_link_write(ctx->hal, HEG_LINK_REG_RATE,
                     heg_link_rate(wire_mb_per_s, heg_hal_link_clock_hz(ctx->hal)));
  heg_hal_link_write(ctx->hal, HEG_LINK_REG_BURST, burst);
  /* Write-zero-to-clear: RATE and BURST cannot change again until reset. */
  heg_hal_link_write(ctx->hal, HEG_LINK_REG_LINK_REGWEN, 0u);
}

heg_hbool_t heg_link_current(heg_ctx_t *ctx) {
  uint32_t wire_mb_per_s;
  uint32_t burst;
  uint32_t differ;
  if (policy_in_force(ctx) != HEG_HTRUE) {
    return HEG_HTRUE;
  }
  /* Read back from the limiter, locked: a policy or a license of another
   * kind installed since the lock, or a limiter that did not take the
   * values, differs. */
  link_cap(ctx, &wire_mb_per_s, &burst);
  differ = heg_hal_link_read(ctx->hal, HEG_LINK_REG_RATE) ^
           heg_link_rate(wire_mb_per_s, heg_hal_link_clock_hz(ctx->hal));
  differ |= heg_hal_link_read(ctx->hal, HEG_LINK_REG_BURST) ^ burst;
  differ |= heg_hal_link_read(ctx->hal, HEG_LINK_REG_LINK_REGWEN) & HEG_LINK_LINK_REGWEN_EN_MASK;
  return differ == 0u ? HEG_HTRUE : HEG_HFALSE;
}

void heg_link_attest(heg_ctx_t *ctx, uint8_t *body) {
  /* Reading the low word latches the high word: one coherent count. */
  uint32_t lo = heg_hal_link_read(ctx->hal, HEG_LINK_REG_BYTES_LO);
  uint32_t hi = heg_hal_link_read(ctx->hal, HEG_LINK_REG_BYTES_HI);
  heg_store_u32(body + HEG_ATTESTATION_LINK_CLOCK_HZ_OFF, heg_hal_link_clock_hz(ctx->hal));
  heg_store_u32(body + HEG_ATTESTATION_LINK_RATE_OFF, heg_hal_link_read(ctx->hal, HEG_LINK_REG_RATE));
  heg_store_u32(body + HEG_ATTESTATION_LINK_BURST_OFF,
                heg_hal_link_read(ctx->hal, HEG_LINK_REG_BURST));
  heg_store_u64(body + HEG_ATTESTATION_LINK_WIRE_BYTES_OFF, ((uint64_t)hi << 32) | lo);
}
