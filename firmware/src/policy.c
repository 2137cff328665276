/* Policies: the strict parser, signature sets, the genesis check and
 * INSTALL_POLICY (exactly N -> N+1 by the current board's quorum, the new
 * board's quorum too when the board changes, and the Horizon veto's holders
 * when the veto moves). */
#include <string.h>

#include "codec.h"
#include "heg/heg_crypto.h"
#include "internal.h"

HEG_STATIC_ASSERT(sizeof(HEG_DOMAIN_POLICY) == HEG_DOMAIN_POLICY_LEN, policy_domain_len);
HEG_STATIC_ASSERT(HEG_POLICY_WEIGHTS_MILLI_LEN == 4u * HEG_LANES, weights_len);

#define HEG_ALL_BASELINES \
  (HEG_BASELINE_METERING | HEG_BASELINE_FAIL_CLOSED | HEG_BASELINE_ATTESTATION)

void heg_policy_keys(heg_ctx_t *ctx, uint32_t which, heg_keylist_t *out) {
  out->count = ctx->ps.policy.key_count[which];
  if (ctx->pending_policy == HEG_HTRUE) {
    /* A policy installed by this command, not yet committed: its lists are
     * still in the request. */
    out->mem = ctx->pending_keys[which];
    out->flash_off = 0u;
  } else {
    out->mem = NULL;
    out->flash_off = HEG_STORE_KEYS_OFF(which);
  }
}

heg_status_t heg_keylist_key(heg_ctx_t *ctx, const heg_keylist_t *list, uint32_t i,
                             uint8_t out[HEG_KEY_SIZE]) {
  if (i >= list->count) {
    return HEG_STATUS_BAD_REQUEST;
  }
  if (list->mem != NULL) {
    memcpy(out, list->mem + (size_t)i * HEG_KEY_SIZE, HEG_KEY_SIZE);
    return HEG_STATUS_OK;
  }
  return heg_store_read(ctx, list->flash_off + i * HEG_KEY_SIZE, out, HEG_KEY_SIZE);
}

heg_status_t heg_keylist_has(heg_ctx_t *ctx, const heg_keylist_t *list,
                             const uint8_t key[HEG_KEY_SIZE], heg_hbool_t *found) {
  uint8_t k[HEG_KEY_SIZE];
  uint32_t i;
  *found = HEG_HFALSE;
  for (i = 0; i < list->count; ++i) {
    HEG_TRY(heg_keylist_key(ctx, list, i, k));
    if (heg_bytes_equal(key, k, HEG_KEY_SIZE) == HEG_HTRUE) {
      *found = HEG_HTRUE;
    }
  }
  return HEG_STATUS_OK;
}

