/* ORDER: an inspector's pause of a workload and its resume, a board's
 * resume, halt and lift-halt, the issuer's or the board's revocation of a
 * license, the inspector's release of the oversight reserve of the license in
 * force.
 * The body names its signer role; each role has its own anti-replay state,
 * so no role can void another's order. An order that grants needs a sequence
 * above its role's highest; one that only restricts is also taken below it,
 * once, within HEG_ORDER_REPLAY_WINDOW, so that no later order of its role
 * voids it either (G11). issued_at is held against trusted time; orders that
 * only restrict are accepted without it and during a lockout (fail closed:
 * the operator must not be able to keep a pause out). A pause binds the
 * workload it names (its entry in the workload table), whatever license runs,
 * so no license swap voids it (G10). Each applied order is logged and moves
 * the gate at once.
 * A fleet order (G18: the board's universal cut-off) is a HALT or LIFT_HALT
 * that names no device but the digest of a policy: every device under that
 * policy takes it from a board quorum of it, a device under another refuses
 * it. It has its own anti-replay (a sequence above the highest taken under
 * the policy in force) and its own halt, which only a fleet LIFT_HALT ends:
 * no per-device order, however signed, lifts it. */
#include <string.h>

#include "codec.h"
#include "heg/heg_crypto.h"
#include "internal.h"

HEG_STATIC_ASSERT(sizeof(HEG_DOMAIN_ORDER) == HEG_DOMAIN_ORDER_LEN, order_domain_len);
/* The window is one 64-bit word per role (heg_persistent_t.order_window). */
HEG_STATIC_ASSERT(HEG_ORDER_REPLAY_WINDOW == 64u, order_window_is_one_word);

static const uint8_t k_kind_roles[] = HEG_ORDER_KIND_ROLES;

typedef struct {
  uint32_t kind;
  uint32_t role;
  uint8_t license_id[HEG_ID_SIZE];   /* REVOKE, RELEASE_OVERSIGHT */
  uint64_t license_sequence;         /* RELEASE_OVERSIGHT */
  uint8_t workload_id[HEG_ID_SIZE];  /* PAUSE, RESUME */
  uint64_t sequence;
  uint64_t issued_at;
  uint64_t license_floor; /* REVOKE: the license sequence floor it raises to */
  heg_hbool_t restrictive;
  heg_hbool_t names_workload;
  heg_hbool_t fleet; /* names a policy digest, no device */
  heg_sigset_t sigs;
} heg_order_t;

/* Whether bit kind of mask is set, as a hardened boolean. */
static heg_hbool_t kind_in(uint32_t mask, uint32_t kind) {
  return (mask & (1u << kind)) != 0u ? HEG_HTRUE : HEG_HFALSE;
}

static heg_status_t parse_order(const uint8_t *data, size_t len, heg_order_t *out) {
  heg_hbool_t names_license;
  heg_hbool_t no_license;
  heg_hbool_t no_workload;
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
  out->license_sequence = heg_load_u64(data + HEG_ORDER_LICENSE_SEQUENCE_OFF);
  memcpy(out->workload_id, data + HEG_ORDER_WORKLOAD_ID_OFF, HEG_ID_SIZE);
  out->sequence = heg_load_u64(data + HEG_ORDER_SEQUENCE_OFF);
  out->issued_at = heg_load_u64(data + HEG_ORDER_ISSUED_AT_OFF);
  out->license_floor = heg_load_u64(data + HEG_ORDER_LICENSE_SEQUENCE_FLOOR_OFF);
  out->restrictive = kind_in(HEG_ORDER_KINDS_RESTRICTIVE, out->kind);
  out->names_workload = kind_in(HEG_ORDER_KINDS_NAMING_A_WORKLOAD, out->kind);
  out->fleet = heg_bytes_zero(data + HEG_ORDER_POLICY_DIGEST_OFF, HEG_DIGEST_SIZE) == HEG_HTRUE
                   ? HEG_HFALSE
                   : HEG_HTRUE;
  /* A fleet order is the board's halt or lift-halt and names no device. */
  if (out->fleet == HEG_HTRUE &&
      (kind_in(HEG_ORDER_KINDS_FLEET, out->kind) != HEG_HTRUE ||
       out->role != HEG_SIGNER_ROLE_BOARD ||
       heg_bytes_zero(data + HEG_ORDER_DEVICE_ID_OFF, HEG_KEY_SIZE) != HEG_HTRUE)) {
    return HEG_STATUS_RECORD_FIELD;
  }
  names_license = kind_in(HEG_ORDER_KINDS_NAMING_A_LICENSE, out->kind);
  no_license = heg_bytes_zero(out->license_id, HEG_ID_SIZE);
  no_workload = heg_bytes_zero(out->workload_id, HEG_ID_SIZE);
  /* Exactly what the kind acts on is named, nothing else. */
  if ((names_license == HEG_HTRUE) == (no_license == HEG_HTRUE) ||
      (out->names_workload == HEG_HTRUE) == (no_workload == HEG_HTRUE) ||
      (out->kind == HEG_ORDER_KIND_RELEASE_OVERSIGHT) != (out->license_sequence != 0u) ||
      (out->kind != HEG_ORDER_KIND_REVOKE && out->license_floor != 0u)) {
    return HEG_STATUS_RECORD_FIELD;
  }
  return HEG_STATUS_OK;
}

