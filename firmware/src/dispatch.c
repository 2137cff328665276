/* The request/response protocol: one request in, one response out. */
#include <string.h>

#include "codec.h"
#include "internal.h"

typedef struct {
  uint8_t command;
  uint8_t grants; /* 1: a command that grants compute (hardened.h) */
  size_t response_size; /* payload bytes the handler may write */
  heg_handler_t handler;
} heg_route_t;

static const heg_route_t k_routes[] = {
    {HEG_CMD_INFO, 0u, HEG_INFO_SIZE, heg_cmd_info},
    {HEG_CMD_PROVISION, 0u, HEG_PROVISION_RESP_SIZE, heg_cmd_provision},
    {HEG_CMD_ENDORSE, 0u, 0u, heg_cmd_endorse},
    {HEG_CMD_INSTALL_LICENSE, 1u, 0u, heg_cmd_install_license},
    {HEG_CMD_ATTEST, 0u, HEG_ATTESTATION_SIZE, heg_cmd_attest},
    {HEG_CMD_READ_ENDORSEMENT, 0u, HEG_ENDORSEMENT_SIZE, heg_cmd_read_endorsement},
    {HEG_CMD_INSTALL_POLICY, 1u, 0u, heg_cmd_install_policy},
    {HEG_CMD_TIME_NONCE, 0u, HEG_TIME_NONCE_RESP_SIZE, heg_cmd_time_nonce},
    {HEG_CMD_TIME_BEACON, 0u, 0u, heg_cmd_time_beacon},
    {HEG_CMD_ORDER, 1u, 0u, heg_cmd_order},
    {HEG_CMD_READ_LOG, 0u, HEG_READ_LOG_RESP_HEADER_SIZE + 1u, heg_cmd_read_log},
    {HEG_CMD_RECOVER, 0u, HEG_PROVISION_RESP_SIZE, heg_cmd_recover},
    {HEG_CMD_ATTEST_EAT, 0u, HEG_EAT_WORK_SIZE, heg_cmd_attest_eat},
};

heg_status_t heg_cmd_info(heg_ctx_t *ctx, const uint8_t *payload, size_t len, uint8_t *out,
                          size_t cap, size_t *out_len) {
  (void)payload;
  *out_len = 0;
  if (len != 0 || cap < HEG_INFO_SIZE) {
    return HEG_STATUS_BAD_REQUEST;
  }
  memset(out, 0, HEG_INFO_SIZE);
  out[HEG_INFO_STATE_OFF] = (uint8_t)ctx->ps.device_state;
  memcpy(out + HEG_INFO_DEVICE_ID_OFF, ctx->device_pk, HEG_KEY_SIZE);
  heg_firmware_measurement(out + HEG_INFO_FIRMWARE_MEASUREMENT_OFF);
  heg_store_u32(out + HEG_INFO_POLICY_VERSION_OFF, ctx->ps.policy.version);
  /* The replay floor: the next license needs a higher sequence. */
  heg_store_u64(out + HEG_INFO_LICENSE_SEQUENCE_OFF, ctx->ps.license_floor);
  heg_store_u64(out + HEG_INFO_INSPECTOR_ORDER_SEQUENCE_OFF,
                ctx->ps.order_sequence[HEG_SIGNER_ROLE_INSPECTOR - 1u]);
  heg_store_u64(out + HEG_INFO_BOARD_ORDER_SEQUENCE_OFF,
                ctx->ps.order_sequence[HEG_SIGNER_ROLE_BOARD - 1u]);
  heg_store_u64(out + HEG_INFO_ISSUER_ORDER_SEQUENCE_OFF,
                ctx->ps.order_sequence[HEG_SIGNER_ROLE_ISSUER - 1u]);
  heg_store_u32(out + HEG_INFO_RESET_COUNT_OFF, ctx->ps.reset_count);
  memcpy(out + HEG_INFO_ISSUER_KEY_OFF, ctx->ps.policy.issuer_key, HEG_KEY_SIZE);
  memcpy(out + HEG_INFO_VENDOR_KEY_OFF, ctx->ps.vendor_key, HEG_KEY_SIZE);
  return heg_info_recovery(ctx, out, out_len);
}

