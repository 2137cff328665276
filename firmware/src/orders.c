/* ORDER: an inspector's pause and resume (of the workload in force), a
 * board's resume, halt and lift-halt, the issuer's or the board's revocation,
 * the inspector's release of the oversight reserve.
 * The body names its signer role; each role has its own anti-replay sequence
 * (strictly increasing, bounded jump), so no role can void another's order.
 * issued_at is held against trusted time; orders that only restrict are
 * accepted without it and during a lockout (fail closed: the operator must not
 * be able to keep a pause out). Each applied order is logged and moves the
 * gate at once. */
#include <string.h>

#include "codec.h"
#include "heg/heg_crypto.h"
#include "internal.h"

HEG_STATIC_ASSERT(sizeof(HEG_DOMAIN_ORDER) == HEG_DOMAIN_ORDER_LEN, order_domain_len);

static const uint8_t k_kind_roles[] = HEG_ORDER_KIND_ROLES;

typedef struct {
  uint32_t kind;
  uint32_t role;
  uint8_t license_id[HEG_ID_SIZE];
  uint64_t sequence;
  uint64_t issued_at;
  uint64_t license_floor; /* REVOKE: the license sequence floor it raises to */
  heg_hbool_t restrictive;
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
  out->role = data[HEG_ORDER_SIGNER_ROLE_OFF];
  if (out->kind < HEG_ORDER_KIND_PAUSE || out->kind >= sizeof(k_kind_roles) ||
      out->role < 1u || out->role > HEG_SIGNER_ROLE_COUNT ||
      (k_kind_roles[out->kind] & (1u << out->role)) == 0u) {
    return HEG_STATUS_RECORD_FIELD;
  }
  memcpy(out->license_id, data + HEG_ORDER_LICENSE_ID_OFF, HEG_ID_SIZE);
  out->sequence = heg_load_u64(data + HEG_ORDER_SEQUENCE_OFF);
  out->issued_at = heg_load_u64(data + HEG_ORDER_ISSUED_AT_OFF);
  out->license_floor = heg_load_u64(data + HEG_ORDER_LICENSE_SEQUENCE_FLOOR_OFF);
  out->restrictive =
      (HEG_ORDER_KINDS_RESTRICTIVE & (1u << out->kind)) != 0u ? HEG_HTRUE : HEG_HFALSE;
  device_wide = (out->kind == HEG_ORDER_KIND_HALT || out->kind == HEG_ORDER_KIND_LIFT_HALT)
                    ? HEG_HTRUE
                    : HEG_HFALSE;
  no_license = heg_bytes_zero(out->license_id, HEG_ID_SIZE);
  if (device_wide != no_license ||
      (out->kind != HEG_ORDER_KIND_REVOKE && out->license_floor != 0u)) {
    return HEG_STATUS_RECORD_FIELD;
  }
  return HEG_STATUS_OK;
}

/* issued_at on trusted time: not after the latest time the device may be at,
 * and at most HEG_ORDER_LIFETIME_S before it. Without trusted time only an
 * order that restricts passes. */
static heg_status_t check_issued_at(heg_ctx_t *ctx, const heg_order_t *order) {
  heg_time_bounds_t t;
  heg_time_bounds(ctx, &t);
  if (t.trusted != HEG_HTRUE) {
    return order->restrictive == HEG_HTRUE ? HEG_STATUS_OK : HEG_STATUS_TIME_UNTRUSTED;
  }
  if (order->issued_at > t.hi) {
    return HEG_STATUS_NOT_YET_VALID;
  }
  if (t.hi - order->issued_at > HEG_ORDER_LIFETIME_S) {
    return HEG_STATUS_EXPIRED;
  }
  return HEG_STATUS_OK;
}

/* What an order must be before its signatures are verified: for this
 * device, fresh in its role's sequence (the revocation floor it raises
 * within reach), naming the license in force where it acts on one, and
 * issued_at within trusted time. */
