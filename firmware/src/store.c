/* Power-fail-safe persistent state: two slots, one record each (layout in
 * internal.h). A slot is the run of pages one record needs.
 *
 * Only the record's scalar part is in RAM (ctx->ps). Its key lists and its
 * event-log ring stay in flash: a commit streams them from the current slot
 * into the other one in HEG_STORE_CHUNK-byte pieces, putting the command's
 * pending changes in their place, and hashes every byte on the way; boot
 * checks a slot by streaming its digest the same way. So no step ever needs
 * the whole record in RAM, and the power-cut argument is unchanged: the other
 * slot is erased, written in offset order, and the digest goes last. */
#include <string.h>

#include "codec.h"
#include "heg/heg_crypto.h"
#include "internal.h"

/* Copy and check buffer (stack). 256 keeps a commit to a handful of program
 * operations (each a power-cut point the tests walk through). */
#define HEG_STORE_CHUNK 256u

HEG_STATIC_ASSERT(sizeof(heg_persistent_t) % 8u == 0u, record_word_aligned);
HEG_STATIC_ASSERT(offsetof(heg_persistent_t, counter) == 8u, counter_offset);
HEG_STATIC_ASSERT(offsetof(heg_persistent_t, device_seed) == 24u, seed_offset);
HEG_STATIC_ASSERT(HEG_STORE_ENDORSEMENT_LEN % 4u == 0u, endorsement_words);
HEG_STATIC_ASSERT(sizeof(heg_log_entry_t) == 8u + HEG_LOG_STORED_PAYLOAD, log_entry_size);
/* Every program (offset and length) stays a multiple of 4. */
HEG_STATIC_ASSERT(sizeof(heg_log_entry_t) % 4u == 0u, log_entry_words);
HEG_STATIC_ASSERT(HEG_KEY_SIZE % 4u == 0u, key_words);
HEG_STATIC_ASSERT(HEG_STORE_CHUNK % 4u == 0u, chunk_words);
HEG_STATIC_ASSERT(HEG_STORE_RING_OFF % 8u == 0u, ring_aligned);
HEG_STATIC_ASSERT(HEG_STORE_DIGEST_OFF % 8u == 0u, digest_aligned);
HEG_STATIC_ASSERT(HEG_LOG_PENDING <= HEG_LOG_RING, pending_fits_the_ring);
HEG_STATIC_ASSERT(sizeof(heg_workload_t) % 8u == 0u, workload_entry_words);
HEG_STATIC_ASSERT(HEG_WORKLOADS <= 0xffffu, workload_slots_fit_u16);

static heg_status_t geometry(heg_ctx_t *ctx, uint32_t *slot_size) {
  uint32_t page_size = 0;
  uint32_t count = 0;
  uint32_t pages;
  HEG_TRY(heg_hal_storage_geometry(ctx->hal, &page_size, &count));
  if (page_size == 0u || page_size % 8u != 0u) {
    return HEG_STATUS_STORAGE;
  }
  pages = (HEG_STORE_RECORD_SIZE + page_size - 1u) / page_size;
  if (count / HEG_STORE_SLOTS < pages) {
    return HEG_STATUS_STORAGE;
  }
  *slot_size = pages * page_size;
  return HEG_STATUS_OK;
}

/* The counts that size the streamed sections are within their capacities
 * (checked before a record read from flash is trusted to size anything). */
static heg_hbool_t counts_sane(const heg_persistent_t *ps) {
  uint32_t list;
  for (list = 0; list < HEG_KEYS_LISTS; ++list) {
    if (ps->policy.key_count[list] > HEG_STORE_LIST_CAP(list)) {
      return HEG_HFALSE;
    }
  }
  return ps->workload_count <= HEG_WORKLOADS ? HEG_HTRUE : HEG_HFALSE;
}

static uint32_t ring_used(const heg_persistent_t *ps) {
  return ps->log_count < HEG_LOG_RING ? ps->log_count : HEG_LOG_RING;
}

/* The endorsement is there once the device is PROVISIONED. */
static size_t endorsement_len(const heg_persistent_t *ps) {
  return ps->device_state == HEG_DEVICE_STATE_PROVISIONED ? HEG_STORE_ENDORSEMENT_LEN : 0u;
}

