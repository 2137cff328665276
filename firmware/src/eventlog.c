/* Hash-chained event log: the head, the total count and a ring of the newest
 * entries, all in the persistent record (the ring in its flash part, entries
 * appended since the last commit in ctx->log_pending); READ_LOG reads the
 * ring out of flash. */
#include <string.h>

#include "codec.h"
#include "heg/heg_crypto.h"
#include "internal.h"

HEG_STATIC_ASSERT(HEG_LOG_STORED_PAYLOAD <= HEG_MAX_LOG_PAYLOAD, stored_payload_fits);
/* The largest entries the firmware logs fit the ring's stored payload. */
HEG_STATIC_ASSERT(HEG_LICENSE_REPLACED_SIZE <= HEG_LOG_STORED_PAYLOAD, replaced_entry_fits);
HEG_STATIC_ASSERT(HEG_POLICY_INSTALLED_SIZE <= HEG_LOG_STORED_PAYLOAD, policy_entry_fits);

static heg_status_t chain(uint8_t head[HEG_DIGEST_SIZE], uint8_t type, const uint8_t *payload,
                          size_t len) {
  uint8_t buf[HEG_DIGEST_SIZE + 1u + HEG_LOG_STORED_PAYLOAD];
  memcpy(buf, head, HEG_DIGEST_SIZE);
  buf[HEG_DIGEST_SIZE] = type;
  if (len != 0) {
    memcpy(buf + HEG_DIGEST_SIZE + 1u, payload, len);
  }
  return heg_crypto_digest(head, buf, HEG_DIGEST_SIZE + 1u + len);
}

/* Entry index (one still kept: within the ring) into out: from the entries
 * appended since the last commit, else from the ring in the active record. */
static heg_status_t entry_read(heg_ctx_t *ctx, uint32_t index, heg_log_entry_t *out) {
  uint32_t first_pending = ctx->ps.log_count - ctx->log_pending_count;
  if (index >= first_pending) {
    *out = ctx->log_pending[index - first_pending];
    return HEG_STATUS_OK;
  }
  HEG_TRY(heg_store_read(ctx,
                         HEG_STORE_RING_OFF + (index % HEG_LOG_RING) * (uint32_t)sizeof(*out),
                         (uint8_t *)out, sizeof(*out)));
  /* The record's digest covers the entry; its length still bounds a copy. */
  if (out->index != index || out->payload_len > HEG_LOG_STORED_PAYLOAD) {
    return HEG_STATUS_STORAGE;
  }
  return HEG_STATUS_OK;
}

heg_status_t heg_log_append(heg_ctx_t *ctx, uint8_t type, const uint8_t *payload, size_t len) {
  heg_log_entry_t *slot;
  heg_log_entry_t evicted;
  if (ctx == NULL || (payload == NULL && len != 0) || len > HEG_LOG_STORED_PAYLOAD ||
      ctx->ps.log_count == UINT32_MAX) {
    return HEG_STATUS_BAD_REQUEST;
  }
  if (ctx->log_pending_count >= HEG_LOG_PENDING) {
    /* More appends before a commit than internal.h allows for: refuse (the
     * caller rolls back) rather than drop an entry. */
    return HEG_STATUS_STORAGE;
  }
  if (ctx->ps.log_count >= HEG_LOG_RING) {
    /* The oldest kept entry leaves the ring: the tail head moves past it. */
    HEG_TRY(entry_read(ctx, ctx->ps.log_count - HEG_LOG_RING, &evicted));
    HEG_TRY(chain(ctx->ps.log_tail_head, evicted.event_type, evicted.payload,
                  evicted.payload_len));
  }
  HEG_TRY(chain(ctx->ps.log_head, type, payload, len));
  slot = &ctx->log_pending[ctx->log_pending_count];
  memset(slot, 0, sizeof(*slot));
  slot->index = ctx->ps.log_count;
  slot->event_type = type;
  slot->payload_len = (uint8_t)len;
  if (len != 0) {
    memcpy(slot->payload, payload, len);
  }
  ctx->log_pending_count += 1u;
  ctx->ps.log_count += 1u;
  return HEG_STATUS_OK;
}

heg_status_t heg_cmd_read_log(heg_ctx_t *ctx, const uint8_t *payload, size_t len, uint8_t *out,
                              size_t cap, size_t *out_len) {
  uint8_t head[HEG_DIGEST_SIZE];
  heg_log_entry_t entry;
  uint32_t oldest;
  uint32_t first;
  uint32_t index;
  uint32_t max_entries;
  uint32_t count = 0;
  size_t pos;

  *out_len = 0;
  if (len != HEG_READ_LOG_REQ_SIZE) {
    return HEG_STATUS_BAD_REQUEST;
  }
  first = heg_load_u32(payload + HEG_READ_LOG_REQ_FIRST_INDEX_OFF);
  max_entries = payload[HEG_READ_LOG_REQ_MAX_ENTRIES_OFF];
  if (max_entries > HEG_MAX_LOG_ENTRIES_PER_READ || first > ctx->ps.log_count) {
    return HEG_STATUS_BAD_REQUEST;
  }
  if (cap < HEG_READ_LOG_RESP_HEADER_SIZE + 1u +
                (size_t)max_entries * (HEG_LOG_ENTRY_HEADER_SIZE + 1u + HEG_LOG_STORED_PAYLOAD)) {
    return HEG_STATUS_RESPONSE_TOO_LARGE;
  }
  /* Entries older than the ring are gone: start at the oldest kept one (the
   * reader sees the gap in the indices). */
  oldest = ctx->ps.log_count > HEG_LOG_RING ? ctx->ps.log_count - HEG_LOG_RING : 0u;
  if (first < oldest) {
    first = oldest;
  }
  memcpy(head, ctx->ps.log_tail_head, HEG_DIGEST_SIZE);
  for (index = oldest; index < first; ++index) {
    HEG_TRY(entry_read(ctx, index, &entry));
    HEG_TRY(chain(head, entry.event_type, entry.payload, entry.payload_len));
  }
  heg_store_u32(out + HEG_READ_LOG_RESP_NEXT_INDEX_OFF, ctx->ps.log_count);
  memcpy(out + HEG_READ_LOG_RESP_HEAD_BEFORE_OFF, head, HEG_DIGEST_SIZE);
  pos = HEG_READ_LOG_RESP_HEADER_SIZE + 1u;
  for (index = first; index < ctx->ps.log_count && count < max_entries; ++index, ++count) {
    HEG_TRY(entry_read(ctx, index, &entry));
    heg_store_u32(out + pos + HEG_LOG_ENTRY_INDEX_OFF, entry.index);
    out[pos + HEG_LOG_ENTRY_EVENT_TYPE_OFF] = entry.event_type;
    out[pos + HEG_LOG_ENTRY_HEADER_SIZE] = entry.payload_len;
    memcpy(out + pos + HEG_LOG_ENTRY_HEADER_SIZE + 1u, entry.payload, entry.payload_len);
    pos += HEG_LOG_ENTRY_HEADER_SIZE + 1u + entry.payload_len;
  }
  out[HEG_READ_LOG_RESP_HEADER_SIZE] = (uint8_t)count;
  *out_len = pos;
  return HEG_STATUS_OK;
}