static heg_status_t check_order(heg_ctx_t *ctx, const uint8_t *payload,
                                const heg_order_t *order) {
  uint64_t floor = ctx->ps.order_sequence[order->role - 1u];
  if (heg_bytes_equal(payload + HEG_ORDER_DEVICE_ID_OFF, ctx->device_pk, HEG_KEY_SIZE) !=
      HEG_HTRUE) {
    return HEG_STATUS_WRONG_DEVICE;
  }
  if (order->sequence <= floor) {
    return HEG_STATUS_REPLAYED;
  }
  if (order->sequence - floor > HEG_MAX_SEQUENCE_JUMP ||
      (order->license_floor > ctx->ps.license_floor &&
       order->license_floor - ctx->ps.license_floor > HEG_MAX_SEQUENCE_JUMP)) {
    return HEG_STATUS_SEQUENCE_JUMP;
  }
  /* Pause, resume and the release of the oversight reserve name the license
   * in force. */
  if ((order->kind == HEG_ORDER_KIND_PAUSE || order->kind == HEG_ORDER_KIND_RESUME ||
       order->kind == HEG_ORDER_KIND_RELEASE_OVERSIGHT) &&
      (ctx->ps.license_active != HEG_HTRUE ||
       heg_bytes_equal(order->license_id, ctx->ps.license_id, HEG_ID_SIZE) != HEG_HTRUE)) {
    return HEG_STATUS_WRONG_STATE;
  }
  return check_issued_at(ctx, order);
}

/* Whether the order's signers are the role it names, as that role is entitled
 * to this order under the policy in force: the inspector entitled to it
 * (inspector: the license's, or for a resume the one who paused), a board
 * quorum, or the issuer. */
static heg_status_t check_signers(heg_ctx_t *ctx, const heg_order_t *order,
                                  const uint8_t inspector[HEG_KEY_SIZE]) {
  heg_keylist_t board;
  uint32_t signers = 0;
  switch (order->role) {
    case HEG_SIGNER_ROLE_INSPECTOR:
      if (heg_bytes_zero(inspector, HEG_KEY_SIZE) == HEG_HTRUE ||
          heg_sigset_has(&order->sigs, inspector) != HEG_HTRUE) {
        return HEG_STATUS_SIGNER_UNTRUSTED;
      }
      break;
    case HEG_SIGNER_ROLE_BOARD:
      heg_policy_keys(ctx, HEG_KEYS_BOARD, &board);
      HEG_TRY(heg_keylist_count_signers(ctx, &board, &order->sigs, &signers));
      if (signers < ctx->ps.policy.board_threshold) {
        return HEG_STATUS_QUORUM_NOT_MET;
      }
      break;
    default: /* HEG_SIGNER_ROLE_ISSUER (parse_order allows no other) */
      if (heg_sigset_has(&order->sigs, ctx->ps.policy.issuer_key) != HEG_HTRUE) {
        return HEG_STATUS_SIGNER_UNTRUSTED;
      }
      break;
  }
  return HEG_STATUS_OK;
}

/* The whole authorization of an order (hardened.h, step 2), from the
 * request's bytes (parsed here into *order): its fields, check_order, every
 * signature verified (proof, from heg_sigset_verify), its signers entitled
 * to it, and for a resume no pause newer than it. *workload: for a pause or
 * resume, the entry of the workload in force, read here. G-pause: a pause
 * holds the workload until a resume by the inspector who paused or a board
 * quorum, issued no earlier than the pause. */
static heg_status_t order_authorization(heg_ctx_t *ctx, const uint8_t *payload, size_t len,
                                        uint32_t proof, heg_order_t *order,
                                        heg_workload_t *workload, heg_hbool_t *granted) {
  const uint8_t *inspector = ctx->ps.inspector_key;
  heg_hbool_t resume_while_paused = HEG_HFALSE;
  *granted = HEG_HFALSE;
  HEG_TRY(parse_order(payload, len, order));
  HEG_TRY(check_order(ctx, payload, order));
  if (heg_sigset_proven(&order->sigs, proof) != HEG_HTRUE) {
    return HEG_STATUS_SIGNATURE_INVALID;
  }
  if (order->kind == HEG_ORDER_KIND_PAUSE || order->kind == HEG_ORDER_KIND_RESUME) {
    HEG_TRY(heg_workload_read(ctx, ctx->ps.workload_slot, workload));
    if (order->kind == HEG_ORDER_KIND_RESUME && workload->paused != HEG_HFALSE) {
      resume_while_paused = HEG_HTRUE;
      inspector = workload->pauser;
    }
  }
  HEG_TRY(check_signers(ctx, order, inspector));
  if (resume_while_paused == HEG_HTRUE && order->issued_at < workload->pause_issued_at) {
    return HEG_STATUS_PAUSE_IS_NEWER;
  }
  *granted = HEG_HTRUE;
  return HEG_STATUS_OK;
}

/* Applies an authorized order to ctx->ps; a pause or resume changes the
 * workload's entry, staged in scratch. */