/* Feeds len bytes of flash at offset into sha, a chunk at a time. */
static heg_status_t hash_flash(heg_ctx_t *ctx, heg_digest_t *sha, uint32_t offset, size_t len) {
  uint8_t chunk[HEG_STORE_CHUNK];
  size_t n;
  while (len != 0u) {
    n = len < sizeof(chunk) ? len : sizeof(chunk);
    HEG_TRY(heg_hal_storage_read(ctx->hal, offset, chunk, n));
    HEG_TRY(heg_crypto_digest_update(sha, chunk, n));
    offset += (uint32_t)n;
    len -= n;
  }
  return HEG_STATUS_OK;
}

/* The digest of the record at base whose scalar part equals ctx->ps (read
 * from there, or compared with it): ctx->ps, then each list's keys, then the
 * ring's entries, streamed from flash. Counts must be sane. */
static heg_status_t slot_digest(heg_ctx_t *ctx, uint32_t base, uint8_t out[HEG_DIGEST_SIZE]) {
  heg_digest_t sha;
  uint32_t list;
  heg_status_t status;

  status = heg_crypto_digest_init(&sha);
  if (status == HEG_STATUS_OK) {
    status = heg_crypto_digest_update(&sha, (const uint8_t *)&ctx->ps, sizeof(ctx->ps));
  }
  for (list = 0; list < HEG_KEYS_LISTS && status == HEG_STATUS_OK; ++list) {
    status = hash_flash(ctx, &sha, base + HEG_STORE_KEYS_OFF(list),
                        (size_t)ctx->ps.policy.key_count[list] * HEG_KEY_SIZE);
  }
  if (status == HEG_STATUS_OK) {
    status = hash_flash(ctx, &sha, base + HEG_STORE_ENDORSEMENT_OFF, endorsement_len(&ctx->ps));
  }
  if (status == HEG_STATUS_OK) {
    status = hash_flash(ctx, &sha, base + HEG_STORE_RING_OFF,
                        (size_t)ring_used(&ctx->ps) * sizeof(heg_log_entry_t));
  }
  if (status == HEG_STATUS_OK) {
    status = hash_flash(ctx, &sha, base + HEG_STORE_WORKLOADS_OFF,
                        (size_t)ctx->ps.workload_count * sizeof(heg_workload_t));
  }
  if (status == HEG_STATUS_OK) {
    return heg_crypto_digest_final(&sha, out);
  }
  heg_crypto_wipe(&sha, sizeof(sha));
  return status;
}

/* Reads the scalar part of the record in a slot into ctx->ps and checks the
 * whole record by its streamed digest; *valid says whether it is whole. A
 * slot that does not even look like a record reads as counter 0. */
static heg_status_t read_slot(heg_ctx_t *ctx, uint32_t slot, uint32_t slot_size,
                              heg_hbool_t *valid) {
  uint8_t digest[HEG_DIGEST_SIZE];
  uint8_t stored[HEG_DIGEST_SIZE];
  heg_persistent_t *rec = &ctx->ps;
  uint32_t base = slot * slot_size;
  *valid = HEG_HFALSE;
  HEG_TRY(heg_hal_storage_read(ctx->hal, base, (uint8_t *)rec, sizeof(*rec)));
  if (rec->magic != HEG_STORE_MAGIC || rec->layout != HEG_STORE_LAYOUT) {
    rec->counter = 0u; /* not a record at all (erased, or another layout) */
    return HEG_STATUS_OK;
  }
  if (counts_sane(rec) != HEG_HTRUE) {
    return HEG_STATUS_OK;
  }
  HEG_TRY(slot_digest(ctx, base, digest));
  HEG_TRY(heg_hal_storage_read(ctx->hal, base + HEG_STORE_DIGEST_OFF, stored, sizeof(stored)));
  *valid = heg_bytes_equal(digest, stored, sizeof(digest));
  if (*valid == HEG_HTRUE &&
      (rec->device_state < HEG_DEVICE_STATE_UNPROVISIONED ||
       rec->device_state > HEG_DEVICE_STATE_RECOVERY_REQUIRED)) {
    *valid = HEG_HFALSE;
  }
  return HEG_STATUS_OK;
}

