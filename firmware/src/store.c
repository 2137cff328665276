/* Power-fail-safe persistent state: two slots, one record each (see internal.h).
 * A slot is the run of pages one record needs, so the record may outgrow a page. */
#include <string.h>

#include "codec.h"
#include "heg/heg_crypto.h"
#include "internal.h"

#define HEG_STORE_CHUNK 256u

HEG_STATIC_ASSERT(sizeof(heg_persistent_t) % 8u == 0u, record_word_aligned);
HEG_STATIC_ASSERT(offsetof(heg_persistent_t, counter) == 8u, counter_offset);
HEG_STATIC_ASSERT(offsetof(heg_persistent_t, device_seed) == 24u, seed_offset);
HEG_STATIC_ASSERT(HEG_ENDORSEMENT_SIZE <= HEG_STORE_ENDORSEMENT_CAP, endorsement_fits);
HEG_STATIC_ASSERT(sizeof(heg_log_entry_t) == 8u + HEG_LOG_STORED_PAYLOAD, log_entry_size);
HEG_STATIC_ASSERT(offsetof(heg_persistent_t, digest) ==
                      sizeof(heg_persistent_t) - HEG_DIGEST_SIZE,
                  digest_last);

static heg_status_t record_digest(const heg_persistent_t *rec, uint8_t out[HEG_DIGEST_SIZE]) {
  return heg_crypto_sha256(out, (const uint8_t *)rec, offsetof(heg_persistent_t, digest));
}

static heg_status_t geometry(heg_ctx_t *ctx, uint32_t *slot_size) {
  uint32_t page_size = 0;
  uint32_t count = 0;
  uint32_t pages;
  HEG_TRY(heg_hal_storage_geometry(ctx->hal, &page_size, &count));
  if (page_size == 0u || page_size % 8u != 0u) {
    return HEG_STATUS_STORAGE;
  }
  pages = (uint32_t)((sizeof(heg_persistent_t) + page_size - 1u) / page_size);
  if (count / HEG_STORE_SLOTS < pages) {
    return HEG_STATUS_STORAGE;
  }
  *slot_size = pages * page_size;
  return HEG_STATUS_OK;
}

/* Reads the record in a slot into ctx->ps; *valid says whether it is whole. */
static heg_status_t read_slot(heg_ctx_t *ctx, uint32_t slot, uint32_t slot_size,
                              heg_hbool_t *valid) {
  uint8_t digest[HEG_DIGEST_SIZE];
  heg_persistent_t *rec = &ctx->ps;
  *valid = HEG_HFALSE;
  HEG_TRY(heg_hal_storage_read(ctx->hal, slot * slot_size, (uint8_t *)rec, sizeof(*rec)));
  if (rec->magic != HEG_STORE_MAGIC || rec->layout != HEG_STORE_LAYOUT) {
    return HEG_STATUS_OK;
  }
  HEG_TRY(record_digest(rec, digest));
  *valid = heg_bytes_equal(digest, rec->digest, sizeof(digest));
  if (*valid == HEG_HTRUE &&
      (rec->device_state < HEG_DEVICE_STATE_UNPROVISIONED ||
       rec->device_state > HEG_DEVICE_STATE_PROVISIONED)) {
    *valid = HEG_HFALSE;
  }
  return HEG_STATUS_OK;
}

static void factory_defaults(heg_ctx_t *ctx) {
  heg_crypto_wipe(&ctx->ps, sizeof(ctx->ps));
  ctx->ps.device_state = HEG_DEVICE_STATE_UNPROVISIONED;
  ctx->ps.license_active = HEG_HFALSE;
  ctx->ps.exhausted_logged = HEG_HFALSE;
  ctx->ps.paused = HEG_HFALSE;
  ctx->ps.halted = HEG_HFALSE;
  ctx->ps.tampered = HEG_HFALSE;
  ctx->active_slot = HEG_STORE_NO_PAGE;
}

