/* Workload licenses: the strict parser and INSTALL_LICENSE. */
#include <string.h>

#include "codec.h"
#include "heg/heg_crypto.h"
#include "internal.h"

HEG_STATIC_ASSERT(sizeof(HEG_DOMAIN_LICENSE) == HEG_DOMAIN_LICENSE_LEN, license_domain_len);

#define HEG_LICENSE_MIN_SIZE (HEG_LICENSE_BODY_SIZE + 1u)

/* heg_license_t.signatures points at the wire entries themselves: the struct
 * must be exactly an entry's bytes, with byte alignment. */
typedef struct {
  uint8_t pad;
  heg_signature_entry_t entry;
} heg_entry_alignment_probe_t;
HEG_STATIC_ASSERT(sizeof(heg_signature_entry_t) == HEG_SIGNATURE_ENTRY_SIZE, entry_size);
HEG_STATIC_ASSERT(offsetof(heg_signature_entry_t, signer) == HEG_SIGNATURE_ENTRY_SIGNER_OFF,
                  entry_signer_off);
HEG_STATIC_ASSERT(offsetof(heg_signature_entry_t, signature) ==
                      HEG_SIGNATURE_ENTRY_SIGNATURE_OFF,
                  entry_signature_off);
HEG_STATIC_ASSERT(offsetof(heg_entry_alignment_probe_t, entry) == 1u, entry_byte_aligned);

static heg_status_t check_fields(const heg_license_t *lic) {
  uint32_t i;
  heg_hbool_t no_inspector;
  if (lic->license_class != HEG_LICENSE_CLASS_STANDARD &&
      lic->license_class != HEG_LICENSE_CLASS_FRONTIER &&
      lic->license_class != HEG_LICENSE_CLASS_HORIZON) {
    return HEG_STATUS_RECORD_FIELD;
  }
  if (lic->workload_kind != HEG_WORKLOAD_KIND_PRE_TRAINING &&
      lic->workload_kind != HEG_WORKLOAD_KIND_FINE_TUNING &&
      lic->workload_kind != HEG_WORKLOAD_KIND_INFERENCE) {
    return HEG_STATUS_RECORD_FIELD;
  }
  if (lic->oversight_ppm > HEG_OVERSIGHT_PPM_MAX || lic->not_before > lic->not_after ||
      heg_u128_is_zero(lic->allocation_msflop)) {
    return HEG_STATUS_RECORD_FIELD;
  }
  /* The class follows from the declared total: the grant may not exceed it. */
  if (heg_u128_cmp(lic->allocation_msflop, lic->workload_total_msflop) > 0) {
    return HEG_STATUS_ALLOCATION_EXCEEDS_TOTAL;
  }
  no_inspector = heg_bytes_zero(lic->inspector_key, HEG_KEY_SIZE);
  if ((lic->license_class == HEG_LICENSE_CLASS_STANDARD) != (no_inspector == HEG_HTRUE)) {
    return HEG_STATUS_RECORD_FIELD;
  }
  for (i = 1; i < lic->signature_count; ++i) {
    if (memcmp(lic->signatures[i - 1u].signer, lic->signatures[i].signer, HEG_KEY_SIZE) >= 0) {
      return HEG_STATUS_RECORD_FIELD;
    }
  }
  return HEG_STATUS_OK;
}

