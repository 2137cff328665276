/* Provisioning: device key generation (PROVISION), vendor endorsement
 * (ENDORSE) and reading it back, and the recovery of a device that lost its
 * store (RECOVER). Once endorsed the device is locked, and its OTP anchor
 * (anchor.c) keeps it locked to its vendor whatever happens to the store. */
#include <string.h>

#include "codec.h"
#include "heg/heg_crypto.h"
#include "internal.h"

HEG_STATIC_ASSERT(sizeof(HEG_DOMAIN_ENDORSEMENT) == HEG_DOMAIN_ENDORSEMENT_LEN,
                  endorsement_domain_len);
HEG_STATIC_ASSERT(sizeof(HEG_DOMAIN_RECOVERY) == HEG_DOMAIN_RECOVERY_LEN, recovery_domain_len);

heg_status_t heg_keys_derive(heg_ctx_t *ctx) {
  if (ctx->ps.device_state != HEG_DEVICE_STATE_KEYED &&
      ctx->ps.device_state != HEG_DEVICE_STATE_PROVISIONED) {
    memset(ctx->device_pk, 0, sizeof(ctx->device_pk));
    heg_crypto_wipe(ctx->device_sk, sizeof(ctx->device_sk));
    return HEG_STATUS_OK;
  }
  return heg_crypto_ed25519_keypair(ctx->ps.device_seed, ctx->device_pk, ctx->device_sk);
}

/* The work of PROVISION, and of RECOVER once the anchored vendor authorized
 * it: a new device key from device randomness, vendor_key as the key whose
 * endorsement the device takes, the genesis policy (in the request) as its
 * root of trust, and one log entry: event_type with event_len bytes of event,
 * or (event NULL) the genesis policy's POLICY_INSTALLED. */
static heg_status_t provision_with(heg_ctx_t *ctx, const uint8_t vendor_key[HEG_KEY_SIZE],
                                   const uint8_t *policy, size_t policy_len, uint8_t event_type,
                                   const uint8_t *event, size_t event_len, uint8_t *out,
                                   size_t cap, size_t *out_len) {
  heg_policy_view_t genesis;
  uint8_t seed[HEG_KEY_SIZE];
  uint8_t pk[HEG_KEY_SIZE];
  uint8_t sk[64];
  heg_status_t status;

  if (cap < HEG_PROVISION_RESP_SIZE) {
    return HEG_STATUS_BAD_REQUEST;
  }
  /* The genesis policy becomes the root of trust: version 1, its own board's
   * quorum, every baseline set. Checked where it lies, in the request (the
   * response buffer is the scratch for the signed message). */
  HEG_TRY(heg_policy_check_genesis(ctx, policy, policy_len, &genesis, out, cap));
  status = heg_hal_random(ctx->hal, seed, sizeof(seed));
  if (status == HEG_STATUS_OK) {
    status = heg_crypto_ed25519_keypair(seed, pk, sk);
  }
  if (status == HEG_STATUS_OK) {
    memcpy(ctx->ps.device_seed, seed, sizeof(seed));
    memcpy(ctx->ps.vendor_key, vendor_key, HEG_KEY_SIZE);
    /* The scalar part in place; the key lists pending (in the request) until
     * the commit writes them; a failure rolls all of it back. */
    status = heg_policy_load(policy, &genesis, &ctx->ps.policy);
    if (status == HEG_STATUS_OK) {
      heg_store_set_pending_policy(ctx, genesis.keys);
      ctx->ps.device_state = HEG_DEVICE_STATE_KEYED;
      status = event == NULL ? heg_policy_log_installed(ctx)
                             : heg_log_append(ctx, event_type, event, event_len);
    }
    status = heg_store_finish(ctx, status);
  }
  if (status == HEG_STATUS_OK) {
    /* The genesis policy is in force: its link cap loads now (the limiter
     * has been unlocked, passing nothing, since reset). */
    heg_link_load_and_lock(ctx);
    memcpy(ctx->device_pk, pk, HEG_KEY_SIZE);
    memcpy(ctx->device_sk, sk, sizeof(sk));
    memcpy(out + HEG_PROVISION_RESP_DEVICE_ID_OFF, pk, HEG_KEY_SIZE);
    *out_len = HEG_PROVISION_RESP_SIZE;
  }
  heg_crypto_wipe(seed, sizeof(seed));
  heg_crypto_wipe(sk, sizeof(sk));
  return status;
}