/* Drops the command's uncommitted changes that live outside ctx->ps. */
static void clear_pending(heg_ctx_t *ctx) {
  uint32_t list;
  ctx->pending_policy = HEG_HFALSE;
  for (list = 0; list < HEG_KEYS_LISTS; ++list) {
    ctx->pending_keys[list] = NULL;
  }
  ctx->pending_endorsement = NULL;
  ctx->log_pending_count = 0u;
  heg_crypto_wipe(ctx->log_pending, sizeof(ctx->log_pending));
  ctx->staged_workloads = NULL;
  ctx->staged_workload_count = 0u;
}

static void factory_defaults(heg_ctx_t *ctx) {
  heg_crypto_wipe(&ctx->ps, sizeof(ctx->ps));
  ctx->ps.device_state = HEG_DEVICE_STATE_UNPROVISIONED;
  ctx->ps.license_active = HEG_HFALSE;
  ctx->ps.exhausted_logged = HEG_HFALSE;
  ctx->ps.paused = HEG_HFALSE;
  ctx->ps.halted = HEG_HFALSE;
  ctx->ps.fleet_halted = HEG_HFALSE;
  ctx->ps.tampered = HEG_HFALSE;
  ctx->active_slot = HEG_STORE_NO_PAGE;
}

/* A device whose store is gone but whose OTP area is programmed (a whole
 * anchor or a torn one) fails closed into RECOVERY_REQUIRED instead of
 * booting factory fresh, where anyone could provision it with their own
 * genesis policy and vendor. (Its own frame: the OTP area stays off the
 * stack of every rollback, which loads the store too.) */
static HEG_OWN_FRAME heg_status_t enter_recovery_if_anchored(heg_ctx_t *ctx) {
  heg_anchor_t anchor;
  heg_hbool_t anchored = HEG_HFALSE;
  heg_status_t status = heg_anchor_read(ctx, &anchor, &anchored);
  if (status == HEG_STATUS_OTP_INVALID || (status == HEG_STATUS_OK && anchored != HEG_HFALSE)) {
    ctx->ps.device_state = HEG_DEVICE_STATE_RECOVERY_REQUIRED;
    if (anchored == HEG_HTRUE) {
      memcpy(ctx->ps.vendor_key, anchor.vendor_key, HEG_KEY_SIZE); /* shown by INFO */
    }
    return HEG_STATUS_OK;
  }
  return status;
}

heg_status_t heg_store_load(heg_ctx_t *ctx, uint64_t *lost_counter) {
  heg_hbool_t valid = HEG_HFALSE;
  uint64_t counters[HEG_STORE_SLOTS];
  heg_hbool_t valids[HEG_STORE_SLOTS];
  uint32_t slot_size = 0;
  uint32_t slot;
  uint32_t best = HEG_STORE_NO_PAGE;

  clear_pending(ctx);
  ctx->active_slot = HEG_STORE_NO_PAGE;
  *lost_counter = 0u;
  HEG_TRY(geometry(ctx, &slot_size));
  ctx->slot_size = slot_size;
  /* One scalar buffer (ctx->ps): check each slot, note its verdict, then read
   * the winner again (and check it again). */
  for (slot = 0; slot < HEG_STORE_SLOTS; ++slot) {
    HEG_TRY(read_slot(ctx, slot, slot_size, &valids[slot]));
    counters[slot] = ctx->ps.counter;
    if (valids[slot] == HEG_HTRUE && (best == HEG_STORE_NO_PAGE || counters[slot] > counters[best])) {
      best = slot;
    }
  }
  if (best == HEG_STORE_NO_PAGE) {
    /* Factory fresh (or a first write torn by a power cut), unless the OTP
     * anchor says this device was provisioned: then its store was lost. */
    factory_defaults(ctx);
    return enter_recovery_if_anchored(ctx);
  }
  HEG_TRY(read_slot(ctx, best, slot_size, &valid));
  if (valid != HEG_HTRUE || ctx->ps.counter != counters[best]) {
    factory_defaults(ctx);
    return HEG_STATUS_STORAGE;
  }
  ctx->active_slot = best;
  slot = best == 0u ? 1u : 0u;
  if (valids[slot] != HEG_HTRUE && counters[slot] > counters[best]) {
    *lost_counter = counters[slot];
  }
  return HEG_STATUS_OK;
}

