/* Policies: the strict parser, signature sets, the genesis check and
 * INSTALL_POLICY (exactly N -> N+1 by the current board's quorum, and the new
 * board's quorum too when the board changes). */
#include <string.h>

#include "codec.h"
#include "heg/heg_crypto.h"
#include "internal.h"

HEG_STATIC_ASSERT(sizeof(HEG_DOMAIN_POLICY) == HEG_DOMAIN_POLICY_LEN, policy_domain_len);
HEG_STATIC_ASSERT(HEG_POLICY_WEIGHTS_MILLI_LEN == 4u * HEG_LANES, weights_len);

#define HEG_ALL_BASELINES \
  (HEG_BASELINE_METERING | HEG_BASELINE_FAIL_CLOSED | HEG_BASELINE_ATTESTATION)

heg_hbool_t heg_key_in(const uint8_t key[HEG_KEY_SIZE], const uint8_t *keys,
                       uint32_t count) {
  heg_hbool_t found = HEG_HFALSE;
  uint32_t i;
  for (i = 0; i < count; ++i) {
    if (heg_bytes_equal(key, keys + (size_t)i * HEG_KEY_SIZE, HEG_KEY_SIZE) == HEG_HTRUE) {
      found = HEG_HTRUE;
    }
  }
  return found;
}

heg_status_t heg_sigset_parse(const uint8_t *data, size_t off, size_t len, uint32_t max,
                              heg_sigset_t *out) {
  uint32_t count;
  uint32_t i;
  const uint8_t *entries;
  if (off >= len) {
    return HEG_STATUS_RECORD_LENGTH;
  }
  count = data[off];
  if (len - off - 1u != (size_t)count * HEG_SIGNATURE_ENTRY_SIZE) {
    return HEG_STATUS_RECORD_LENGTH;
  }
  if (count < 1u || count > max) {
    return HEG_STATUS_RECORD_FIELD;
  }
  entries = data + off + 1u;
  for (i = 1; i < count; ++i) {
    if (memcmp(entries + (i - 1u) * HEG_SIGNATURE_ENTRY_SIZE + HEG_SIGNATURE_ENTRY_SIGNER_OFF,
               entries + i * HEG_SIGNATURE_ENTRY_SIZE + HEG_SIGNATURE_ENTRY_SIGNER_OFF,
               HEG_KEY_SIZE) >= 0) {
      return HEG_STATUS_RECORD_FIELD;
    }
  }
  out->entries = entries;
  out->count = count;
  return HEG_STATUS_OK;
}

static const uint8_t *signer_of(const heg_sigset_t *sigs, uint32_t i) {
  return sigs->entries + (size_t)i * HEG_SIGNATURE_ENTRY_SIZE + HEG_SIGNATURE_ENTRY_SIGNER_OFF;
}

heg_hbool_t heg_sigset_has(const heg_sigset_t *sigs, const uint8_t key[HEG_KEY_SIZE]) {
  heg_hbool_t found = HEG_HFALSE;
  uint32_t i;
  for (i = 0; i < sigs->count; ++i) {
    if (heg_bytes_equal(signer_of(sigs, i), key, HEG_KEY_SIZE) == HEG_HTRUE) {
      found = HEG_HTRUE;
    }
  }
  return found;
}

uint32_t heg_sigset_count_in(const heg_sigset_t *sigs, const uint8_t *keys,
                             uint32_t count) {
  uint32_t n = 0;
  uint32_t i;
  /* Signers are distinct (strictly sorted), so each counts at most once. */
  for (i = 0; i < sigs->count; ++i) {
    if (heg_key_in(signer_of(sigs, i), keys, count) == HEG_HTRUE) {
      ++n;
    }
  }
  return n;
}