static heg_status_t route(heg_ctx_t *ctx, const uint8_t *req, size_t req_len, uint8_t *out,
                          size_t cap, size_t *out_len) {
  heg_status_t status;
  size_t i;
  *out_len = 0;
  if (ctx->booted != HEG_HTRUE) {
    return HEG_STATUS_WRONG_STATE;
  }
  if (req_len < HEG_REQUEST_SIZE || req_len > HEG_MAX_MESSAGE_SIZE) {
    return HEG_STATUS_BAD_REQUEST;
  }
  if (ctx->ps.device_state == HEG_DEVICE_STATE_RECOVERY_REQUIRED &&
      req[HEG_REQUEST_COMMAND_OFF] != HEG_CMD_INFO &&
      req[HEG_REQUEST_COMMAND_OFF] != HEG_CMD_READ_LOG &&
      req[HEG_REQUEST_COMMAND_OFF] != HEG_CMD_RECOVER) {
    return HEG_STATUS_RECOVERY_REQUIRED; /* a lost store: nothing else until recovered */
  }
  for (i = 0; i < sizeof(k_routes) / sizeof(k_routes[0]); ++i) {
    if (k_routes[i].command == req[HEG_REQUEST_COMMAND_OFF]) {
      if (cap < k_routes[i].response_size) {
        return HEG_STATUS_RESPONSE_TOO_LARGE;
      }
      status = k_routes[i].handler(ctx, req + HEG_REQUEST_SIZE, req_len - HEG_REQUEST_SIZE, out,
                                   cap, out_len);
      if (status != HEG_STATUS_OK && k_routes[i].grants != 0u) {
        /* A refused record leaves the running record as the store holds it.
         * Reloaded, not trusted: a fault that made code write through a
         * stale pointer while refusing changed the record in RAM, not the
         * store (docs/fault.md). */
        heg_store_rollback(ctx);
      }
      return status;
    }
  }
  return HEG_STATUS_UNKNOWN_COMMAND;
}

heg_status_t heg_dispatch(heg_ctx_t *ctx, const uint8_t *req, size_t req_len, uint8_t *resp,
                          size_t resp_cap, size_t *resp_len) {
  heg_status_t status;
  size_t payload_len = 0;

  if (resp == NULL || resp_len == NULL || resp_cap < HEG_RESPONSE_SIZE) {
    return HEG_STATUS_BAD_REQUEST;
  }
  *resp_len = 0;
  memset(resp, 0, HEG_RESPONSE_SIZE);
  if (req != NULL && req_len >= HEG_REQUEST_SIZE) {
    resp[HEG_RESPONSE_COMMAND_OFF] = req[HEG_REQUEST_COMMAND_OFF];
    heg_store_u16(resp + HEG_RESPONSE_REQUEST_ID_OFF,
                  heg_load_u16(req + HEG_REQUEST_REQUEST_ID_OFF));
  }
  if (ctx == NULL || req == NULL) {
    status = HEG_STATUS_BAD_REQUEST;
  } else {
    status = route(ctx, req, req_len, resp + HEG_RESPONSE_SIZE, resp_cap - HEG_RESPONSE_SIZE,
                   &payload_len);
    if (heg_store_has_pending(ctx) != HEG_HFALSE) {
      /* Every handler commits or rolls back what it changed. Should one not,
       * drop the change rather than keep pointers into this request's bytes
       * (the pending key lists) past its lifetime. */
      heg_store_rollback(ctx);
      if (status == HEG_STATUS_OK) {
        status = HEG_STATUS_FAULT_DETECTED;
      }
    }
  }
  if (status != HEG_STATUS_OK) {
    payload_len = 0;
  }
  heg_store_u16(resp + HEG_RESPONSE_STATUS_OFF, (uint16_t)status);
  *resp_len = HEG_RESPONSE_SIZE + payload_len;
  return HEG_STATUS_OK;
}
