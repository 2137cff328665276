/* Failed-attempt lockout. Every record install that reaches signature checks
 * is counted as failed, durably, before the signatures are checked (so cutting
 * power during a bad attempt cannot dodge the count); the install that
 * succeeds clears the count in its own commit. At the policy's threshold the
 * device refuses record installs until lockout_duration_s of its own uptime
 * has passed (drift taken off). Uptime restarts at power-up, so a reboot
 * restarts the wait rather than ending it. The threshold is at least 1 (a
 * policy bound, openheg.wire.POLICY_BOUNDS): no policy turns the lockout off. */
#include "internal.h"

heg_hbool_t heg_lockout_active(heg_ctx_t *ctx) {
  const heg_policy_t *p = &ctx->ps.policy;
  if (ctx->ps.auth_failures < p->lockout_threshold) {
    return HEG_HFALSE;
  }
  if (heg_elapsed_s_at_least(ctx, ctx->lockout_since_ms) >= p->lockout_duration_s) {
    return HEG_HFALSE;
  }
  return HEG_HTRUE;
}

heg_status_t heg_lockout_begin(heg_ctx_t *ctx) {
  const heg_policy_t *p = &ctx->ps.policy;
  if (heg_lockout_active(ctx) != HEG_HFALSE) {
    return HEG_STATUS_LOCKED_OUT;
  }
  if (ctx->ps.auth_failures != UINT32_MAX) {
    ctx->ps.auth_failures += 1u;
  }
  HEG_TRY(heg_store_commit(ctx));
  if (ctx->ps.auth_failures >= p->lockout_threshold) {
    /* Should this attempt fail, the lockout runs from now. */
    ctx->lockout_since_ms = heg_uptime_ms(ctx);
  }
  return HEG_STATUS_OK;
}

void heg_lockout_clear(heg_ctx_t *ctx) { ctx->ps.auth_failures = 0u; }