heg_status_t heg_sigset_verify(const heg_sigset_t *sigs, const char *domain, size_t domain_len,
                               const uint8_t *body, size_t body_len, const heg_policy_t *policy,
                               const heg_policy_t *extra, heg_hbool_t *verified) {
  uint8_t msg[HEG_DOMAIN_ATTESTATION_LEN + HEG_MAX_MESSAGE_SIZE];
  heg_hbool_t valid;
  uint32_t i;
  *verified = HEG_HFALSE;
  if (domain_len > HEG_DOMAIN_ATTESTATION_LEN || body_len > HEG_MAX_MESSAGE_SIZE) {
    return HEG_STATUS_BAD_REQUEST;
  }
  for (i = 0; i < sigs->count; ++i) {
    if (heg_key_in(signer_of(sigs, i), policy->revoked_keys[0], policy->revoked_count) != HEG_HFALSE ||
        (extra != NULL &&
         heg_key_in(signer_of(sigs, i), extra->revoked_keys[0], extra->revoked_count) != HEG_HFALSE)) {
      return HEG_STATUS_KEY_REVOKED;
    }
  }
  memcpy(msg, domain, domain_len);
  memcpy(msg + domain_len, body, body_len);
  for (i = 0; i < sigs->count; ++i) {
    valid = HEG_HFALSE;
    HEG_TRY(heg_crypto_ed25519_verify(
        sigs->entries + (size_t)i * HEG_SIGNATURE_ENTRY_SIZE + HEG_SIGNATURE_ENTRY_SIGNATURE_OFF,
        msg, domain_len + body_len, signer_of(sigs, i), &valid));
    if (valid != HEG_HTRUE) {
      return HEG_STATUS_SIGNATURE_INVALID;
    }
  }
  *verified = HEG_HTRUE;
  return HEG_STATUS_OK;
}

/* One key list: u8 count then that many keys, strictly ascending. */
static heg_status_t key_list(const uint8_t *data, size_t len, size_t *pos, uint32_t max,
                             uint8_t *keys, uint32_t *count, heg_status_t *field) {
  uint32_t n;
  uint32_t i;
  if (*pos >= len) {
    return HEG_STATUS_RECORD_LENGTH;
  }
  n = data[*pos];
  *pos += 1u;
  if (len - *pos < (size_t)n * HEG_KEY_SIZE) {
    return HEG_STATUS_RECORD_LENGTH;
  }
  /* Range and order are field rules, checked after the whole length. */
  if (n > max) {
    *field = HEG_STATUS_RECORD_FIELD;
    n = 0;
    *pos += (size_t)data[*pos - 1u] * HEG_KEY_SIZE;
  } else {
    for (i = 0; i < n; ++i) {
      memcpy(keys + (size_t)i * HEG_KEY_SIZE, data + *pos + (size_t)i * HEG_KEY_SIZE,
             HEG_KEY_SIZE);
      if (i > 0 && memcmp(keys + (size_t)(i - 1u) * HEG_KEY_SIZE,
                          keys + (size_t)i * HEG_KEY_SIZE, HEG_KEY_SIZE) >= 0) {
        *field = HEG_STATUS_RECORD_FIELD;
      }
    }
    *pos += (size_t)n * HEG_KEY_SIZE;
  }
  *count = n;
  return HEG_STATUS_OK;
}

static heg_status_t check_policy_fields(const heg_policy_t *p) {
  uint32_t lane;
  if (p->version < 1u || p->board_count == 0u || p->board_threshold < 1u ||
      p->board_threshold > p->board_count || p->horizon_board_threshold < p->board_threshold ||
      p->horizon_board_threshold > p->board_count) {
    return HEG_STATUS_RECORD_FIELD;
  }
  /* Baselines no vote can remove: every bit set, metering weights non-zero. */
  if (p->baselines != HEG_ALL_BASELINES) {
    return HEG_STATUS_RECORD_FIELD;
  }
  for (lane = 0; lane < HEG_LANES; ++lane) {
    if (p->weights_milli[lane] == 0u) {
      return HEG_STATUS_RECORD_FIELD;
    }
  }
  if (heg_u128_cmp(p->horizon_base, p->frontier_base) < 0 ||
      p->oversight_min_ppm > HEG_OVERSIGHT_PPM_MAX || heg_u128_is_zero(p->allowance_chunk) ||
      p->beacon_max_age_s == 0u) {
    return HEG_STATUS_RECORD_FIELD;
  }
  if (heg_key_in(p->issuer_key, p->revoked_keys[0], p->revoked_count) != HEG_HFALSE ||
      heg_key_in(p->time_authority_key, p->revoked_keys[0], p->revoked_count) != HEG_HFALSE) {
    return HEG_STATUS_RECORD_FIELD;
  }
  return HEG_STATUS_OK;
}

