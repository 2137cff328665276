/* Provisioning: device key generation (PROVISION), vendor endorsement
 * (ENDORSE) and reading it back. Once endorsed the device is locked. */
#include <string.h>

#include "codec.h"
#include "heg/heg_crypto.h"
#include "internal.h"

HEG_STATIC_ASSERT(sizeof(HEG_DOMAIN_ENDORSEMENT) == HEG_DOMAIN_ENDORSEMENT_LEN,
                  endorsement_domain_len);

heg_status_t heg_keys_derive(heg_ctx_t *ctx) {
  if (ctx->ps.device_state == HEG_DEVICE_STATE_UNPROVISIONED) {
    memset(ctx->device_pk, 0, sizeof(ctx->device_pk));
    heg_crypto_wipe(ctx->device_sk, sizeof(ctx->device_sk));
    return HEG_STATUS_OK;
  }
  return heg_crypto_ed25519_keypair(ctx->ps.device_seed, ctx->device_pk, ctx->device_sk);
}

heg_status_t heg_cmd_provision(heg_ctx_t *ctx, const uint8_t *payload, size_t len, uint8_t *out,
                               size_t cap, size_t *out_len) {
  heg_policy_view_t genesis;
  uint8_t seed[HEG_KEY_SIZE];
  uint8_t pk[HEG_KEY_SIZE];
  uint8_t sk[64];
  uint8_t event[4];
  heg_status_t status;
  const uint8_t *policy = payload + HEG_PROVISION_REQ_HEADER_SIZE;

  *out_len = 0;
  if (ctx->ps.device_state != HEG_DEVICE_STATE_UNPROVISIONED) {
    return HEG_STATUS_WRONG_STATE;
  }
  if (len < HEG_PROVISION_REQ_HEADER_SIZE || cap < HEG_PROVISION_RESP_SIZE) {
    return HEG_STATUS_BAD_REQUEST;
  }
  if (heg_bytes_zero(payload + HEG_PROVISION_REQ_VENDOR_KEY_OFF, HEG_KEY_SIZE) == HEG_HTRUE) {
    return HEG_STATUS_BAD_REQUEST;
  }
  /* The genesis policy becomes the root of trust: version 1, its own board's
   * quorum, every baseline set. Checked where it lies, in the request (the
   * response buffer is the scratch for the signed message). */
  HEG_TRY(heg_policy_check_genesis(ctx, policy, len - HEG_PROVISION_REQ_HEADER_SIZE, &genesis,
                                   out, cap));
  status = heg_hal_random(ctx->hal, seed, sizeof(seed));
  if (status == HEG_STATUS_OK) {
    status = heg_crypto_ed25519_keypair(seed, pk, sk);
  }
  if (status == HEG_STATUS_OK) {
    memcpy(ctx->ps.device_seed, seed, sizeof(seed));
    memcpy(ctx->ps.vendor_key, payload + HEG_PROVISION_REQ_VENDOR_KEY_OFF, HEG_KEY_SIZE);
    /* The scalar part in place; the key lists pending (in the request) until
     * the commit writes them; a failure rolls all of it back. */
    heg_policy_load(policy, &genesis, &ctx->ps.policy);
    heg_store_set_pending_policy(ctx, genesis.keys);
    ctx->ps.device_state = HEG_DEVICE_STATE_KEYED;
    heg_store_u32(event, ctx->ps.policy.version);
    status = heg_log_append(ctx, HEG_EVENT_POLICY_INSTALLED, event, sizeof(event));
    status = heg_store_finish(ctx, status);
  }
  if (status == HEG_STATUS_OK) {
    memcpy(ctx->device_pk, pk, HEG_KEY_SIZE);
    memcpy(ctx->device_sk, sk, sizeof(sk));
    memcpy(out + HEG_PROVISION_RESP_DEVICE_ID_OFF, pk, HEG_KEY_SIZE);
    *out_len = HEG_PROVISION_RESP_SIZE;
  }
  heg_crypto_wipe(seed, sizeof(seed));
  heg_crypto_wipe(sk, sizeof(sk));
  return status;
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
