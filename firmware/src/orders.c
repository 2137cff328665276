/* ORDER: an inspector's pause and resume, a board's halt and lift-halt.
 * Anti-replayed by one per-device sequence (strictly increasing, bounded
 * jump); each applied order is logged and moves the gate at once. */
#include <string.h>

#include "codec.h"
#include "heg/heg_crypto.h"
#include "internal.h"

HEG_STATIC_ASSERT(sizeof(HEG_DOMAIN_ORDER) == HEG_DOMAIN_ORDER_LEN, order_domain_len);

typedef struct {
  uint32_t kind;
  uint8_t license_id[HEG_ID_SIZE];
  uint64_t sequence;
  heg_sigset_t sigs;
} heg_order_t;

static heg_status_t parse_order(const uint8_t *data, size_t len, heg_order_t *out) {
  heg_hbool_t device_wide;
  heg_hbool_t no_license;
  HEG_TRY(heg_check_record_header(data, len, HEG_RECORD_ORDER));
  if (len < HEG_ORDER_BODY_SIZE) {
    return HEG_STATUS_RECORD_LENGTH;
  }
  HEG_TRY(heg_sigset_parse(data, HEG_ORDER_BODY_SIZE, len, HEG_MAX_RECORD_SIGNATURES,
                           &out->sigs));
  out->kind = data[HEG_ORDER_ORDER_KIND_OFF];
  if (out->kind < HEG_ORDER_KIND_PAUSE || out->kind > HEG_ORDER_KIND_LIFT_HALT) {
    return HEG_STATUS_RECORD_FIELD;
  }
  memcpy(out->license_id, data + HEG_ORDER_LICENSE_ID_OFF, HEG_ID_SIZE);
  out->sequence = heg_load_u64(data + HEG_ORDER_SEQUENCE_OFF);
  device_wide = (out->kind == HEG_ORDER_KIND_HALT || out->kind == HEG_ORDER_KIND_LIFT_HALT)
                    ? HEG_HTRUE
                    : HEG_HFALSE;
  no_license = heg_bytes_zero(out->license_id, HEG_ID_SIZE);
  if (device_wide != no_license) {
    return HEG_STATUS_RECORD_FIELD;
  }
  return HEG_STATUS_OK;
}

/* Who may give this order under the policy in force. */
static heg_status_t authorize(heg_ctx_t *ctx, const heg_order_t *order) {
  const heg_policy_t *p = &ctx->ps.policy;
  heg_keylist_t list;
  heg_hbool_t revoked = HEG_HTRUE;
  heg_hbool_t by_inspector = HEG_HFALSE;
  heg_hbool_t quorum = HEG_HFALSE;
  uint32_t signers = 0;
  heg_policy_keys(ctx, HEG_KEYS_REVOKED, &list);
  HEG_TRY(heg_keylist_has(ctx, &list, ctx->ps.inspector_key, &revoked));
  if (heg_bytes_zero(ctx->ps.inspector_key, HEG_KEY_SIZE) != HEG_HTRUE &&
      heg_sigset_has(&order->sigs, ctx->ps.inspector_key) == HEG_HTRUE &&
      revoked == HEG_HFALSE) {
    by_inspector = HEG_HTRUE;
  }
  heg_policy_keys(ctx, HEG_KEYS_BOARD, &list);
  HEG_TRY(heg_keylist_count_signers(ctx, &list, &order->sigs, &signers));
  if (signers >= p->board_threshold) {
    quorum = HEG_HTRUE;
  }
  switch (order->kind) {
    case HEG_ORDER_KIND_PAUSE:
      return by_inspector == HEG_HTRUE ? HEG_STATUS_OK : HEG_STATUS_SIGNER_UNTRUSTED;
    case HEG_ORDER_KIND_RESUME:
      return (by_inspector == HEG_HTRUE || quorum == HEG_HTRUE) ? HEG_STATUS_OK
                                                                : HEG_STATUS_QUORUM_NOT_MET;
    default:
      return quorum == HEG_HTRUE ? HEG_STATUS_OK : HEG_STATUS_QUORUM_NOT_MET;
  }
}

heg_status_t heg_cmd_order(heg_ctx_t *ctx, const uint8_t *payload, size_t len, uint8_t *out,
                           size_t cap, size_t *out_len) {
  heg_order_t order;
  heg_keylist_t revoked;
  heg_hbool_t verified = HEG_HFALSE;
  uint8_t event[1u + 8u + HEG_ID_SIZE];
  heg_status_t status;

  *out_len = 0;
  if (ctx->ps.device_state != HEG_DEVICE_STATE_PROVISIONED) {
    return HEG_STATUS_WRONG_STATE;
  }
  HEG_TRY(parse_order(payload, len, &order));
  if (heg_bytes_equal(payload + HEG_ORDER_DEVICE_ID_OFF, ctx->device_pk, HEG_KEY_SIZE) !=
      HEG_HTRUE) {
    return HEG_STATUS_WRONG_DEVICE;
  }
  if (order.sequence <= ctx->ps.order_sequence) {
    return HEG_STATUS_REPLAYED;
  }
  if (order.sequence - ctx->ps.order_sequence > HEG_MAX_SEQUENCE_JUMP) {
    return HEG_STATUS_SEQUENCE_JUMP;
  }
  /* Pause and resume name the license in force. */
  if ((order.kind == HEG_ORDER_KIND_PAUSE || order.kind == HEG_ORDER_KIND_RESUME) &&
      (ctx->ps.license_active != HEG_HTRUE ||
       heg_bytes_equal(order.license_id, ctx->ps.license_id, HEG_ID_SIZE) != HEG_HTRUE)) {
    return HEG_STATUS_WRONG_STATE;
  }
  HEG_TRY(heg_lockout_begin(ctx));
  heg_policy_keys(ctx, HEG_KEYS_REVOKED, &revoked);
  HEG_TRY(heg_sigset_verify(ctx, &order.sigs, HEG_DOMAIN_ORDER, HEG_DOMAIN_ORDER_LEN, payload,
                            HEG_ORDER_BODY_SIZE, &revoked, NULL, out, cap, &verified));
  HEG_TRY(authorize(ctx, &order));
  HEG_HARDENED_CHECK_TRUE(verified);

  switch (order.kind) {
    case HEG_ORDER_KIND_PAUSE:
      ctx->ps.paused = HEG_HTRUE;
      break;
    case HEG_ORDER_KIND_RESUME:
      ctx->ps.paused = HEG_HFALSE;
      break;
    case HEG_ORDER_KIND_HALT:
      ctx->ps.halted = HEG_HTRUE;
      break;
    default:
      ctx->ps.halted = HEG_HFALSE;
      break;
  }
  ctx->ps.order_sequence = order.sequence;
  heg_lockout_clear(ctx);
  event[0] = (uint8_t)order.kind;
  heg_store_u64(event + 1u, order.sequence);
  memcpy(event + 9u, order.license_id, HEG_ID_SIZE);
  status = heg_log_append(ctx, HEG_EVENT_ORDER_APPLIED, event, sizeof(event));
  HEG_TRY(heg_store_finish(ctx, status));
  return heg_meter_arm(ctx);
}