heg_status_t heg_store_load(heg_ctx_t *ctx) {
  heg_hbool_t valid = HEG_HFALSE;
  uint64_t counters[HEG_STORE_SLOTS];
  heg_hbool_t valids[HEG_STORE_SLOTS];
  uint32_t slot_size = 0;
  uint32_t slot;
  uint32_t best = HEG_STORE_NO_PAGE;

  HEG_TRY(geometry(ctx, &slot_size));
  /* One record buffer (ctx->ps): read each slot, note its verdict, then read
   * the winner again (and check it again). */
  for (slot = 0; slot < HEG_STORE_SLOTS; ++slot) {
    HEG_TRY(read_slot(ctx, slot, slot_size, &valids[slot]));
    counters[slot] = ctx->ps.counter;
    if (valids[slot] == HEG_HTRUE && (best == HEG_STORE_NO_PAGE || counters[slot] > counters[best])) {
      best = slot;
    }
  }
  if (best == HEG_STORE_NO_PAGE) {
    /* Factory fresh (or a first write torn by a power cut). */
    factory_defaults(ctx);
    return HEG_STATUS_OK;
  }
  HEG_TRY(read_slot(ctx, best, slot_size, &valid));
  if (valid != HEG_HTRUE || ctx->ps.counter != counters[best]) {
    factory_defaults(ctx);
    return HEG_STATUS_STORAGE;
  }
  ctx->active_slot = best;
  return HEG_STATUS_OK;
}

void heg_store_rollback(heg_ctx_t *ctx) {
  if (heg_store_load(ctx) != HEG_STATUS_OK) {
    /* The last durable state cannot be read back: stop rather than run on a
     * state that may never have been written. */
    ctx->booted = HEG_HFALSE;
    heg_meter_gate_close(ctx);
  }
}

static heg_status_t write_slot(heg_ctx_t *ctx, uint32_t target, uint32_t slot_size) {
  uint8_t check[HEG_STORE_CHUNK];
  uint32_t page_size = 0;
  uint32_t count = 0;
  uint32_t page;
  size_t done;
  size_t n;
  const uint8_t *rec = (const uint8_t *)&ctx->ps;

  HEG_TRY(heg_hal_storage_geometry(ctx->hal, &page_size, &count));
  for (page = target * (slot_size / page_size); page < (target + 1u) * (slot_size / page_size);
       ++page) {
    HEG_TRY(heg_hal_storage_erase(ctx->hal, page));
  }
  HEG_TRY(heg_hal_storage_program(ctx->hal, target * slot_size, rec, sizeof(ctx->ps)));
  /* Only a record that reads back whole counts as written. */
  for (done = 0; done < sizeof(ctx->ps); done += n) {
    n = sizeof(ctx->ps) - done < sizeof(check) ? sizeof(ctx->ps) - done : sizeof(check);
    HEG_TRY(heg_hal_storage_read(ctx->hal, (uint32_t)(target * slot_size + done), check, n));
    if (heg_bytes_equal(check, rec + done, n) != HEG_HTRUE) {
      return HEG_STATUS_STORAGE;
    }
  }
  return HEG_STATUS_OK;
}

heg_status_t heg_store_commit(heg_ctx_t *ctx) {
  uint32_t slot_size = 0;
  uint32_t target;
  uint64_t counter;
  heg_status_t status;

  status = geometry(ctx, &slot_size);
  if (status == HEG_STATUS_OK && ctx->ps.counter == UINT64_MAX) {
    status = HEG_STATUS_STORAGE;
  }
  if (status != HEG_STATUS_OK) {
    heg_store_rollback(ctx);
    return status;
  }
  target = ctx->active_slot == 0u ? 1u : 0u;
  counter = ctx->active_slot == HEG_STORE_NO_PAGE ? 0u : ctx->ps.counter;
  ctx->ps.magic = HEG_STORE_MAGIC;
  ctx->ps.layout = HEG_STORE_LAYOUT;
  ctx->ps.counter = counter + 1u;
  status = record_digest(&ctx->ps, ctx->ps.digest);
  if (status == HEG_STATUS_OK) {
    status = write_slot(ctx, target, slot_size);
  }
  if (status != HEG_STATUS_OK) {
    heg_store_rollback(ctx);
    return status;
  }
  ctx->active_slot = target;
  return HEG_STATUS_OK;
}

heg_status_t heg_store_finish(heg_ctx_t *ctx, heg_status_t status) {
  if (status != HEG_STATUS_OK) {
    heg_store_rollback(ctx);
    return status;
  }
  return heg_store_commit(ctx);
}