/* A programmed OTP area (whole or torn) means this device was provisioned
 * once: only RECOVER, authorized by its vendor, provisions it again. Boot
 * already sends such a device to RECOVERY_REQUIRED; checked again here (in a
 * frame of its own: the OTP area is off the stack before the genesis
 * policy's signatures are verified, the firmware's deepest stack). */
static HEG_OWN_FRAME heg_status_t require_blank_anchor(heg_ctx_t *ctx) {
  heg_anchor_t anchor;
  heg_hbool_t anchored = HEG_HFALSE;
  heg_status_t status = heg_anchor_read(ctx, &anchor, &anchored);
  if (status == HEG_STATUS_OTP_INVALID || (status == HEG_STATUS_OK && anchored != HEG_HFALSE)) {
    return HEG_STATUS_WRONG_STATE;
  }
  return status;
}

heg_status_t heg_cmd_provision(heg_ctx_t *ctx, const uint8_t *payload, size_t len, uint8_t *out,
                               size_t cap, size_t *out_len) {
  const uint8_t *policy = payload + HEG_PROVISION_REQ_HEADER_SIZE;

  *out_len = 0;
  if (ctx->ps.device_state != HEG_DEVICE_STATE_UNPROVISIONED) {
    return HEG_STATUS_WRONG_STATE;
  }
  if (len < HEG_PROVISION_REQ_HEADER_SIZE ||
      heg_bytes_zero(payload + HEG_PROVISION_REQ_VENDOR_KEY_OFF, HEG_KEY_SIZE) == HEG_HTRUE) {
    return HEG_STATUS_BAD_REQUEST;
  }
  HEG_TRY(require_blank_anchor(ctx));
  /* Logged: the genesis policy's version and digest. */
  return provision_with(ctx, payload + HEG_PROVISION_REQ_VENDOR_KEY_OFF, policy,
                        len - HEG_PROVISION_REQ_HEADER_SIZE, HEG_EVENT_POLICY_INSTALLED, NULL,
                        0u, out, cap, out_len);
}

/* The Recovery record at the head of a RECOVER request (len bytes in all,
 * the genesis policy after it): the anchor's device, this boot's nonce, the
 * digest of exactly the policy that follows, and the anchored vendor's
 * signature over it all. The vendor key is copied out on success. (Its own
 * frame, as for require_blank_anchor.) */