heg_status_t heg_license_parse(const uint8_t *data, size_t len, heg_license_t *out) {
  heg_license_t *lic = out;
  uint32_t count;

  if (data == NULL || out == NULL) {
    return HEG_STATUS_BAD_REQUEST;
  }
  HEG_TRY(heg_check_record_header(data, len, HEG_RECORD_LICENSE));
  if (len < HEG_LICENSE_MIN_SIZE) {
    return HEG_STATUS_RECORD_LENGTH;
  }
  /* Length before the count's range, in the order the spec (openheg.wire)
   * reads the bytes, so both sides give the same status for any input. */
  count = data[HEG_LICENSE_BODY_SIZE];
  if (len != HEG_LICENSE_MIN_SIZE + (size_t)count * HEG_SIGNATURE_ENTRY_SIZE) {
    return HEG_STATUS_RECORD_LENGTH;
  }
  if (count < 1u || count > HEG_MAX_LICENSE_SIGNATURES) {
    return HEG_STATUS_RECORD_FIELD;
  }

  /* Parsed into *out directly (no second copy on the stack). */
  memset(lic, 0, sizeof(*lic));
  memcpy(lic->license_id, data + HEG_LICENSE_LICENSE_ID_OFF, HEG_LICENSE_LICENSE_ID_LEN);
  memcpy(lic->device_id, data + HEG_LICENSE_DEVICE_ID_OFF, HEG_LICENSE_DEVICE_ID_LEN);
  memcpy(lic->workload_id, data + HEG_LICENSE_WORKLOAD_ID_OFF, HEG_LICENSE_WORKLOAD_ID_LEN);
  lic->sequence = heg_load_u64(data + HEG_LICENSE_SEQUENCE_OFF);
  lic->allocation_msflop = heg_load_u128(data + HEG_LICENSE_ALLOCATION_MSFLOP_OFF);
  lic->workload_total_msflop = heg_load_u128(data + HEG_LICENSE_WORKLOAD_TOTAL_MSFLOP_OFF);
  lic->lineage_msflop = heg_load_u128(data + HEG_LICENSE_LINEAGE_MSFLOP_OFF);
  lic->not_before = heg_load_u64(data + HEG_LICENSE_NOT_BEFORE_OFF);
  lic->not_after = heg_load_u64(data + HEG_LICENSE_NOT_AFTER_OFF);
  lic->license_class = data[HEG_LICENSE_LICENSE_CLASS_OFF];
  lic->workload_kind = data[HEG_LICENSE_WORKLOAD_KIND_OFF];
  lic->oversight_ppm = heg_load_u32(data + HEG_LICENSE_OVERSIGHT_PPM_OFF);
  memcpy(lic->inspector_key, data + HEG_LICENSE_INSPECTOR_KEY_OFF, HEG_LICENSE_INSPECTOR_KEY_LEN);
  lic->signature_count = count;
  lic->signatures = (const heg_signature_entry_t *)(const void *)(data + HEG_LICENSE_MIN_SIZE);
  return check_fields(lic);
}

/* Binding to this device, replay and validity window (on trusted time). */
static heg_status_t check_binding(heg_ctx_t *ctx, const heg_license_t *lic) {
  if (heg_bytes_equal(lic->device_id, ctx->device_pk, HEG_KEY_SIZE) != HEG_HTRUE) {
    return HEG_STATUS_WRONG_DEVICE;
  }
  if (lic->sequence <= ctx->ps.license_floor) {
    return HEG_STATUS_REPLAYED;
  }
  if (lic->sequence - ctx->ps.license_floor > HEG_MAX_SEQUENCE_JUMP) {
    return HEG_STATUS_SEQUENCE_JUMP;
  }
  return heg_time_window_check(ctx, lic->not_before, lic->not_after);
}

/* F or H on the earliest day trusted time allows (day 0, i.e. the base
 * value, without trusted time, whose lower bound is 0): thresholds only rise,
 * so this is strictest. */
static heg_u128_t threshold_on(heg_u128_t base, heg_u128_t daily, uint32_t epoch_day,
                               uint64_t day) {
  if (day <= epoch_day) {
    return base;
  }
  return heg_u128_add(base, heg_u128_mul_u64(daily, day - epoch_day));
}

uint32_t heg_license_required_class(heg_ctx_t *ctx, const heg_license_t *lic) {
  heg_time_bounds_t t;
  const heg_policy_t *p = &ctx->ps.policy;
  heg_u128_t compute = heg_u128_add(lic->workload_total_msflop, lic->lineage_msflop);
  uint64_t day;
  heg_time_bounds(ctx, &t);
  day = heg_u64_div_u32(t.lo, 86400u, NULL);
  if (heg_u128_cmp(compute, threshold_on(p->horizon_base, p->horizon_daily_increase,
                                         p->schedule_epoch_day, day)) >= 0) {
    return HEG_LICENSE_CLASS_HORIZON;
  }
  if (heg_u128_cmp(compute, threshold_on(p->frontier_base, p->frontier_daily_increase,
                                         p->schedule_epoch_day, day)) >= 0) {
    return HEG_LICENSE_CLASS_FRONTIER;
  }
  return HEG_LICENSE_CLASS_STANDARD;
}