heg_status_t heg_policy_parse(const uint8_t *data, size_t len, heg_policy_t *out,
                              size_t *body_len, heg_sigset_t *sigs) {
  heg_status_t field = HEG_STATUS_OK;
  size_t pos;
  uint32_t lane;

  if (data == NULL || out == NULL || body_len == NULL || sigs == NULL) {
    return HEG_STATUS_BAD_REQUEST;
  }
  HEG_TRY(heg_check_record_header(data, len, HEG_RECORD_POLICY));
  /* Lengths first, in the spec's reading order, then the field rules, so host
   * and device give the same status for any bytes. */
  if (len < HEG_POLICY_FIXED_SIZE) {
    return HEG_STATUS_RECORD_LENGTH;
  }
  memset(out, 0, sizeof(*out));
  out->version = heg_load_u32(data + HEG_POLICY_POLICY_VERSION_OFF);
  out->issued_at = heg_load_u64(data + HEG_POLICY_ISSUED_AT_OFF);
  out->board_threshold = data[HEG_POLICY_BOARD_THRESHOLD_OFF];
  out->horizon_board_threshold = data[HEG_POLICY_HORIZON_BOARD_THRESHOLD_OFF];
  memcpy(out->issuer_key, data + HEG_POLICY_ISSUER_KEY_OFF, HEG_KEY_SIZE);
  memcpy(out->time_authority_key, data + HEG_POLICY_TIME_AUTHORITY_KEY_OFF, HEG_KEY_SIZE);
  for (lane = 0; lane < HEG_LANES; ++lane) {
    out->weights_milli[lane] = heg_load_u32(data + HEG_POLICY_WEIGHTS_MILLI_OFF + 4u * lane);
  }
  out->frontier_base = heg_load_u128(data + HEG_POLICY_FRONTIER_BASE_MSFLOP_OFF);
  out->frontier_daily_increase = heg_load_u128(data + HEG_POLICY_FRONTIER_DAILY_INCREASE_MSFLOP_OFF);
  out->horizon_base = heg_load_u128(data + HEG_POLICY_HORIZON_BASE_MSFLOP_OFF);
  out->horizon_daily_increase = heg_load_u128(data + HEG_POLICY_HORIZON_DAILY_INCREASE_MSFLOP_OFF);
  out->schedule_epoch_day = heg_load_u32(data + HEG_POLICY_SCHEDULE_EPOCH_DAY_OFF);
  out->oversight_min_ppm = heg_load_u32(data + HEG_POLICY_OVERSIGHT_MIN_PPM_OFF);
  out->allowance_chunk = heg_load_u128(data + HEG_POLICY_ALLOWANCE_CHUNK_MSFLOP_OFF);
  out->watchdog_period_cycles = heg_load_u32(data + HEG_POLICY_WATCHDOG_PERIOD_CYCLES_OFF);
  out->beacon_max_age_s = heg_load_u32(data + HEG_POLICY_BEACON_MAX_AGE_S_OFF);
  out->clock_drift_ppm = heg_load_u32(data + HEG_POLICY_CLOCK_DRIFT_PPM_OFF);
  out->lockout_threshold = data[HEG_POLICY_LOCKOUT_THRESHOLD_OFF];
  out->lockout_duration_s = heg_load_u32(data + HEG_POLICY_LOCKOUT_DURATION_S_OFF);
  out->baselines = heg_load_u32(data + HEG_POLICY_BASELINES_OFF);
  pos = HEG_POLICY_FIXED_SIZE;
  HEG_TRY(key_list(data, len, &pos, HEG_MAX_KEY_LIST, out->board_keys[0], &out->board_count, &field));
  HEG_TRY(key_list(data, len, &pos, HEG_MAX_KEY_LIST, out->inspector_keys[0], &out->inspector_count,
                   &field));
  HEG_TRY(key_list(data, len, &pos, HEG_MAX_KEY_LIST, out->party_keys[0], &out->party_count, &field));
  HEG_TRY(key_list(data, len, &pos, HEG_MAX_REVOKED_KEYS, out->revoked_keys[0], &out->revoked_count,
                   &field));
  *body_len = pos;
  HEG_TRY(heg_sigset_parse(data, pos, len, HEG_MAX_RECORD_SIGNATURES, sigs));
  HEG_TRY(field);
  return check_policy_fields(out);
}