/* The order's sequence against its role's anti-replay state: above the
 * highest (a bounded jump), or, for an order that only restricts, one of the
 * HEG_ORDER_REPLAY_WINDOW sequences below it not accepted yet. An order that
 * grants below the highest stays refused: a later order of its role
 * supersedes it. */
static heg_status_t check_sequence(const heg_ctx_t *ctx, const heg_order_t *order) {
  uint64_t highest = order->fleet == HEG_HTRUE ? ctx->ps.fleet_order_sequence
                                               : ctx->ps.order_sequence[order->role - 1u];
  uint64_t age;
  if (order->sequence > highest) {
    return order->sequence - highest > HEG_MAX_SEQUENCE_JUMP ? HEG_STATUS_SEQUENCE_JUMP
                                                             : HEG_STATUS_OK;
  }
  /* A fleet order has no window: the board's latest one is the one that
   * counts (a halt it supersedes was a halt or its lift). */
  if (order->restrictive != HEG_HTRUE || order->fleet != HEG_HFALSE ||
      order->sequence == highest || order->sequence == 0u) {
    return HEG_STATUS_REPLAYED;
  }
  age = highest - order->sequence;
  if (age > HEG_ORDER_REPLAY_WINDOW) {
    return HEG_STATUS_OUTSIDE_REPLAY_WINDOW;
  }
  if ((ctx->ps.order_window[order->role - 1u] & ((uint64_t)1u << (age - 1u))) != 0u) {
    return HEG_STATUS_REPLAYED;
  }
  return HEG_STATUS_OK;
}

/* Records the order's sequence as accepted (check_sequence passed). */
static void accept_sequence(heg_ctx_t *ctx, const heg_order_t *order) {
  uint64_t *highest = &ctx->ps.order_sequence[order->role - 1u];
  uint64_t *window = &ctx->ps.order_window[order->role - 1u];
  uint64_t shift;
  if (order->fleet == HEG_HTRUE) {
    ctx->ps.fleet_order_sequence = order->sequence; /* above the highest: no window */
    return;
  }
  if (order->sequence > *highest) {
    shift = order->sequence - *highest;
    *window = shift >= HEG_ORDER_REPLAY_WINDOW ? 0u : *window << shift;
    if (*highest != 0u && shift <= HEG_ORDER_REPLAY_WINDOW) {
      *window |= (uint64_t)1u << (shift - 1u); /* the old highest */
    }
    *highest = order->sequence;
  } else {
    *window |= (uint64_t)1u << (*highest - order->sequence - 1u);
  }
}

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
 * device (a fleet order: for the policy in force), a sequence its role's anti-replay state takes (the revocation
 * floor it raises within reach), for a release of the oversight reserve the
 * license in force by id and sequence, and issued_at within trusted time. */
static heg_status_t check_order(heg_ctx_t *ctx, const uint8_t *payload,
                                const heg_order_t *order) {
  if (order->fleet != HEG_HFALSE) {
    if (heg_bytes_equal(payload + HEG_ORDER_POLICY_DIGEST_OFF, ctx->ps.policy.digest,
                        HEG_DIGEST_SIZE) != HEG_HTRUE) {
      return HEG_STATUS_WRONG_POLICY;
    }
  } else if (heg_bytes_equal(payload + HEG_ORDER_DEVICE_ID_OFF, ctx->device_pk, HEG_KEY_SIZE) !=
             HEG_HTRUE) {
    return HEG_STATUS_WRONG_DEVICE;
  }
  HEG_TRY(check_sequence(ctx, order));
  if (order->license_floor > ctx->ps.license_floor &&
      order->license_floor - ctx->ps.license_floor > HEG_MAX_SEQUENCE_JUMP) {
    return HEG_STATUS_SEQUENCE_JUMP;
  }
  /* A renewal that keeps the license id is another license: its reserve is
   * released by an order naming its sequence (review finding 7). */
  if (order->kind == HEG_ORDER_KIND_RELEASE_OVERSIGHT &&
      (ctx->ps.license_active != HEG_HTRUE ||
       heg_bytes_equal(order->license_id, ctx->ps.license_id, HEG_ID_SIZE) != HEG_HTRUE ||
       order->license_sequence != ctx->ps.license_sequence)) {
    return HEG_STATUS_WRONG_STATE;
  }
  return check_issued_at(ctx, order);
}