/* What the class asks of the license before any signature is checked. */
static heg_status_t check_class(heg_ctx_t *ctx, const heg_license_t *lic) {
  const heg_policy_t *p = &ctx->ps.policy;
  heg_keylist_t list;
  heg_hbool_t found = HEG_HFALSE;
  if (lic->license_class < heg_license_required_class(ctx, lic)) {
    return HEG_STATUS_CLASS_TOO_LOW;
  }
  if (lic->license_class != HEG_LICENSE_CLASS_STANDARD) {
    heg_policy_keys(ctx, HEG_KEYS_INSPECTOR, &list);
    HEG_TRY(heg_keylist_has(ctx, &list, lic->inspector_key, &found));
    if (found != HEG_HTRUE) {
      return HEG_STATUS_SIGNER_UNTRUSTED;
    }
    heg_policy_keys(ctx, HEG_KEYS_REVOKED, &list);
    HEG_TRY(heg_keylist_has(ctx, &list, lic->inspector_key, &found));
    if (found != HEG_HFALSE) {
      return HEG_STATUS_KEY_REVOKED;
    }
    if (lic->oversight_ppm < p->oversight_min_ppm) {
      return HEG_STATUS_OVERSIGHT_TOO_LOW;
    }
  }
  return HEG_STATUS_OK;
}

/* The class's signers, in a set heg_sigset_verify verified (every entry
 * valid, none revoked): the issuer; from Frontier the named inspector; for
 * Horizon the board's Horizon quorum and every party representative. Other
 * signers count for nothing. */
static heg_status_t check_signers(heg_ctx_t *ctx, const heg_sigset_t *sigs,
                                  const heg_license_t *lic) {
  heg_hbool_t veto = HEG_HFALSE;
  if (heg_sigset_has(sigs, ctx->ps.policy.issuer_key) != HEG_HTRUE) {
    return HEG_STATUS_SIGNER_UNTRUSTED;
  }
  if (lic->license_class != HEG_LICENSE_CLASS_STANDARD &&
      heg_sigset_has(sigs, lic->inspector_key) != HEG_HTRUE) {
    return HEG_STATUS_SIGNER_UNTRUSTED;
  }
  if (lic->license_class == HEG_LICENSE_CLASS_HORIZON) {
    HEG_TRY(heg_policy_veto_given(ctx, sigs, &veto));
    if (veto != HEG_HTRUE) {
      return HEG_STATUS_QUORUM_NOT_MET;
    }
  }
  return HEG_STATUS_OK;
}

/* The whole authorization of a license (hardened.h, step 2), from the
 * request's bytes (parsed here into *lic): its fields, binding, replay and
 * window, class, every signature verified (proof, from heg_sigset_verify),
 * the class's signers, and its grant to the workload given what the license
 * in force spent. *workload: the workload's entry with this license's grant
 * (not staged). */
static heg_status_t license_authorization(heg_ctx_t *ctx, const uint8_t *payload, size_t len,
                                          uint32_t proof, heg_u128_t spent, heg_license_t *lic,
                                          heg_workload_t *workload, heg_hbool_t *granted) {
  heg_sigset_t sigs;
  heg_hbool_t within = HEG_HFALSE;
  *granted = HEG_HFALSE;
  HEG_TRY(heg_license_parse(payload, len, lic));
  HEG_TRY(check_binding(ctx, lic));
  HEG_TRY(check_class(ctx, lic));
  HEG_TRY(heg_sigset_parse(payload, HEG_LICENSE_BODY_SIZE, len, HEG_MAX_LICENSE_SIGNATURES,
                           &sigs));
  if (heg_sigset_proven(&sigs, proof) != HEG_HTRUE) {
    return HEG_STATUS_SIGNATURE_INVALID;
  }
  HEG_TRY(check_signers(ctx, &sigs, lic));
  HEG_TRY(heg_workload_grant(ctx, lic, spent, NULL, 0u, workload, &within));
  if (within != HEG_HTRUE) {
    return HEG_STATUS_OVER_GRANTED;
  }
  *granted = HEG_HTRUE;
  return HEG_STATUS_OK;
}