void heg_store_rollback(heg_ctx_t *ctx) {
  uint64_t lost_counter;
  /* A lost record seen again here was already counted by boot, whose commit
   * overwrote it; any later one is a commit that just failed and rolled back. */
  if (heg_store_load(ctx, &lost_counter) != HEG_STATUS_OK) {
    /* The last durable state cannot be read back: stop rather than run on a
     * state that may never have been written. */
    ctx->booted = HEG_HFALSE;
    heg_meter_gate_close(ctx);
  }
}

heg_status_t heg_store_read(heg_ctx_t *ctx, uint32_t off, uint8_t *out, size_t len) {
  if (ctx->active_slot == HEG_STORE_NO_PAGE || off > HEG_STORE_RECORD_SIZE ||
      len > HEG_STORE_RECORD_SIZE - off) {
    return HEG_STATUS_STORAGE;
  }
  return heg_hal_storage_read(ctx->hal, ctx->active_slot * ctx->slot_size + off, out, len);
}

void heg_store_set_pending_policy(heg_ctx_t *ctx, const heg_keylist_t lists[HEG_KEYS_LISTS]) {
  uint32_t list;
  for (list = 0; list < HEG_KEYS_LISTS; ++list) {
    ctx->pending_keys[list] = lists[list].mem;
  }
  ctx->pending_policy = HEG_HTRUE;
}

void heg_store_set_pending_endorsement(heg_ctx_t *ctx, const uint8_t *endorsement) {
  ctx->pending_endorsement = endorsement;
}

heg_hbool_t heg_store_has_pending(const heg_ctx_t *ctx) {
  return (ctx->pending_policy != HEG_HFALSE || ctx->pending_endorsement != NULL ||
          ctx->log_pending_count != 0u || ctx->staged_workload_count != 0u)
             ? HEG_HTRUE
             : HEG_HFALSE;
}

/* The staged workload entry for slot, or NULL. */
static const uint8_t *staged_at(const heg_ctx_t *ctx, uint32_t slot) {
  uint32_t k;
  uint32_t at;
  for (k = 0; k < ctx->staged_workload_count; ++k) {
    memcpy(&at, ctx->staged_workloads + k * sizeof(heg_workload_t) + offsetof(heg_workload_t, slot),
           sizeof(at));
    if (at == slot) {
      return ctx->staged_workloads + k * sizeof(heg_workload_t);
    }
  }
  return NULL;
}

heg_status_t heg_store_stage_workload(heg_ctx_t *ctx, const heg_workload_t *entry,
                                      uint8_t *scratch, size_t scratch_cap) {
  const uint8_t *again = NULL;
  uint32_t k = ctx->staged_workload_count;
  if (entry->slot >= HEG_WORKLOADS || entry->slot > ctx->ps.workload_count ||
      (k != 0u && scratch != ctx->staged_workloads)) {
    return HEG_STATUS_BAD_REQUEST;
  }
  if (k != 0u) {
    again = staged_at(ctx, entry->slot);
  }
  if (again != NULL) {
    k = (uint32_t)((size_t)(again - scratch) / sizeof(heg_workload_t));
  } else if (k >= HEG_WORKLOADS_STAGED || scratch_cap < (k + 1u) * sizeof(heg_workload_t)) {
    return HEG_STATUS_RESPONSE_TOO_LARGE;
  } else {
    ctx->staged_workload_count = k + 1u;
  }
  memcpy(scratch + k * sizeof(heg_workload_t), entry, sizeof(*entry));
  ctx->staged_workloads = scratch;
  return HEG_STATUS_OK;
}

/* The record being streamed into the target slot. */
typedef struct {
  heg_ctx_t *ctx;
  uint32_t base; /* the target slot's first byte */
  heg_digest_t sha;
} heg_writer_t;

/* Programs len bytes from RAM at off of the target and hashes them. */
static heg_status_t emit(heg_writer_t *w, uint32_t off, const uint8_t *data, size_t len) {
  if (len == 0u) {
    return HEG_STATUS_OK;
  }
  HEG_TRY(heg_hal_storage_program(w->ctx->hal, w->base + off, data, len));
  return heg_crypto_digest_update(&w->sha, data, len);
}

