/* Power-fail-safe persistent state: two pages, one record each (see internal.h). */
#include <string.h>

#include "codec.h"
#include "heg/heg_crypto.h"
#include "internal.h"

HEG_STATIC_ASSERT(sizeof(heg_persistent_t) == HEG_STORE_RECORD_SIZE, record_size);
HEG_STATIC_ASSERT(HEG_STORE_RECORD_SIZE % 8u == 0u, record_word_aligned);
HEG_STATIC_ASSERT(offsetof(heg_persistent_t, counter) == 8u, counter_offset);
HEG_STATIC_ASSERT(offsetof(heg_persistent_t, device_seed) == 24u, seed_offset);
HEG_STATIC_ASSERT(offsetof(heg_persistent_t, endorsement) == 120u, endorsement_offset);
HEG_STATIC_ASSERT(HEG_ENDORSEMENT_SIZE <= HEG_STORE_ENDORSEMENT_CAP, endorsement_fits);
HEG_STATIC_ASSERT(offsetof(heg_persistent_t, license_active) == 264u, license_offset);
HEG_STATIC_ASSERT(offsetof(heg_persistent_t, charged) == 312u, charged_offset);
HEG_STATIC_ASSERT(offsetof(heg_persistent_t, report_counter) == 424u, report_offset);
HEG_STATIC_ASSERT(offsetof(heg_persistent_t, digest) ==
                      HEG_STORE_RECORD_SIZE - HEG_DIGEST_SIZE,
                  digest_last);

static heg_status_t record_digest(const heg_persistent_t *rec, uint8_t out[HEG_DIGEST_SIZE]) {
  return heg_crypto_sha256(out, (const uint8_t *)rec, offsetof(heg_persistent_t, digest));
}

/* Reads the record in a page; *valid says whether it is a whole, current one. */
static heg_status_t read_page(heg_ctx_t *ctx, uint32_t page, uint32_t page_size,
                              heg_persistent_t *rec, heg_hbool_t *valid) {
  uint8_t digest[HEG_DIGEST_SIZE];
  *valid = HEG_HFALSE;
  HEG_TRY(heg_hal_storage_read(ctx->hal, page * page_size, (uint8_t *)rec, sizeof(*rec)));
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

static heg_status_t geometry(heg_ctx_t *ctx, uint32_t *page_size) {
  uint32_t count = 0;
  HEG_TRY(heg_hal_storage_geometry(ctx->hal, page_size, &count));
  if (count < HEG_STORE_PAGES || *page_size < HEG_STORE_RECORD_SIZE || *page_size % 8u != 0) {
    return HEG_STATUS_STORAGE;
  }
  return HEG_STATUS_OK;
}

heg_status_t heg_store_load(heg_ctx_t *ctx) {
  heg_persistent_t rec[HEG_STORE_PAGES];
  heg_hbool_t valid[HEG_STORE_PAGES];
  uint32_t page_size = 0;
  uint32_t page;
  uint32_t best = HEG_STORE_NO_PAGE;

  HEG_TRY(geometry(ctx, &page_size));
  for (page = 0; page < HEG_STORE_PAGES; ++page) {
    HEG_TRY(read_page(ctx, page, page_size, &rec[page], &valid[page]));
    if (valid[page] == HEG_HTRUE &&
        (best == HEG_STORE_NO_PAGE || rec[page].counter > rec[best].counter)) {
      best = page;
    }
  }
  memset(&ctx->ps, 0, sizeof(ctx->ps));
  if (best == HEG_STORE_NO_PAGE) {
    /* Factory fresh (or a first write torn by a power cut). */
    ctx->ps.device_state = HEG_DEVICE_STATE_UNPROVISIONED;
    ctx->ps.license_active = HEG_HFALSE;
    ctx->ps.exhausted_logged = HEG_HFALSE;
    ctx->active_page = HEG_STORE_NO_PAGE;
  } else {
    ctx->ps = rec[best];
    ctx->active_page = best;
  }
  heg_crypto_wipe(rec, sizeof(rec));
  return HEG_STATUS_OK;
}

heg_status_t heg_store_commit(heg_ctx_t *ctx, heg_persistent_t *next) {
  heg_persistent_t check;
  heg_hbool_t valid = HEG_HFALSE;
  uint32_t page_size = 0;
  uint32_t target;
  heg_status_t status;

  HEG_TRY(geometry(ctx, &page_size));
  if (ctx->ps.counter == UINT64_MAX) {
    return HEG_STATUS_STORAGE;
  }
  target = ctx->active_page == 0u ? 1u : 0u;
  next->magic = HEG_STORE_MAGIC;
  next->layout = HEG_STORE_LAYOUT;
  next->counter = ctx->ps.counter + 1u;
  HEG_TRY(record_digest(next, next->digest));

  HEG_TRY(heg_hal_storage_erase(ctx->hal, target));
  HEG_TRY(heg_hal_storage_program(ctx->hal, target * page_size, (const uint8_t *)next,
                                  sizeof(*next)));
  /* Only a record that reads back whole counts as written. */
  status = read_page(ctx, target, page_size, &check, &valid);
  if (status == HEG_STATUS_OK &&
      (valid != HEG_HTRUE || heg_bytes_equal((const uint8_t *)&check, (const uint8_t *)next,
                                             sizeof(check)) != HEG_HTRUE)) {
    status = HEG_STATUS_STORAGE;
  }
  heg_crypto_wipe(&check, sizeof(check));
  HEG_TRY(status);
  ctx->ps = *next;
  ctx->active_page = target;
  return HEG_STATUS_OK;
}