/* ceil(allocation * ppm / 10^6), ppm <= 10^6: the oversight reserve
 * (openheg.wire.oversight_reserve_msflop). allocation = q * 10^6 + r is
 * divided 32 bits at a time (each partial dividend stays below 2^52). */
static heg_u128_t oversight_reserve(heg_u128_t allocation, uint32_t ppm) {
  uint32_t limbs[4] = {(uint32_t)(allocation.hi >> 32), (uint32_t)allocation.hi,
                       (uint32_t)(allocation.lo >> 32), (uint32_t)allocation.lo};
  uint32_t rem = 0;
  uint64_t rounded;
  heg_u128_t q;
  uint32_t i;
  for (i = 0; i < 4u; ++i) {
    uint64_t part = ((uint64_t)rem << 32) | limbs[i];
    limbs[i] = (uint32_t)heg_u64_div_u32(part, HEG_OVERSIGHT_PPM_MAX, &rem);
  }
  q.hi = ((uint64_t)limbs[0] << 32) | limbs[1];
  q.lo = ((uint64_t)limbs[2] << 32) | limbs[3];
  q = heg_u128_mul_u64(q, ppm);
  rounded = heg_u64_div_u32((uint64_t)rem * ppm + (HEG_OVERSIGHT_PPM_MAX - 1u),
                            HEG_OVERSIGHT_PPM_MAX, NULL);
  q.lo += rounded;
  q.hi += q.lo < rounded ? 1u : 0u; /* no overflow: the reserve is at most the allocation */
  return q;
}