/* Copies len bytes at off of the active record to the same place in the
 * target, hashing them. */
static heg_status_t copy_active(heg_writer_t *w, uint32_t off, size_t len) {
  uint8_t chunk[HEG_STORE_CHUNK];
  size_t n;
  heg_status_t status = HEG_STATUS_OK;
  while (len != 0u && status == HEG_STATUS_OK) {
    n = len < sizeof(chunk) ? len : sizeof(chunk);
    status = heg_store_read(w->ctx, off, chunk, n);
    if (status == HEG_STATUS_OK) {
      status = emit(w, off, chunk, n);
    }
    off += (uint32_t)n;
    len -= n;
  }
  heg_crypto_wipe(chunk, sizeof(chunk));
  return status;
}

/* The pending log entry that goes to ring position pos, or NULL. */
static const uint8_t *pending_at(const heg_ctx_t *ctx, uint32_t pos) {
  uint32_t k;
  for (k = 0; k < ctx->log_pending_count; ++k) {
    if (ctx->log_pending[k].index % HEG_LOG_RING == pos) {
      return (const uint8_t *)&ctx->log_pending[k];
    }
  }
  return NULL;
}

/* The key lists: a new policy's from the request, else the active record's. */
static heg_status_t write_lists(heg_writer_t *w) {
  heg_ctx_t *ctx = w->ctx;
  uint32_t list;
  size_t len;
  for (list = 0; list < HEG_KEYS_LISTS; ++list) {
    len = (size_t)ctx->ps.policy.key_count[list] * HEG_KEY_SIZE;
    if (ctx->pending_policy == HEG_HTRUE) {
      if (len != 0u && ctx->pending_keys[list] == NULL) {
        return HEG_STATUS_STORAGE;
      }
      HEG_TRY(emit(w, HEG_STORE_KEYS_OFF(list), ctx->pending_keys[list], len));
    } else {
      /* Unchanged policy: the active record has these very counts. */
      HEG_TRY(copy_active(w, HEG_STORE_KEYS_OFF(list), len));
    }
  }
  return HEG_STATUS_OK;
}

/* A section of used elements of size bytes at off (the ring, the workload
 * table): each position from the command's changes when pending() has one
 * there, else copied (in runs) from the active record. */
static heg_status_t write_section(heg_writer_t *w, uint32_t off, uint32_t size, uint32_t used,
                                  const uint8_t *(*pending)(const heg_ctx_t *, uint32_t)) {
  const heg_ctx_t *ctx = w->ctx;
  const uint8_t *element;
  uint32_t pos = 0;
  uint32_t end;
  while (pos < used) {
    element = pending(ctx, pos);
    if (element != NULL) {
      HEG_TRY(emit(w, off + pos * size, element, size));
      pos += 1u;
    } else {
      for (end = pos + 1u; end < used && pending(ctx, end) == NULL; ++end) {
      }
      HEG_TRY(copy_active(w, off + pos * size, (size_t)(end - pos) * size));
      pos = end;
    }
  }
  return HEG_STATUS_OK;
}

/* The scalar part in the slot at base reads back equal to ctx->ps. */
static heg_status_t check_scalar(heg_ctx_t *ctx, uint32_t base) {
  uint8_t chunk[HEG_STORE_CHUNK];
  const uint8_t *rec = (const uint8_t *)&ctx->ps;
  size_t done;
  size_t n;
  heg_status_t status = HEG_STATUS_OK;
  for (done = 0; done < sizeof(ctx->ps) && status == HEG_STATUS_OK; done += n) {
    n = sizeof(ctx->ps) - done < sizeof(chunk) ? sizeof(ctx->ps) - done : sizeof(chunk);
    status = heg_hal_storage_read(ctx->hal, base + (uint32_t)done, chunk, n);
    if (status == HEG_STATUS_OK && heg_bytes_equal(chunk, rec + done, n) != HEG_HTRUE) {
      status = HEG_STATUS_STORAGE;
    }
  }
  heg_crypto_wipe(chunk, sizeof(chunk)); /* the scalar part holds the seed */
  return status;
}