heg_status_t heg_keylist_count_signers(heg_ctx_t *ctx, const heg_keylist_t *list,
                                       const heg_sigset_t *sigs, uint32_t *n) {
  uint8_t k[HEG_KEY_SIZE];
  uint32_t i;
  /* List keys are distinct (strictly sorted) and so are signers: each
   * signer counts at most once. */
  *n = 0;
  for (i = 0; i < list->count; ++i) {
    HEG_TRY(heg_keylist_key(ctx, list, i, k));
    if (heg_sigset_has(sigs, k) == HEG_HTRUE) {
      *n += 1u;
    }
  }
  return HEG_STATUS_OK;
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

heg_status_t heg_policy_veto_given(heg_ctx_t *ctx, const heg_sigset_t *sigs,
                                   heg_hbool_t *given) {
  heg_keylist_t list;
  uint8_t key[HEG_KEY_SIZE];
  uint32_t signers = 0;
  uint32_t i;
  *given = HEG_HFALSE;
  heg_policy_keys(ctx, HEG_KEYS_BOARD, &list);
  HEG_TRY(heg_keylist_count_signers(ctx, &list, sigs, &signers));
  if (signers < ctx->ps.policy.horizon_board_threshold) {
    return HEG_STATUS_OK;
  }
  heg_policy_keys(ctx, HEG_KEYS_PARTY, &list);
  for (i = 0; i < list.count; ++i) {
    HEG_TRY(heg_keylist_key(ctx, &list, i, key));
    if (heg_sigset_has(sigs, key) != HEG_HTRUE) {
      return HEG_STATUS_OK;
    }
  }
  *given = HEG_HTRUE;
  return HEG_STATUS_OK;
}

heg_status_t heg_sigset_verify(heg_ctx_t *ctx, const heg_sigset_t *sigs, const char *domain,
                               size_t domain_len, const uint8_t *body, size_t body_len,
                               const heg_keylist_t *revoked, const heg_keylist_t *extra,
                               uint8_t *scratch, size_t scratch_cap, uint32_t *proof) {
  heg_hbool_t valid;
  heg_hbool_t in_revoked;
  heg_hbool_t in_extra;
  uint32_t sum = 0u;
  uint32_t i;
  *proof = 0u;
  if (domain_len > HEG_DOMAIN_ATTESTATION_LEN || body_len > HEG_MAX_MESSAGE_SIZE) {
    return HEG_STATUS_BAD_REQUEST;
  }
  for (i = 0; i < sigs->count; ++i) {
    in_extra = HEG_HFALSE;
    HEG_TRY(heg_keylist_has(ctx, revoked, signer_of(sigs, i), &in_revoked));
    if (extra != NULL) {
      HEG_TRY(heg_keylist_has(ctx, extra, signer_of(sigs, i), &in_extra));
    }
    if (in_revoked != HEG_HFALSE || in_extra != HEG_HFALSE) {
      return HEG_STATUS_KEY_REVOKED;
    }
  }
  /* domain || body is one message for the verifier: built in the caller's
   * scratch (the response buffer), so up to a whole request never sits on the
   * stack under the verifier's own deep frames. */
  if (scratch == NULL || scratch_cap < domain_len + body_len) {
    return HEG_STATUS_RESPONSE_TOO_LARGE;
  }
  memcpy(scratch, domain, domain_len);
  memmove(scratch + domain_len, body, body_len);
  for (i = 0; i < sigs->count; ++i) {
    valid = HEG_HFALSE;
    HEG_TRY(heg_crypto_ed25519_verify(
        sigs->entries + (size_t)i * HEG_SIGNATURE_ENTRY_SIZE + HEG_SIGNATURE_ENTRY_SIGNATURE_OFF,
        scratch, domain_len + body_len, signer_of(sigs, i), &valid));
    if (valid != HEG_HTRUE) {
      return HEG_STATUS_SIGNATURE_INVALID;
    }
    /* A skipped refusal adds HEG_HFALSE, a loop cut short or run again adds
     * too few or too many: the proof then never matches the count. The
     * barrier makes the sum read valid again, so that the compiler cannot
     * fold it into count * HEG_HTRUE from the check above. */
    HEG_HARDENED_BARRIER();
    sum += valid;
  }
  *proof = sum;
  return HEG_STATUS_OK;
}

heg_hbool_t heg_sigset_proven(const heg_sigset_t *sigs, uint32_t proof) {
  /* count <= HEG_MAX_RECORD_SIGNATURES (heg_sigset_parse): no wrap. */
  if (sigs->count == 0u || proof != sigs->count * HEG_HTRUE) {
    return HEG_HFALSE;
  }
  return HEG_HTRUE;
}

/* One key list: u8 count then that many keys, strictly ascending; out
 * points at the keys in data. */
static heg_status_t key_list(const uint8_t *data, size_t len, size_t *pos, uint32_t max,
                             heg_keylist_t *out, heg_status_t *field) {
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
  out->mem = data + *pos;
  out->flash_off = 0u;
  /* Range and order are field rules, checked after the whole length. */
  if (n > max) {
    *field = HEG_STATUS_RECORD_FIELD;
    out->count = 0u;
  } else {
    for (i = 1; i < n; ++i) {
      if (memcmp(out->mem + (size_t)(i - 1u) * HEG_KEY_SIZE, out->mem + (size_t)i * HEG_KEY_SIZE,
                 HEG_KEY_SIZE) >= 0) {
        *field = HEG_STATUS_RECORD_FIELD;
      }
    }
    out->count = n;
  }
  *pos += (size_t)n * HEG_KEY_SIZE;
  return HEG_STATUS_OK;
}

/* The policy fields no vote can take out of their bounds (generated from
 * openheg.wire.POLICY_BOUNDS, where each bound's reason is written). */
typedef struct {
  uint8_t offset;
  uint8_t size; /* 1 (u8) or 4 (u32) */
  uint32_t minimum;
  uint32_t maximum;
} heg_policy_bound_t;

#define HEG_BOUND_ROW(offset, size, minimum, maximum) {offset, size, minimum, maximum},
static const heg_policy_bound_t k_bounds[] = {HEG_POLICY_BOUNDS(HEG_BOUND_ROW)};
HEG_STATIC_ASSERT(HEG_POLICY_FIXED_SIZE <= 256u, bound_offsets_fit_a_byte);

/* The field rules, read straight from the request bytes. */
static heg_status_t check_policy_fields(heg_ctx_t *ctx, const uint8_t *data,
                                        const heg_policy_view_t *view) {
  uint32_t version = heg_load_u32(data + HEG_POLICY_POLICY_VERSION_OFF);
  uint32_t board_threshold = data[HEG_POLICY_BOARD_THRESHOLD_OFF];
  uint32_t horizon_threshold = data[HEG_POLICY_HORIZON_BOARD_THRESHOLD_OFF];
  uint32_t board_count = view->keys[HEG_KEYS_BOARD].count;
  heg_hbool_t issuer_revoked = HEG_HFALSE;
  heg_hbool_t authority_revoked = HEG_HFALSE;
  uint32_t value;
  size_t i;
  if (version < 1u || board_count == 0u || board_threshold < 1u ||
      board_threshold > board_count || horizon_threshold < board_threshold ||
      horizon_threshold > board_count) {
    return HEG_STATUS_RECORD_FIELD;
  }
  /* Baselines no vote can remove: every bit set, and every bounded field
   * (watchdog, lockout, time, oversight, weights) inside its bounds. */
  if (heg_load_u32(data + HEG_POLICY_BASELINES_OFF) != HEG_ALL_BASELINES) {
    return HEG_STATUS_RECORD_FIELD;
  }
  for (i = 0; i < sizeof(k_bounds) / sizeof(k_bounds[0]); ++i) {
    value = k_bounds[i].size == 1u ? data[k_bounds[i].offset]
                                   : heg_load_u32(data + k_bounds[i].offset);
    if (value < k_bounds[i].minimum || value > k_bounds[i].maximum) {
      return HEG_STATUS_RECORD_FIELD;
    }
  }
  if (heg_u128_cmp(heg_load_u128(data + HEG_POLICY_HORIZON_BASE_MSFLOP_OFF),
                   heg_load_u128(data + HEG_POLICY_FRONTIER_BASE_MSFLOP_OFF)) < 0 ||
      heg_u128_is_zero(heg_load_u128(data + HEG_POLICY_ALLOWANCE_CHUNK_MSFLOP_OFF))) {
    return HEG_STATUS_RECORD_FIELD;
  }
  HEG_TRY(heg_keylist_has(ctx, &view->keys[HEG_KEYS_REVOKED], data + HEG_POLICY_ISSUER_KEY_OFF,
                          &issuer_revoked));
  HEG_TRY(heg_keylist_has(ctx, &view->keys[HEG_KEYS_REVOKED],
                          data + HEG_POLICY_TIME_AUTHORITY_KEY_OFF, &authority_revoked));
  if (issuer_revoked != HEG_HFALSE || authority_revoked != HEG_HFALSE) {
    return HEG_STATUS_RECORD_FIELD;
  }
  return HEG_STATUS_OK;
}

heg_status_t heg_policy_parse(heg_ctx_t *ctx, const uint8_t *data, size_t len,
                              heg_policy_view_t *view) {
  heg_status_t field = HEG_STATUS_OK;
  size_t pos;
  uint32_t list;

  if (data == NULL || view == NULL) {
    return HEG_STATUS_BAD_REQUEST;
  }
  HEG_TRY(heg_check_record_header(data, len, HEG_RECORD_POLICY));
  /* Lengths first, in the spec's reading order, then the field rules, so host
   * and device give the same status for any bytes. */
  if (len < HEG_POLICY_FIXED_SIZE) {
    return HEG_STATUS_RECORD_LENGTH;
  }
  memset(view, 0, sizeof(*view));
  pos = HEG_POLICY_FIXED_SIZE;
  for (list = 0; list < HEG_KEYS_LISTS; ++list) {
    HEG_TRY(key_list(data, len, &pos, HEG_STORE_LIST_CAP(list), &view->keys[list], &field));
  }
  view->body_len = pos;
  HEG_TRY(heg_sigset_parse(data, pos, len, HEG_MAX_RECORD_SIGNATURES, &view->sigs));
  HEG_TRY(field);
  return check_policy_fields(ctx, data, view);
}

heg_status_t heg_policy_load(const uint8_t *data, const heg_policy_view_t *view,
                             heg_policy_t *out) {
  uint32_t lane;
  uint32_t list;
  memset(out, 0, sizeof(*out));
  HEG_TRY(heg_crypto_digest(out->digest, data, view->body_len));
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
  out->link_wire_mb_per_s = heg_load_u32(data + HEG_POLICY_LINK_WIRE_MB_PER_S_OFF);
  out->link_burst_wire_bytes = heg_load_u32(data + HEG_POLICY_LINK_BURST_WIRE_BYTES_OFF);
  out->inference_link_wire_mb_per_s =
      heg_load_u32(data + HEG_POLICY_INFERENCE_LINK_WIRE_MB_PER_S_OFF);
  out->inference_link_burst_wire_bytes =
      heg_load_u32(data + HEG_POLICY_INFERENCE_LINK_BURST_WIRE_BYTES_OFF);
  for (list = 0; list < HEG_KEYS_LISTS; ++list) {
    out->key_count[list] = view->keys[list].count;
  }
  return HEG_STATUS_OK;
}

heg_status_t heg_policy_log_installed(heg_ctx_t *ctx) {
  uint8_t event[HEG_POLICY_INSTALLED_SIZE];
  heg_store_u32(event + HEG_POLICY_INSTALLED_POLICY_VERSION_OFF, ctx->ps.policy.version);
  memcpy(event + HEG_POLICY_INSTALLED_POLICY_DIGEST_OFF, ctx->ps.policy.digest, HEG_DIGEST_SIZE);
  return heg_log_append(ctx, HEG_EVENT_POLICY_INSTALLED, event, sizeof(event));
}

heg_status_t heg_policy_check_genesis(heg_ctx_t *ctx, const uint8_t *data, size_t len,
                                      heg_policy_view_t *view, uint8_t *scratch,
                                      size_t scratch_cap) {
  uint32_t proof = 0u;
  uint32_t signers = 0;
  HEG_TRY(heg_policy_parse(ctx, data, len, view));
  if (heg_load_u32(data + HEG_POLICY_POLICY_VERSION_OFF) != 1u) {
    return HEG_STATUS_SEQUENCE_JUMP;
  }
  HEG_TRY(heg_sigset_verify(ctx, &view->sigs, HEG_DOMAIN_POLICY, HEG_DOMAIN_POLICY_LEN, data,
                            view->body_len, &view->keys[HEG_KEYS_REVOKED], NULL, scratch,
                            scratch_cap, &proof));
  HEG_TRY(heg_keylist_count_signers(ctx, &view->keys[HEG_KEYS_BOARD], &view->sigs, &signers));
  if (signers < data[HEG_POLICY_BOARD_THRESHOLD_OFF]) {
    return HEG_STATUS_QUORUM_NOT_MET;
  }
  HEG_HARDENED_CHECK_TRUE(heg_sigset_proven(&view->sigs, proof));
  return HEG_STATUS_OK;
}

/* *changed: whether a key list of the new policy (in the request) differs
 * from the one in force (in flash), key by key. */
static heg_status_t keylist_changed(heg_ctx_t *ctx, const heg_keylist_t *cur,
                                    const heg_keylist_t *next, heg_hbool_t *changed) {
  uint8_t k[HEG_KEY_SIZE];
  uint32_t i;
  *changed = HEG_HFALSE;
  if (cur->count != next->count) {
    *changed = HEG_HTRUE;
    return HEG_STATUS_OK;
  }
  for (i = 0; i < cur->count; ++i) {
    HEG_TRY(heg_keylist_key(ctx, cur, i, k));
    if (heg_bytes_equal(k, next->mem + (size_t)i * HEG_KEY_SIZE, HEG_KEY_SIZE) != HEG_HTRUE) {
      *changed = HEG_HTRUE;
    }
  }
  return HEG_STATUS_OK;
}

/* *raised: whether H(day) of the new policy may exceed the one in force on
 * some day: a higher base or daily increase, or an earlier epoch while it
 * rises daily (an over-approximation: an earlier epoch with a lower base may
 * not raise it, and still asks for the veto, which fails safe). */
static heg_hbool_t horizon_raised(const heg_policy_t *cur, const uint8_t *next) {
  heg_u128_t daily = heg_load_u128(next + HEG_POLICY_HORIZON_DAILY_INCREASE_MSFLOP_OFF);
  if (heg_u128_cmp(heg_load_u128(next + HEG_POLICY_HORIZON_BASE_MSFLOP_OFF), cur->horizon_base) >
          0 ||
      heg_u128_cmp(daily, cur->horizon_daily_increase) > 0 ||
      (heg_load_u32(next + HEG_POLICY_SCHEDULE_EPOCH_DAY_OFF) < cur->schedule_epoch_day &&
       !heg_u128_is_zero(daily))) {
    return HEG_HTRUE;
  }
  return HEG_HFALSE;
}

/* The Horizon veto is held by the party representatives and the board's
 * Horizon quorum. A policy that changes who holds it (the parties, the
 * board, a lower Horizon quorum) or that raises H (fewer workloads under it)
 * needs their assent: every current party and the current Horizon quorum.
 * board_changed: whether the new policy changes the board. */
static heg_status_t check_veto(heg_ctx_t *ctx, const uint8_t *next,
                               const heg_policy_view_t *view, heg_hbool_t board_changed) {
  heg_keylist_t parties;
  heg_hbool_t moved = board_changed;
  heg_hbool_t parties_changed = HEG_HTRUE;
  heg_hbool_t given = HEG_HFALSE;
  heg_policy_keys(ctx, HEG_KEYS_PARTY, &parties);
  HEG_TRY(keylist_changed(ctx, &parties, &view->keys[HEG_KEYS_PARTY], &parties_changed));
  if (parties_changed != HEG_HFALSE ||
      next[HEG_POLICY_HORIZON_BOARD_THRESHOLD_OFF] < ctx->ps.policy.horizon_board_threshold ||
      horizon_raised(&ctx->ps.policy, next) != HEG_HFALSE) {
    moved = HEG_HTRUE;
  }
  if (moved == HEG_HFALSE) {
    return HEG_STATUS_OK;
  }
  HEG_TRY(heg_policy_veto_given(ctx, &view->sigs, &given));
  if (given != HEG_HTRUE) {
    return HEG_STATUS_PARTY_VETO;
  }
  return HEG_STATUS_OK;
}

/* Exactly the version after the one in force. */
static heg_status_t check_next_version(heg_ctx_t *ctx, const uint8_t *next) {
  uint32_t version = heg_load_u32(next + HEG_POLICY_POLICY_VERSION_OFF);
  if (version <= ctx->ps.policy.version) {
    return HEG_STATUS_REPLAYED;
  }
  if (version != ctx->ps.policy.version + 1u) {
    return HEG_STATUS_SEQUENCE_JUMP;
  }
  return HEG_STATUS_OK;
}

/* The whole authorization of policy version N+1 (hardened.h, step 2), from
 * the request's bytes (parsed here into *view): its fields, exactly the next
 * version, every signature verified (proof, from heg_sigset_verify), the
 * current board's quorum, the new board's quorum when the board changes,
 * and the veto's holders when the veto moves (check_veto). */
static heg_status_t policy_authorization(heg_ctx_t *ctx, const uint8_t *next, size_t len,
                                         uint32_t proof, heg_policy_view_t *view,
                                         heg_hbool_t *granted) {
  heg_keylist_t board;
  heg_hbool_t changed = HEG_HTRUE;
  uint32_t signers = 0;
  *granted = HEG_HFALSE;
  HEG_TRY(heg_policy_parse(ctx, next, len, view));
  HEG_TRY(check_next_version(ctx, next));
  if (heg_sigset_proven(&view->sigs, proof) != HEG_HTRUE) {
    return HEG_STATUS_SIGNATURE_INVALID;
  }
  heg_policy_keys(ctx, HEG_KEYS_BOARD, &board);
  HEG_TRY(heg_keylist_count_signers(ctx, &board, &view->sigs, &signers));
  if (signers < ctx->ps.policy.board_threshold) {
    return HEG_STATUS_QUORUM_NOT_MET;
  }
  HEG_TRY(keylist_changed(ctx, &board, &view->keys[HEG_KEYS_BOARD], &changed));
  if (changed != HEG_HFALSE) {
    HEG_TRY(heg_keylist_count_signers(ctx, &view->keys[HEG_KEYS_BOARD], &view->sigs, &signers));
    if (signers < next[HEG_POLICY_BOARD_THRESHOLD_OFF]) {
      return HEG_STATUS_QUORUM_NOT_MET;
    }
  }
  HEG_TRY(check_veto(ctx, next, view, changed));
  *granted = HEG_HTRUE;
  return HEG_STATUS_OK;
}

/* *revoked: whether the policy in force revokes the issuer or the inspector
 * of the license in force (the issuer by its key's prefix: see
 * heg_persistent_t.license_issuer_prefix). */
static heg_status_t license_signers_revoked(heg_ctx_t *ctx, heg_hbool_t *revoked) {
  heg_keylist_t list;
  uint8_t key[HEG_KEY_SIZE];
  uint32_t i;
  *revoked = HEG_HFALSE;
  heg_policy_keys(ctx, HEG_KEYS_REVOKED, &list);
  for (i = 0; i < list.count; ++i) {
    HEG_TRY(heg_keylist_key(ctx, &list, i, key));
    if (heg_bytes_equal(key, ctx->ps.inspector_key, HEG_KEY_SIZE) == HEG_HTRUE ||
        heg_bytes_equal(key, ctx->ps.license_issuer_prefix, HEG_ISSUER_PREFIX_SIZE) ==
            HEG_HTRUE) {
      *revoked = HEG_HTRUE;
    }
  }
  return HEG_STATUS_OK;
}

heg_status_t heg_cmd_install_policy(heg_ctx_t *ctx, const uint8_t *payload, size_t len,
                                    uint8_t *out, size_t cap, size_t *out_len) {
  heg_policy_view_t next;
  heg_keylist_t revoked_now;
  uint32_t proof = 0u;
  heg_hbool_t first = HEG_HFALSE;
  heg_hbool_t second = HEG_HFALSE;
  heg_hbool_t revoked = HEG_HFALSE;
  uint8_t event[HEG_ID_SIZE + 4u]; /* LICENSE_REVOKED: license id, policy version */
  heg_status_t status;

  *out_len = 0;
  if (ctx->ps.device_state != HEG_DEVICE_STATE_PROVISIONED) {
    return HEG_STATUS_WRONG_STATE;
  }
  /* The new policy is checked where it lies, in the request; ctx->ps keeps
   * the policy in force (its lists in flash) until every check passed. */
  HEG_TRY(heg_policy_parse(ctx, payload, len, &next));
  HEG_TRY(check_next_version(ctx, payload));
  HEG_TRY(heg_lockout_begin(ctx, HEG_LOCKOUT_POLICY));
  /* Revoked by the current or by the new policy: refused outright. */
  heg_policy_keys(ctx, HEG_KEYS_REVOKED, &revoked_now);
  HEG_TRY(heg_sigset_verify(ctx, &next.sigs, HEG_DOMAIN_POLICY, HEG_DOMAIN_POLICY_LEN, payload,
                            next.body_len, &revoked_now, &next.keys[HEG_KEYS_REVOKED], out, cap,
                            &proof));
  HEG_TRY(policy_authorization(ctx, payload, len, proof, &next, &first));
  HEG_HARDENED_CHECK_TRUE(first);
  HEG_HARDENED_RECHECK(policy_authorization(ctx, payload, len, proof, &next, &second), second);
  /* In force from here: the scalar part into ctx->ps in place, the key lists
   * pending (still in the request) until the commit writes them to flash; a
   * failure from here on rolls all of it back (heg_store_finish). */
  status = heg_policy_load(payload, &next, &ctx->ps.policy);
  if (status != HEG_STATUS_OK) {
    return heg_store_finish(ctx, status);
  }
  heg_store_set_pending_policy(ctx, next.keys);
  /* Fleet orders are bound to a policy's digest and counted per policy: the
   * new one's count starts at zero (a halt in force stays in force). */
  ctx->ps.fleet_order_sequence = 0u;
  heg_lockout_clear(ctx, HEG_LOCKOUT_POLICY);
  status = heg_policy_log_installed(ctx);
  /* G-revoke: revoking the license's issuer or inspector stops the license. */
  if (status == HEG_STATUS_OK && ctx->ps.license_active == HEG_HTRUE &&
      ctx->ps.license_revoked == HEG_HFALSE) {
    status = license_signers_revoked(ctx, &revoked);
    if (status == HEG_STATUS_OK && revoked == HEG_HTRUE) {
      ctx->ps.license_revoked = HEG_HTRUE;
      memcpy(event, ctx->ps.license_id, HEG_ID_SIZE);
      heg_store_u32(event + HEG_ID_SIZE, ctx->ps.policy.version);
      status = heg_log_append(ctx, HEG_EVENT_LICENSE_REVOKED, event, sizeof(event));
    }
  }
  /* New weights reach the meter at the next reset: its configuration is locked
   * once loaded at boot (CFG_REGWEN). Until then the gate stays closed
   * (WEIGHTS_PENDING, heg_gate_causes). Chunk size and time rules apply now. */
  HEG_TRY(heg_store_finish(ctx, status));
  return heg_meter_arm(ctx);
}
