/* The workload table (layout in internal.h): per workload id, the compute
 * granted to its licenses and the pause that holds it.
 *
 * Bounded at HEG_WORKLOADS entries. When a new workload needs a slot and the
 * table is full, the entry with the smallest grant of all is forgotten (ties:
 * an entry no pause holds first, then the lowest slot); when that entry is
 * paused, the new workload is refused (WORKLOADS_FULL). Forgetting a workload
 * lets a later license for it start from zero again, so the cheapest entry to
 * forget is the one that gives least back: an operator who wants workload W
 * forgotten must first have licenses for HEG_WORKLOADS other workloads
 * installed, each granted at least as much as W. A pause is never forgotten,
 * and paused entries count in that smallest grant: otherwise an operator who
 * had the other entries paused (granted nothing) made W, the biggest grant,
 * the only one the table could forget. A pause binds the workload, not a
 * license (orders.c): it is recorded in the workload's entry whether or not
 * its license is in force, in a free slot if the table has none for it. */
#include <string.h>

#include "codec.h"
#include "internal.h"

#define HEG_NO_SLOT 0xffffffffu

heg_status_t heg_workload_read(heg_ctx_t *ctx, uint32_t slot, heg_workload_t *out) {
  if (slot >= ctx->ps.workload_count) {
    return HEG_STATUS_STORAGE;
  }
  return heg_store_read(ctx, HEG_STORE_WORKLOAD_OFF(slot), (uint8_t *)out, sizeof(*out));
}

heg_status_t heg_workload_find(heg_ctx_t *ctx, const uint8_t workload_id[HEG_ID_SIZE],
                               heg_workload_t *out, heg_hbool_t *found) {
  uint32_t slot;
  *found = HEG_HFALSE;
  for (slot = 0; slot < ctx->ps.workload_count; ++slot) {
    HEG_TRY(heg_workload_read(ctx, slot, out));
    if (heg_bytes_equal(out->workload_id, workload_id, HEG_ID_SIZE) == HEG_HTRUE) {
      *found = HEG_HTRUE;
      return HEG_STATUS_OK;
    }
  }
  /* A pause for a workload the device has not licensed yet takes a free slot,
   * never another workload's: forgetting a grant must not follow from an
   * order that only restricts. */
  if (ctx->ps.workload_count >= HEG_WORKLOADS) {
    return HEG_STATUS_WORKLOADS_FULL;
  }
  memset(out, 0, sizeof(*out));
  memcpy(out->workload_id, workload_id, HEG_ID_SIZE);
  out->paused = HEG_HFALSE;
  out->slot = ctx->ps.workload_count;
  return HEG_STATUS_OK;
}

heg_status_t heg_workload_stage(heg_ctx_t *ctx, const heg_workload_t *entry, uint8_t *scratch,
                                size_t scratch_cap) {
  HEG_TRY(heg_store_stage_workload(ctx, entry, scratch, scratch_cap));
  if (entry->slot == ctx->ps.workload_count) {
    ctx->ps.workload_count = (uint16_t)(ctx->ps.workload_count + 1u);
  }
  return HEG_STATUS_OK;
}

heg_u128_t heg_workload_settled(const heg_ctx_t *ctx, heg_u128_t granted, heg_u128_t consumed) {
  return heg_u128_add(
      heg_u128_sub_floor(granted, heg_u128_add(ctx->ps.allocation, ctx->ps.oversight_reserved)),
      consumed);
}

heg_status_t heg_workload_grant(heg_ctx_t *ctx, const heg_license_t *lic, heg_u128_t spent,
                                uint8_t *scratch, size_t scratch_cap, heg_workload_t *target,
                                heg_hbool_t *within) {
  heg_workload_t in_force; /* the workload of the license being replaced */
  heg_workload_t entry;
  heg_hbool_t replacing = ctx->ps.license_active == HEG_HTRUE ? HEG_HTRUE : HEG_HFALSE;
  heg_u128_t least = heg_u128_zero();
  uint32_t victim = HEG_NO_SLOT;
  heg_hbool_t victim_paused = HEG_HTRUE;
  uint32_t slot;

  *within = HEG_HFALSE;
  memset(&in_force, 0, sizeof(in_force));
  if (replacing == HEG_HTRUE) {
    /* The license in force stops here: its workload keeps what it spent
     * instead of its whole allocation. */
    HEG_TRY(heg_workload_read(ctx, ctx->ps.workload_slot, &in_force));
    in_force.granted = heg_workload_settled(ctx, in_force.granted, spent);
  }
  target->slot = HEG_NO_SLOT;
  for (slot = 0; slot < ctx->ps.workload_count; ++slot) {
    if (replacing == HEG_HTRUE && slot == ctx->ps.workload_slot) {
      entry = in_force;
    } else {
      HEG_TRY(heg_workload_read(ctx, slot, &entry));
    }
    if (heg_bytes_equal(entry.workload_id, lic->workload_id, HEG_ID_SIZE) == HEG_HTRUE) {
      *target = entry;
      break;
    }
    if (victim == HEG_NO_SLOT || heg_u128_cmp(entry.granted, least) < 0 ||
        (heg_u128_cmp(entry.granted, least) == 0 && victim_paused == HEG_HTRUE &&
         entry.paused == HEG_HFALSE)) {
      victim = slot;
      least = entry.granted;
      victim_paused = entry.paused == HEG_HFALSE ? HEG_HFALSE : HEG_HTRUE;
    }
  }
  if (target->slot == HEG_NO_SLOT) {
    slot = ctx->ps.workload_count < HEG_WORKLOADS ? ctx->ps.workload_count : victim;
    if (slot == HEG_NO_SLOT ||
        (ctx->ps.workload_count >= HEG_WORKLOADS && victim_paused != HEG_HFALSE)) {
      return HEG_STATUS_WORKLOADS_FULL;
    }
    memset(target, 0, sizeof(*target));
    memcpy(target->workload_id, lic->workload_id, HEG_ID_SIZE);
    target->paused = HEG_HFALSE;
    target->slot = slot;
  }
  /* G-grant: what the device has granted the workload, this license
   * included, stays within the total the license declares. */
  if (heg_u128_cmp(heg_u128_add(target->granted, lic->allocation_msflop),
                   lic->workload_total_msflop) > 0) {
    return HEG_STATUS_OVER_GRANTED;
  }
  target->granted = heg_u128_add(target->granted, lic->allocation_msflop);
  if (scratch != NULL) {
    /* The replaced entry first: when it is the same slot (the same workload,
     * or the one forgotten), the new entry replaces it. */
    if (replacing == HEG_HTRUE) {
      HEG_TRY(heg_workload_stage(ctx, &in_force, scratch, scratch_cap));
    }
    HEG_TRY(heg_workload_stage(ctx, target, scratch, scratch_cap));
  }
  *within = HEG_HTRUE;
  return HEG_STATUS_OK;
}