static heg_status_t apply(heg_ctx_t *ctx, const heg_order_t *order, heg_workload_t *workload,
                          uint8_t *scratch, size_t cap) {
  switch (order->kind) {
    case HEG_ORDER_KIND_PAUSE:
      /* An older pause delivered late adds nothing to a newer one. */
      if (workload->paused == HEG_HFALSE || order->issued_at >= workload->pause_issued_at) {
        workload->paused = HEG_HTRUE;
        workload->pause_issued_at = order->issued_at;
        memcpy(workload->pauser, ctx->ps.inspector_key, HEG_KEY_SIZE);
      }
      ctx->ps.paused = HEG_HTRUE;
      break;
    case HEG_ORDER_KIND_RESUME:
      workload->paused = HEG_HFALSE;
      workload->pause_issued_at = 0u;
      memset(workload->pauser, 0, HEG_KEY_SIZE);
      ctx->ps.paused = HEG_HFALSE;
      break;
    case HEG_ORDER_KIND_HALT:
      ctx->ps.halted = HEG_HTRUE;
      break;
    case HEG_ORDER_KIND_LIFT_HALT:
      ctx->ps.halted = HEG_HFALSE;
      break;
    case HEG_ORDER_KIND_RELEASE_OVERSIGHT:
      ctx->ps.allocation = heg_u128_add(ctx->ps.allocation, ctx->ps.oversight_reserved);
      ctx->ps.oversight_reserved = heg_u128_zero();
      ctx->ps.exhausted_logged = HEG_HFALSE; /* the true end is logged again */
      break;
    default: /* HEG_ORDER_KIND_REVOKE */
      if (ctx->ps.license_active == HEG_HTRUE &&
          heg_bytes_equal(order->license_id, ctx->ps.license_id, HEG_ID_SIZE) == HEG_HTRUE) {
        ctx->ps.license_revoked = HEG_HTRUE;
      }
      /* Renewals signed in advance, up to the floor, are refused as replays. */
      if (order->license_floor > ctx->ps.license_floor) {
        ctx->ps.license_floor = order->license_floor;
      }
      break;
  }
  if (order->kind == HEG_ORDER_KIND_PAUSE || order->kind == HEG_ORDER_KIND_RESUME) {
    return heg_store_stage_workload(ctx, workload, scratch, cap);
  }
  return HEG_STATUS_OK;
}

heg_status_t heg_cmd_order(heg_ctx_t *ctx, const uint8_t *payload, size_t len, uint8_t *out,
                           size_t cap, size_t *out_len) {
  heg_order_t order;
  heg_keylist_t revoked;
  heg_workload_t workload;
  uint32_t proof = 0u;
  heg_hbool_t first = HEG_HFALSE;
  heg_hbool_t second = HEG_HFALSE;
  uint8_t event[2u + 8u + HEG_ID_SIZE];
  heg_status_t status;

  *out_len = 0;
  if (ctx->ps.device_state != HEG_DEVICE_STATE_PROVISIONED) {
    return HEG_STATUS_WRONG_STATE;
  }
  HEG_TRY(parse_order(payload, len, &order));
  HEG_TRY(check_order(ctx, payload, &order));
  /* A restricting order stays out of the lockout (neither refused, counted
   * nor clearing the count): a stranger's bad records must not keep a pause
   * out, and a refused one writes nothing, so it wears no flash. */
  if (order.restrictive != HEG_HTRUE) {
    HEG_TRY(heg_lockout_begin(ctx));
  }
  heg_policy_keys(ctx, HEG_KEYS_REVOKED, &revoked);
  HEG_TRY(heg_sigset_verify(ctx, &order.sigs, HEG_DOMAIN_ORDER, HEG_DOMAIN_ORDER_LEN, payload,
                            HEG_ORDER_BODY_SIZE, &revoked, NULL, out, cap, &proof));
  HEG_TRY(order_authorization(ctx, payload, len, proof, &order, &workload, &first));
  HEG_HARDENED_CHECK_TRUE(first);
  HEG_HARDENED_RECHECK(order_authorization(ctx, payload, len, proof, &order, &workload, &second),
                       second);
  status = apply(ctx, &order, &workload, out, cap);
  if (status != HEG_STATUS_OK) {
    heg_store_rollback(ctx); /* apply may have changed ctx->ps before refusing */
    return status;
  }
  ctx->ps.order_sequence[order.role - 1u] = order.sequence;
  if (order.restrictive != HEG_HTRUE) {
    heg_lockout_clear(ctx);
  }
  event[0] = (uint8_t)order.kind;
  event[1] = (uint8_t)order.role;
  heg_store_u64(event + 2u, order.sequence);
  memcpy(event + 10u, order.license_id, HEG_ID_SIZE);
  status = heg_log_append(ctx, HEG_EVENT_ORDER_APPLIED, event, sizeof(event));
  HEG_TRY(heg_store_finish(ctx, status));
  return heg_meter_arm(ctx);
}
