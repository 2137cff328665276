/* Workload licenses: the strict parser and INSTALL_LICENSE. */
#include <string.h>

#include "codec.h"
#include "heg/heg_crypto.h"
#include "internal.h"

HEG_STATIC_ASSERT(sizeof(HEG_DOMAIN_LICENSE) == HEG_DOMAIN_LICENSE_LEN, license_domain_len);

#define HEG_LICENSE_MIN_SIZE (HEG_LICENSE_BODY_SIZE + 1u)

static heg_status_t check_fields(const heg_license_t *lic) {
  uint32_t i;
  heg_hbool_t no_inspector;
  if (lic->license_class != HEG_LICENSE_CLASS_STANDARD &&
      lic->license_class != HEG_LICENSE_CLASS_FRONTIER &&
      lic->license_class != HEG_LICENSE_CLASS_HORIZON) {
    return HEG_STATUS_RECORD_FIELD;
  }
  if (lic->oversight_ppm > HEG_OVERSIGHT_PPM_MAX || lic->not_before > lic->not_after ||
      heg_u128_is_zero(lic->allocation_msflop)) {
    return HEG_STATUS_RECORD_FIELD;
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
  heg_license_t lic;
  const uint8_t *entry;
  uint32_t count;
  uint32_t i;

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

  memset(&lic, 0, sizeof(lic));
  memcpy(lic.license_id, data + HEG_LICENSE_LICENSE_ID_OFF, HEG_LICENSE_LICENSE_ID_LEN);
  memcpy(lic.device_id, data + HEG_LICENSE_DEVICE_ID_OFF, HEG_LICENSE_DEVICE_ID_LEN);
  memcpy(lic.workload_id, data + HEG_LICENSE_WORKLOAD_ID_OFF, HEG_LICENSE_WORKLOAD_ID_LEN);
  lic.sequence = heg_load_u64(data + HEG_LICENSE_SEQUENCE_OFF);
  lic.allocation_msflop = heg_load_u128(data + HEG_LICENSE_ALLOCATION_MSFLOP_OFF);
  lic.workload_total_msflop = heg_load_u128(data + HEG_LICENSE_WORKLOAD_TOTAL_MSFLOP_OFF);
  lic.lineage_msflop = heg_load_u128(data + HEG_LICENSE_LINEAGE_MSFLOP_OFF);
  lic.not_before = heg_load_u64(data + HEG_LICENSE_NOT_BEFORE_OFF);
  lic.not_after = heg_load_u64(data + HEG_LICENSE_NOT_AFTER_OFF);
  lic.license_class = data[HEG_LICENSE_LICENSE_CLASS_OFF];
  lic.oversight_ppm = heg_load_u32(data + HEG_LICENSE_OVERSIGHT_PPM_OFF);
  memcpy(lic.inspector_key, data + HEG_LICENSE_INSPECTOR_KEY_OFF, HEG_LICENSE_INSPECTOR_KEY_LEN);
  lic.signature_count = count;
  for (i = 0; i < count; ++i) {
    entry = data + HEG_LICENSE_MIN_SIZE + (size_t)i * HEG_SIGNATURE_ENTRY_SIZE;
    memcpy(lic.signatures[i].signer, entry + HEG_SIGNATURE_ENTRY_SIGNER_OFF,
           HEG_SIGNATURE_ENTRY_SIGNER_LEN);
    memcpy(lic.signatures[i].signature, entry + HEG_SIGNATURE_ENTRY_SIGNATURE_OFF,
           HEG_SIGNATURE_ENTRY_SIGNATURE_LEN);
  }
  HEG_TRY(check_fields(&lic));
  *out = lic;
  return HEG_STATUS_OK;
}

/* Binding to this device, replay and validity window. */
static heg_status_t check_binding(heg_ctx_t *ctx, const heg_license_t *lic) {
  uint64_t now;
  if (heg_bytes_equal(lic->device_id, ctx->device_pk, HEG_KEY_SIZE) != HEG_HTRUE) {
    return HEG_STATUS_WRONG_DEVICE;
  }
  if (lic->sequence <= ctx->ps.license_sequence) {
    return HEG_STATUS_REPLAYED;
  }
  if (lic->sequence - ctx->ps.license_sequence > HEG_MAX_SEQUENCE_JUMP) {
    return HEG_STATUS_SEQUENCE_JUMP;
  }
  now = heg_hal_time_now(ctx->hal);
  if (now < lic->not_before) {
    return HEG_STATUS_NOT_YET_VALID;
  }
  if (now > lic->not_after) {
    return HEG_STATUS_EXPIRED;
  }
  return HEG_STATUS_OK;
}

/* Every entry must verify; at least one signer must be the trusted issuer. */
static heg_status_t check_signatures(heg_ctx_t *ctx, const uint8_t *body,
                                     const heg_license_t *lic, heg_hbool_t *all_valid,
                                     heg_hbool_t *trusted) {
  uint8_t msg[HEG_DOMAIN_LICENSE_LEN + HEG_LICENSE_BODY_SIZE];
  heg_hbool_t valid;
  heg_hbool_t found = HEG_HFALSE;
  uint32_t i;

  *all_valid = HEG_HFALSE;
  *trusted = HEG_HFALSE;
  memcpy(msg, HEG_DOMAIN_LICENSE, HEG_DOMAIN_LICENSE_LEN);
  memcpy(msg + HEG_DOMAIN_LICENSE_LEN, body, HEG_LICENSE_BODY_SIZE);
  for (i = 0; i < lic->signature_count; ++i) {
    valid = HEG_HFALSE;
    HEG_TRY(heg_crypto_ed25519_verify(lic->signatures[i].signature, msg, sizeof(msg),
                                      lic->signatures[i].signer, &valid));
    if (valid != HEG_HTRUE) {
      return HEG_STATUS_SIGNATURE_INVALID;
    }
  }
  for (i = 0; i < lic->signature_count; ++i) {
    if (heg_bytes_equal(lic->signatures[i].signer, ctx->ps.issuer_key, HEG_KEY_SIZE) ==
        HEG_HTRUE) {
      found = HEG_HTRUE;
    }
  }
  if (found != HEG_HTRUE) {
    return HEG_STATUS_SIGNER_UNTRUSTED;
  }
  *all_valid = HEG_HTRUE;
  *trusted = found;
  return HEG_STATUS_OK;
}

heg_status_t heg_cmd_install_license(heg_ctx_t *ctx, const uint8_t *payload, size_t len,
                                     uint8_t *out, size_t cap, size_t *out_len) {
  heg_license_t lic;
  heg_persistent_t next;
  heg_meter_reading_t reading;
  heg_hbool_t all_valid = HEG_HFALSE;
  heg_hbool_t trusted = HEG_HFALSE;
  uint8_t event[HEG_ID_SIZE + 8u];
  heg_status_t status;

  (void)out;
  (void)cap;
  *out_len = 0;
  if (ctx->ps.device_state != HEG_DEVICE_STATE_PROVISIONED) {
    return HEG_STATUS_WRONG_STATE;
  }
  /* Every check runs before anything changes: a refused license leaves the
   * flash, the RAM state and the meter exactly as they were. */
  HEG_TRY(heg_license_parse(payload, len, &lic));
  HEG_TRY(check_binding(ctx, &lic));
  HEG_TRY(check_signatures(ctx, payload, &lic, &all_valid, &trusted));
  if (all_valid != HEG_HTRUE || trusted != HEG_HTRUE) {
    return HEG_STATUS_SIGNATURE_INVALID;
  }

  heg_meter_read(ctx, &reading);
  next = ctx->ps;
  next.license_active = HEG_HTRUE;
  next.exhausted_logged = HEG_HFALSE;
  memcpy(next.license_id, lic.license_id, HEG_ID_SIZE);
  next.license_sequence = lic.sequence;
  next.allocation = lic.allocation_msflop;
  next.charged = heg_meter_chunk(lic.allocation_msflop);
  heg_meter_lane_totals(ctx, &reading, next.lane_totals);
  memcpy(event, lic.license_id, HEG_ID_SIZE);
  heg_store_u64(event + HEG_ID_SIZE, lic.sequence);
  status = heg_log_append(&next, HEG_EVENT_LICENSE_INSTALLED, event, sizeof(event));
  if (status == HEG_STATUS_OK) {
    volatile heg_hbool_t recheck_valid = all_valid;
    volatile heg_hbool_t recheck_trusted = trusted;
    status = (recheck_valid == HEG_HTRUE && recheck_trusted == HEG_HTRUE)
                 ? heg_store_commit(ctx, &next)
                 : HEG_STATUS_FAULT_DETECTED;
  }
  heg_crypto_wipe(&next, sizeof(next));
  HEG_TRY(status);
  /* The new license's consumption starts at zero from here. */
  ctx->consumed_base = heg_u128_zero();
  ctx->acc_base = reading.acc;
  ctx->gate_requested = HEG_HFALSE;
  return heg_meter_arm(ctx);
}
