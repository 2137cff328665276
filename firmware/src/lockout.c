/* Failed-attempt lockout, one per kind of record (HEG_LOCKOUT_*). Every
 * record install that reaches signature checks is counted as failed,
 * durably, before the signatures are checked (so cutting power during a bad
 * attempt cannot dodge the count); the install that succeeds clears its
 * kind's count in its own commit. At the policy's threshold the device
 * refuses installs of that kind until lockout_duration_s of its own uptime
 * has passed (drift taken off). Uptime restarts at power-up, so a reboot
 * restarts the wait rather than ending it. The threshold is at least 1 (a
 * policy bound, openheg.wire.POLICY_BOUNDS): no policy turns the lockout off.
 *
 * One count per kind, so that the operator's forged licenses cannot keep a
 * policy out (a policy that revokes the license's inspector, review finding
 * 8): it would have to forge policies, and keeping a policy out that way is
 * no more than withholding it, which the operator can always do. Each kind
 * still bounds its own retries, so a fault-retry attack on one kind gets the
 * threshold's attempts per lockout period, as before. */
#include "internal.h"

heg_hbool_t heg_lockout_active(heg_ctx_t *ctx, uint32_t kind) {
  const heg_policy_t *p = &ctx->ps.policy;
  if (ctx->ps.auth_failures[kind] < p->lockout_threshold) {
    return HEG_HFALSE;
  }
  if (heg_elapsed_s_at_least(ctx, ctx->lockout_since_ms[kind]) >= p->lockout_duration_s) {
    return HEG_HFALSE;
  }
  return HEG_HTRUE;
}

heg_status_t heg_lockout_begin(heg_ctx_t *ctx, uint32_t kind) {
  const heg_policy_t *p = &ctx->ps.policy;
  if (heg_lockout_active(ctx, kind) != HEG_HFALSE) {
    return HEG_STATUS_LOCKED_OUT;
  }
  if (ctx->ps.auth_failures[kind] != UINT32_MAX) {
    ctx->ps.auth_failures[kind] += 1u;
  }
  HEG_TRY(heg_store_commit(ctx));
  if (ctx->ps.auth_failures[kind] >= p->lockout_threshold) {
    /* Should this attempt fail, the lockout runs from now. */
    ctx->lockout_since_ms[kind] = heg_uptime_ms(ctx);
  }
  return HEG_STATUS_OK;
}

void heg_lockout_clear(heg_ctx_t *ctx, uint32_t kind) { ctx->ps.auth_failures[kind] = 0u; }