heg_status_t heg_policy_check_genesis(const uint8_t *data, size_t len, heg_policy_t *out) {
  heg_sigset_t sigs;
  size_t body_len = 0;
  heg_hbool_t verified = HEG_HFALSE;
  HEG_TRY(heg_policy_parse(data, len, out, &body_len, &sigs));
  if (out->version != 1u) {
    return HEG_STATUS_SEQUENCE_JUMP;
  }
  HEG_TRY(heg_sigset_verify(&sigs, HEG_DOMAIN_POLICY, HEG_DOMAIN_POLICY_LEN, data, body_len, out,
                            NULL, &verified));
  if (heg_sigset_count_in(&sigs, out->board_keys[0], out->board_count) < out->board_threshold) {
    return HEG_STATUS_QUORUM_NOT_MET;
  }
  HEG_HARDENED_CHECK_TRUE(verified);
  return HEG_STATUS_OK;
}

static heg_hbool_t board_changed(const heg_policy_t *a, const heg_policy_t *b) {
  if (a->board_count != b->board_count) {
    return HEG_HTRUE;
  }
  return heg_bytes_equal(&a->board_keys[0][0], &b->board_keys[0][0],
                         (size_t)a->board_count * HEG_KEY_SIZE) == HEG_HTRUE
             ? HEG_HFALSE
             : HEG_HTRUE;
}

heg_status_t heg_cmd_install_policy(heg_ctx_t *ctx, const uint8_t *payload, size_t len,
                                    uint8_t *out, size_t cap, size_t *out_len) {
  heg_policy_t next;
  heg_sigset_t sigs;
  size_t body_len = 0;
  heg_hbool_t verified = HEG_HFALSE;
  uint8_t event[4];
  heg_status_t status;
  const heg_policy_t *cur = &ctx->ps.policy;

  (void)out;
  (void)cap;
  *out_len = 0;
  if (ctx->ps.device_state != HEG_DEVICE_STATE_PROVISIONED) {
    return HEG_STATUS_WRONG_STATE;
  }
  HEG_TRY(heg_policy_parse(payload, len, &next, &body_len, &sigs));
  if (next.version <= cur->version) {
    return HEG_STATUS_REPLAYED;
  }
  if (next.version != cur->version + 1u) {
    return HEG_STATUS_SEQUENCE_JUMP;
  }
  HEG_TRY(heg_lockout_begin(ctx));
  /* Revoked by the current or by the new policy: refused outright. */
  HEG_TRY(heg_sigset_verify(&sigs, HEG_DOMAIN_POLICY, HEG_DOMAIN_POLICY_LEN, payload, body_len,
                            cur, &next, &verified));
  if (heg_sigset_count_in(&sigs, cur->board_keys[0], cur->board_count) < cur->board_threshold) {
    return HEG_STATUS_QUORUM_NOT_MET;
  }
  if (board_changed(cur, &next) != HEG_HFALSE &&
      heg_sigset_count_in(&sigs, next.board_keys[0], next.board_count) < next.board_threshold) {
    return HEG_STATUS_QUORUM_NOT_MET;
  }
  HEG_HARDENED_CHECK_TRUE(verified);
  ctx->ps.policy = next;
  heg_lockout_clear(ctx);
  heg_store_u32(event, next.version);
  status = heg_log_append(&ctx->ps, HEG_EVENT_POLICY_INSTALLED, event, sizeof(event));
  heg_crypto_wipe(&next, sizeof(next));
  /* New weights reach the meter at the next reset: its configuration is locked
   * once loaded at boot (CFG_REGWEN). Chunk size and time rules apply now. */
  HEG_TRY(heg_store_finish(ctx, status));
  return heg_meter_arm(ctx);
}