/* The first inspector the policy in force lists who signed the order. */
static heg_status_t listed_inspector(heg_ctx_t *ctx, const heg_sigset_t *sigs,
                                     uint8_t signer[HEG_KEY_SIZE]) {
  heg_keylist_t inspectors;
  uint32_t i;
  heg_policy_keys(ctx, HEG_KEYS_INSPECTOR, &inspectors);
  for (i = 0; i < inspectors.count; ++i) {
    HEG_TRY(heg_keylist_key(ctx, &inspectors, i, signer));
    if (heg_sigset_has(sigs, signer) == HEG_HTRUE) {
      return HEG_STATUS_OK;
    }
  }
  memset(signer, 0, HEG_KEY_SIZE);
  return HEG_STATUS_SIGNER_UNTRUSTED;
}

/* Whether the order's signers are the role it names, as that role is entitled
 * to this order under the policy in force: an inspector (entitled: the one
 * inspector the order needs, the license's for a release, the one who paused
 * for a resume of a paused workload; NULL: any the policy lists, for a pause,
 * so that no license swap or unlicensed moment of the workload keeps a pause
 * out), a board quorum, or the issuer. *inspector: the inspector who signed. */
static heg_status_t check_signers(heg_ctx_t *ctx, const heg_order_t *order,
                                  const uint8_t *entitled, uint8_t inspector[HEG_KEY_SIZE]) {
  heg_keylist_t board;
  uint32_t signers = 0;
  memset(inspector, 0, HEG_KEY_SIZE);
  switch (order->role) {
    case HEG_SIGNER_ROLE_INSPECTOR:
      if (entitled == NULL) {
        return listed_inspector(ctx, &order->sigs, inspector);
      }
      if (heg_bytes_zero(entitled, HEG_KEY_SIZE) == HEG_HTRUE ||
          heg_sigset_has(&order->sigs, entitled) != HEG_HTRUE) {
        return HEG_STATUS_SIGNER_UNTRUSTED;
      }
      memcpy(inspector, entitled, HEG_KEY_SIZE);
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
 * resume, the entry of the workload it names (for a pause of a workload the
 * table does not hold, a new entry in a free slot), read here; *inspector:
 * the inspector who signed. G-pause: a pause holds the workload until a
 * resume by the inspector who paused or a board quorum, issued no earlier
 * than the pause. */
static heg_status_t order_authorization(heg_ctx_t *ctx, const uint8_t *payload, size_t len,
                                        uint32_t proof, heg_order_t *order,
                                        heg_workload_t *workload,
                                        uint8_t inspector[HEG_KEY_SIZE], heg_hbool_t *granted) {
  const uint8_t *entitled = NULL;
  heg_hbool_t known = HEG_HFALSE;
  heg_hbool_t resume_while_paused = HEG_HFALSE;
  *granted = HEG_HFALSE;
  HEG_TRY(parse_order(payload, len, order));
  HEG_TRY(check_order(ctx, payload, order));
  if (heg_sigset_proven(&order->sigs, proof) != HEG_HTRUE) {
    return HEG_STATUS_SIGNATURE_INVALID;
  }
  if (order->kind == HEG_ORDER_KIND_RELEASE_OVERSIGHT) {
    entitled = ctx->ps.inspector_key;
  }
  if (order->names_workload == HEG_HTRUE) {
    HEG_TRY(heg_workload_find(ctx, order->workload_id, workload, &known));
    if (order->kind == HEG_ORDER_KIND_RESUME) {
      if (known != HEG_HTRUE) {
        return HEG_STATUS_WRONG_STATE; /* no pause to lift */
      }
      if (workload->paused != HEG_HFALSE) {
        resume_while_paused = HEG_HTRUE;
        entitled = workload->pauser;
      }
    }
  }
  HEG_TRY(check_signers(ctx, order, entitled, inspector));
  if (resume_while_paused == HEG_HTRUE && order->issued_at < workload->pause_issued_at) {
    return HEG_STATUS_PAUSE_IS_NEWER;
  }
  *granted = HEG_HTRUE;
  return HEG_STATUS_OK;
}

/* Applies an authorized order to ctx->ps; a pause or resume changes the
 * workload's entry, staged in scratch, and the gate's pause if that workload
 * is the one in force. */
static heg_status_t apply(heg_ctx_t *ctx, const heg_order_t *order, heg_workload_t *workload,
                          const uint8_t inspector[HEG_KEY_SIZE], uint8_t *scratch,
                          size_t cap) {
  switch (order->kind) {
    case HEG_ORDER_KIND_PAUSE:
      /* An older pause delivered late adds nothing to a newer one. One
       * delivered after a resume pauses again: it only restricts. */
      if (workload->paused == HEG_HFALSE || order->issued_at >= workload->pause_issued_at) {
        workload->paused = HEG_HTRUE;
        workload->pause_issued_at = order->issued_at;
        memcpy(workload->pauser, inspector, HEG_KEY_SIZE);
      }
      break;
    case HEG_ORDER_KIND_RESUME:
      workload->paused = HEG_HFALSE;
      workload->pause_issued_at = 0u;
      memset(workload->pauser, 0, HEG_KEY_SIZE);
      break;
    case HEG_ORDER_KIND_HALT:
      if (order->fleet != HEG_HFALSE) {
        ctx->ps.fleet_halted = HEG_HTRUE;
      } else {
        ctx->ps.halted = HEG_HTRUE;
      }
      break;
    case HEG_ORDER_KIND_LIFT_HALT:
      /* Each lift ends only its own kind of halt. */
      if (order->fleet == HEG_HTRUE) {
        ctx->ps.fleet_halted = HEG_HFALSE;
      } else {
        ctx->ps.halted = HEG_HFALSE;
      }
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
  if (order->names_workload == HEG_HTRUE) {
    if (ctx->ps.license_active == HEG_HTRUE && workload->slot == ctx->ps.workload_slot) {
      ctx->ps.paused = workload->paused;
    }
    return heg_workload_stage(ctx, workload, scratch, cap);
  }
  return HEG_STATUS_OK;
}

heg_status_t heg_cmd_order(heg_ctx_t *ctx, const uint8_t *payload, size_t len, uint8_t *out,
                           size_t cap, size_t *out_len) {
  heg_order_t order;
  heg_keylist_t revoked;
  heg_workload_t workload;
  uint8_t inspector[HEG_KEY_SIZE];
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
    HEG_TRY(heg_lockout_begin(ctx, HEG_LOCKOUT_ORDER));
  }
  heg_policy_keys(ctx, HEG_KEYS_REVOKED, &revoked);
  HEG_TRY(heg_sigset_verify(ctx, &order.sigs, HEG_DOMAIN_ORDER, HEG_DOMAIN_ORDER_LEN, payload,
                            HEG_ORDER_BODY_SIZE, &revoked, NULL, out, cap, &proof));
  HEG_TRY(order_authorization(ctx, payload, len, proof, &order, &workload, inspector, &first));
  HEG_HARDENED_CHECK_TRUE(first);
  HEG_HARDENED_RECHECK(
      order_authorization(ctx, payload, len, proof, &order, &workload, inspector, &second),
      second);
  status = apply(ctx, &order, &workload, inspector, out, cap);
  if (status != HEG_STATUS_OK) {
    heg_store_rollback(ctx); /* apply may have changed ctx->ps before refusing */
    return status;
  }
  /* In the same commit as the order's effect: after a power cut the order is
   * applied and its sequence taken, or neither. */
  accept_sequence(ctx, &order);
  if (order.restrictive != HEG_HTRUE) {
    heg_lockout_clear(ctx, HEG_LOCKOUT_ORDER);
  }
  event[0] = (uint8_t)order.kind;
  event[1] = (uint8_t)order.role;
  heg_store_u64(event + 2u, order.sequence);
  /* The subject: the workload, the license, or a fleet order's policy
   * (its digest's first bytes); zeros for a per-device halt or lift. */
  memcpy(event + 10u,
         order.names_workload == HEG_HTRUE ? order.workload_id
         : order.fleet == HEG_HTRUE        ? payload + HEG_ORDER_POLICY_DIGEST_OFF
                                           : order.license_id,
         HEG_ID_SIZE);
  status = heg_log_append(ctx, HEG_EVENT_ORDER_APPLIED, event, sizeof(event));
  HEG_TRY(heg_store_finish(ctx, status));
  return heg_meter_arm(ctx);
}
