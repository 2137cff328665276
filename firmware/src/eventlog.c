/* Hash-chained event log: only the head is kept; verifiers replay events. */
#include <string.h>

#include "heg/heg_crypto.h"
#include "internal.h"

#define HEG_EVENT_PAYLOAD_MAX 64u

heg_status_t heg_log_append(heg_persistent_t *ps, uint8_t type, const uint8_t *payload,
                            size_t len) {
  uint8_t buf[HEG_DIGEST_SIZE + 1u + HEG_EVENT_PAYLOAD_MAX];
  if (ps == NULL || (payload == NULL && len != 0) || len > HEG_EVENT_PAYLOAD_MAX) {
    return HEG_STATUS_BAD_REQUEST;
  }
  memcpy(buf, ps->log_head, HEG_DIGEST_SIZE);
  buf[HEG_DIGEST_SIZE] = type;
  if (len != 0) {
    memcpy(buf + HEG_DIGEST_SIZE + 1u, payload, len);
  }
  return heg_crypto_sha256(ps->log_head, buf, HEG_DIGEST_SIZE + 1u + len);
}