static HEG_OWN_FRAME heg_status_t check_recovery(heg_ctx_t *ctx, const uint8_t *payload,
                                                 size_t len,
                                                 uint8_t vendor_key[HEG_KEY_SIZE]) {
  uint8_t msg[HEG_DOMAIN_RECOVERY_LEN + HEG_RECOVERY_BODY_SIZE];
  uint8_t digest[HEG_DIGEST_SIZE];
  heg_anchor_t anchor;
  heg_hbool_t anchored = HEG_HFALSE;
  heg_hbool_t valid = HEG_HFALSE;

  HEG_TRY(heg_check_record_header(payload, len, HEG_RECORD_RECOVERY));
  if (len < HEG_RECOVERY_SIZE) {
    return HEG_STATUS_RECORD_LENGTH;
  }
  HEG_TRY(heg_anchor_read(ctx, &anchor, &anchored));
  if (anchored != HEG_HTRUE) {
    return HEG_STATUS_OTP_INVALID; /* never anchored: nothing to recover to */
  }
  if (heg_bytes_equal(payload + HEG_RECOVERY_FIRST_DEVICE_ID_OFF, anchor.first_device_id,
                      HEG_KEY_SIZE) != HEG_HTRUE) {
    return HEG_STATUS_WRONG_DEVICE;
  }
  if (heg_bytes_equal(payload + HEG_RECOVERY_DEVICE_NONCE_OFF, ctx->recovery_nonce,
                      HEG_NONCE_SIZE) != HEG_HTRUE) {
    return HEG_STATUS_RECOVERY_NONCE_MISMATCH;
  }
  HEG_TRY(heg_crypto_digest(digest, payload + HEG_RECOVERY_SIZE, len - HEG_RECOVERY_SIZE));
  if (heg_bytes_equal(digest, payload + HEG_RECOVERY_GENESIS_POLICY_DIGEST_OFF,
                      HEG_DIGEST_SIZE) != HEG_HTRUE) {
    return HEG_STATUS_GENESIS_MISMATCH;
  }
  memcpy(msg, HEG_DOMAIN_RECOVERY, HEG_DOMAIN_RECOVERY_LEN);
  memcpy(msg + HEG_DOMAIN_RECOVERY_LEN, payload, HEG_RECOVERY_BODY_SIZE);
  HEG_TRY(heg_crypto_ed25519_verify(payload + HEG_RECOVERY_BODY_SIZE, msg, sizeof(msg),
                                    anchor.vendor_key, &valid));
  if (valid != HEG_HTRUE) {
    return HEG_STATUS_SIGNATURE_INVALID;
  }
  HEG_HARDENED_CHECK_TRUE(valid);
  memcpy(vendor_key, anchor.vendor_key, HEG_KEY_SIZE);
  return HEG_STATUS_OK;
}

heg_status_t heg_cmd_recover(heg_ctx_t *ctx, const uint8_t *payload, size_t len, uint8_t *out,
                             size_t cap, size_t *out_len) {
  uint8_t vendor_key[HEG_KEY_SIZE];
  *out_len = 0;
  if (ctx->ps.device_state != HEG_DEVICE_STATE_RECOVERY_REQUIRED) {
    return HEG_STATUS_WRONG_STATE;
  }
  HEG_TRY(check_recovery(ctx, payload, len, vendor_key));
  /* A new identity: nothing signed for the old one (licenses, orders, whose
   * replay floors were lost with the store) ever binds this device again.
   * Logged: the anchor's device id, as the request names it (checked). */
  return provision_with(ctx, vendor_key, payload + HEG_RECOVERY_SIZE, len - HEG_RECOVERY_SIZE,
                        HEG_EVENT_RECOVERED, payload + HEG_RECOVERY_FIRST_DEVICE_ID_OFF,
                        HEG_KEY_SIZE, out, cap, out_len);
}

heg_status_t heg_info_recovery(heg_ctx_t *ctx, uint8_t *out, size_t *out_len) {
  heg_anchor_t anchor;
  heg_hbool_t anchored = HEG_HFALSE;
  heg_status_t status = heg_anchor_read(ctx, &anchor, &anchored);
  if (status != HEG_STATUS_OK && status != HEG_STATUS_OTP_INVALID) {
    return status;
  }
  if (anchored == HEG_HTRUE) {
    memcpy(out + HEG_INFO_FIRST_DEVICE_ID_OFF, anchor.first_device_id, HEG_KEY_SIZE);
  }
  if (ctx->ps.device_state == HEG_DEVICE_STATE_RECOVERY_REQUIRED) {
    memcpy(out + HEG_INFO_RECOVERY_NONCE_OFF, ctx->recovery_nonce, HEG_NONCE_SIZE);
  }
  *out_len = HEG_INFO_SIZE;
  return HEG_STATUS_OK;
}