heg_status_t heg_cmd_install_license(heg_ctx_t *ctx, const uint8_t *payload, size_t len,
                                     uint8_t *out, size_t cap, size_t *out_len) {
  heg_license_t lic;
  heg_sigset_t sigs;
  heg_keylist_t revoked;
  heg_meter_reading_t reading;
  heg_u128_t spent;
  heg_workload_t workload;
  uint32_t proof = 0u;
  heg_hbool_t first = HEG_HFALSE;
  heg_hbool_t second = HEG_HFALSE;
  heg_hbool_t within = HEG_HFALSE;
  uint8_t event[HEG_LICENSE_REPLACED_SIZE]; /* the larger of the two entries logged */
  heg_workload_t outgoing;
  heg_status_t status = HEG_STATUS_OK;

  *out_len = 0;
  if (ctx->ps.device_state != HEG_DEVICE_STATE_PROVISIONED) {
    return HEG_STATUS_WRONG_STATE;
  }
  /* Every check runs before anything changes (but the attempt counter): a
   * refused license leaves the meter and the license state as they were. */
  HEG_TRY(heg_license_parse(payload, len, &lic));
  HEG_TRY(check_binding(ctx, &lic));
  HEG_TRY(check_class(ctx, &lic));
  /* Early, with what the license in force consumed before this boot (the
   * meter untouched): what it consumed in all can only be more, so this
   * refuses no license the decision below grants. */
  HEG_TRY(heg_workload_grant(ctx, &lic, ctx->consumed_base, NULL, 0u, &workload, &within));
  HEG_TRY(heg_lockout_begin(ctx, HEG_LOCKOUT_LICENSE));
  HEG_TRY(heg_sigset_parse(payload, HEG_LICENSE_BODY_SIZE, len, HEG_MAX_LICENSE_SIGNATURES,
                           &sigs));
  heg_policy_keys(ctx, HEG_KEYS_REVOKED, &revoked);
  HEG_TRY(heg_sigset_verify(ctx, &sigs, HEG_DOMAIN_LICENSE, HEG_DOMAIN_LICENSE_LEN, payload,
                            HEG_LICENSE_BODY_SIZE, &revoked, NULL, out, cap, &proof));
  /* The signers before the meter is read: a refused license reads nothing. */
  HEG_TRY(check_signers(ctx, &sigs, &lic));

  /* Decided on the meter's reading (the old license kept running during the
   * signature checks). What it consumed is all it can ever spend: from the
   * reading on, ops count against the new license (acc_base below), and
   * after a reboot everything it was charged counted as consumed. */
  heg_meter_read(ctx, &reading);
  spent = heg_meter_consumed(ctx, &reading);
  HEG_TRY(license_authorization(ctx, payload, len, proof, spent, &lic, &workload, &first));
  HEG_HARDENED_CHECK_TRUE(first);
  HEG_HARDENED_RECHECK(
      license_authorization(ctx, payload, len, proof, spent, &lic, &workload, &second), second);
  /* Granted: the workload's entry staged for the commit this time. */
  within = HEG_HFALSE;
  HEG_TRY(heg_workload_grant(ctx, &lic, spent, out, cap, &workload, &within));
  HEG_HARDENED_CHECK_TRUE(within);
  if (ctx->ps.license_active == HEG_HTRUE) {
    /* G-replaced: the license in force stops here; what it consumed in all is
     * signed (logged, and added to the attested retired total) in this very
     * commit, so a power cut leaves it in force or accounted for, never lost. */
    status = heg_workload_read(ctx, ctx->ps.workload_slot, &outgoing);
    memcpy(event + HEG_LICENSE_REPLACED_LICENSE_ID_OFF, ctx->ps.license_id, HEG_ID_SIZE);
    heg_store_u64(event + HEG_LICENSE_REPLACED_LICENSE_SEQUENCE_OFF, ctx->ps.license_sequence);
    memcpy(event + HEG_LICENSE_REPLACED_WORKLOAD_ID_OFF, outgoing.workload_id, HEG_ID_SIZE);
    heg_store_u128(event + HEG_LICENSE_REPLACED_CONSUMED_MSFLOP_OFF, spent);
    if (status == HEG_STATUS_OK) {
      status = heg_log_append(ctx, HEG_EVENT_LICENSE_REPLACED, event, sizeof(event));
    }
    ctx->ps.retired = heg_u128_add(ctx->ps.retired, spent);
  }
  ctx->ps.license_active = HEG_HTRUE;
  ctx->ps.exhausted_logged = HEG_HFALSE;
  memcpy(ctx->ps.license_id, lic.license_id, HEG_ID_SIZE);
  ctx->ps.license_sequence = lic.sequence;
  ctx->ps.license_floor = lic.sequence;
  ctx->ps.not_before = lic.not_before;
  ctx->ps.not_after = lic.not_after;
  ctx->ps.license_class = (uint8_t)lic.license_class;
  ctx->ps.license_kind = (uint8_t)lic.workload_kind;
  memcpy(ctx->ps.inspector_key, lic.inspector_key, HEG_KEY_SIZE);
  ctx->ps.license_revoked = HEG_HFALSE;
  memcpy(ctx->ps.license_issuer_prefix, ctx->ps.policy.issuer_key, HEG_ISSUER_PREFIX_SIZE);
  /* G-pause: the workload's pause, if any, holds whatever license runs it. */
  ctx->ps.workload_slot = (uint16_t)workload.slot;
  ctx->ps.paused = workload.paused;
  ctx->ps.oversight_reserved = oversight_reserve(lic.allocation_msflop, lic.oversight_ppm);
  ctx->ps.allocation = heg_u128_sub_floor(lic.allocation_msflop, ctx->ps.oversight_reserved);
  ctx->ps.charged = heg_meter_first_charge(ctx, ctx->ps.allocation);
  heg_meter_lane_totals(ctx, &reading, ctx->ps.lane_totals);
  heg_lockout_clear(ctx, HEG_LOCKOUT_LICENSE);
  memcpy(event, lic.license_id, HEG_ID_SIZE);
  heg_store_u64(event + HEG_ID_SIZE, lic.sequence);
  if (status == HEG_STATUS_OK) {
    status = heg_log_append(ctx, HEG_EVENT_LICENSE_INSTALLED, event, HEG_ID_SIZE + 8u);
  }
  HEG_TRY(heg_store_finish(ctx, status));
  /* The new license's consumption starts at zero from here. */
  ctx->consumed_base = heg_u128_zero();
  ctx->acc_base = reading.acc;
  heg_meter_gate_close(ctx); /* re-armed below with the new license's limit */
  return heg_meter_arm(ctx);
}