static heg_status_t write_slot(heg_ctx_t *ctx, uint32_t target, uint32_t slot_size) {
  heg_writer_t w;
  uint8_t digest[HEG_DIGEST_SIZE];
  uint8_t check[HEG_DIGEST_SIZE];
  uint32_t page_size = 0;
  uint32_t count = 0;
  uint32_t page;
  heg_status_t status;

  HEG_TRY(heg_hal_storage_geometry(ctx->hal, &page_size, &count));
  for (page = target * (slot_size / page_size); page < (target + 1u) * (slot_size / page_size);
       ++page) {
    HEG_TRY(heg_hal_storage_erase(ctx->hal, page));
  }
  /* In offset order, hashing as it goes: scalar part, lists, endorsement, ring,
   * workloads. */
  w.ctx = ctx;
  w.base = target * slot_size;
  status = heg_crypto_digest_init(&w.sha);
  if (status == HEG_STATUS_OK) {
    status = emit(&w, 0u, (const uint8_t *)&ctx->ps, sizeof(ctx->ps));
  }
  if (status == HEG_STATUS_OK) {
    status = write_lists(&w);
  }
  if (status == HEG_STATUS_OK) {
    status = ctx->pending_endorsement != NULL
                 ? emit(&w, HEG_STORE_ENDORSEMENT_OFF,
                        ctx->pending_endorsement + HEG_ENDORSEMENT_DEVICE_ID_OFF,
                        endorsement_len(&ctx->ps))
                 : copy_active(&w, HEG_STORE_ENDORSEMENT_OFF, endorsement_len(&ctx->ps));
  }
  if (status == HEG_STATUS_OK) {
    status = write_section(&w, HEG_STORE_RING_OFF, (uint32_t)sizeof(heg_log_entry_t),
                           ring_used(&ctx->ps), pending_at);
  }
  if (status == HEG_STATUS_OK) {
    status = write_section(&w, HEG_STORE_WORKLOADS_OFF, (uint32_t)sizeof(heg_workload_t),
                           ctx->ps.workload_count, staged_at);
  }
  if (status != HEG_STATUS_OK) {
    heg_crypto_wipe(&w.sha, sizeof(w.sha));
    return status;
  }
  HEG_TRY(heg_crypto_digest_final(&w.sha, digest));
  /* The digest last: until it is there the slot is not a record. */
  HEG_TRY(heg_hal_storage_program(ctx->hal, w.base + HEG_STORE_DIGEST_OFF, digest,
                                  sizeof(digest)));
  /* Only a record that reads back whole counts as written: the scalar part
   * byte for byte, the streamed sections and the digest by the digest. */
  HEG_TRY(check_scalar(ctx, w.base));
  HEG_TRY(slot_digest(ctx, w.base, check));
  if (heg_bytes_equal(check, digest, sizeof(digest)) != HEG_HTRUE) {
    return HEG_STATUS_STORAGE;
  }
  HEG_TRY(heg_hal_storage_read(ctx->hal, w.base + HEG_STORE_DIGEST_OFF, check, sizeof(check)));
  if (heg_bytes_equal(check, digest, sizeof(digest)) != HEG_HTRUE) {
    return HEG_STATUS_STORAGE;
  }
  return HEG_STATUS_OK;
}

heg_status_t heg_store_commit(heg_ctx_t *ctx) {
  uint32_t slot_size = 0;
  uint32_t target;
  uint64_t counter;
  heg_status_t status;

  status = geometry(ctx, &slot_size);
  if (status == HEG_STATUS_OK &&
      (ctx->ps.counter == UINT64_MAX || counts_sane(&ctx->ps) != HEG_HTRUE ||
       (ctx->active_slot != HEG_STORE_NO_PAGE && slot_size != ctx->slot_size))) {
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
  status = write_slot(ctx, target, slot_size);
  if (status != HEG_STATUS_OK) {
    heg_store_rollback(ctx);
    return status;
  }
  /* The new record is the active one: its lists, endorsement and ring now
   * hold what was pending. */
  ctx->active_slot = target;
  ctx->slot_size = slot_size;
  clear_pending(ctx);
  return HEG_STATUS_OK;
}

heg_status_t heg_store_finish(heg_ctx_t *ctx, heg_status_t status) {
  if (status != HEG_STATUS_OK) {
    heg_store_rollback(ctx);
    return status;
  }
  return heg_store_commit(ctx);
}