heg_status_t heg_cmd_endorse(heg_ctx_t *ctx, const uint8_t *payload, size_t len, uint8_t *out,
                             size_t cap, size_t *out_len) {
  uint8_t msg[HEG_DOMAIN_ENDORSEMENT_LEN + HEG_ENDORSEMENT_BODY_SIZE];
  heg_hbool_t valid = HEG_HFALSE;
  heg_status_t status;

  (void)out;
  (void)cap;
  *out_len = 0;
  if (ctx->ps.device_state != HEG_DEVICE_STATE_KEYED) {
    return HEG_STATUS_WRONG_STATE;
  }
  HEG_TRY(heg_check_record_header(payload, len, HEG_RECORD_ENDORSEMENT));
  if (len != HEG_ENDORSEMENT_SIZE) {
    return HEG_STATUS_RECORD_LENGTH;
  }
  if (heg_bytes_equal(payload + HEG_ENDORSEMENT_DEVICE_ID_OFF, ctx->device_pk, HEG_KEY_SIZE) !=
      HEG_HTRUE) {
    return HEG_STATUS_WRONG_DEVICE;
  }
  if (heg_bytes_equal(payload + HEG_ENDORSEMENT_VENDOR_KEY_OFF, ctx->ps.vendor_key,
                      HEG_KEY_SIZE) != HEG_HTRUE) {
    return HEG_STATUS_SIGNER_UNTRUSTED;
  }
  memcpy(msg, HEG_DOMAIN_ENDORSEMENT, HEG_DOMAIN_ENDORSEMENT_LEN);
  memcpy(msg + HEG_DOMAIN_ENDORSEMENT_LEN, payload, HEG_ENDORSEMENT_BODY_SIZE);
  HEG_TRY(heg_crypto_ed25519_verify(payload + HEG_ENDORSEMENT_BODY_SIZE, msg, sizeof(msg),
                                    ctx->ps.vendor_key, &valid));
  if (valid != HEG_HTRUE) {
    return HEG_STATUS_SIGNATURE_INVALID;
  }
  /* Anchored in OTP before the device is ever PROVISIONED: a device that
   * lost its store after this point can only be recovered by this vendor. */
  HEG_TRY(heg_anchor_program(ctx));
  heg_store_set_pending_endorsement(ctx, payload);
  ctx->ps.device_state = HEG_DEVICE_STATE_PROVISIONED;
  status = heg_log_append(ctx, HEG_EVENT_PROVISIONED, ctx->device_pk, HEG_KEY_SIZE);
  if (status == HEG_STATUS_OK) {
    volatile heg_hbool_t recheck = valid;
    status = recheck == HEG_HTRUE ? HEG_STATUS_OK : HEG_STATUS_FAULT_DETECTED;
  }
  HEG_TRY(heg_store_finish(ctx, status));
  /* Provisioned from here: the policy's watchdog runs from now on. */
  heg_meter_watchdog_start(ctx);
  return HEG_STATUS_OK;
}

heg_status_t heg_cmd_read_endorsement(heg_ctx_t *ctx, const uint8_t *payload, size_t len,
                                      uint8_t *out, size_t cap, size_t *out_len) {
  (void)payload;
  *out_len = 0;
  if (ctx->ps.device_state != HEG_DEVICE_STATE_PROVISIONED) {
    return HEG_STATUS_WRONG_STATE;
  }
  if (len != 0 || cap < HEG_ENDORSEMENT_SIZE) {
    return HEG_STATUS_BAD_REQUEST;
  }
  /* Stored without its header (store.c): rebuilt here. */
  memcpy(out + HEG_ENDORSEMENT_MAGIC_OFF, HEG_WIRE_MAGIC, HEG_WIRE_MAGIC_LEN);
  out[HEG_ENDORSEMENT_RECORD_TYPE_OFF] = HEG_RECORD_ENDORSEMENT;
  out[HEG_ENDORSEMENT_VERSION_OFF] = HEG_WIRE_VERSION;
  HEG_TRY(heg_store_read(ctx, HEG_STORE_ENDORSEMENT_OFF, out + HEG_ENDORSEMENT_DEVICE_ID_OFF,
                         HEG_STORE_ENDORSEMENT_LEN));
  *out_len = HEG_ENDORSEMENT_SIZE;
  return HEG_STATUS_OK;
}
