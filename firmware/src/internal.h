/* Firmware internals: the context, the persistent record and the functions
 * the per-job source files share. Not part of the public API. */
#ifndef HEG_SRC_INTERNAL_H
#define HEG_SRC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "heg/heg.h"
#include "heg/heg_link_regs.h"
#include "heg/heg_regs.h"
#include "hardened.h"

/* A function whose locals must not join its caller's frame (LTO would
 * inline it): used where a buffer must be off the stack before a deeper
 * call, such as signature verification, runs. */
#if defined(__GNUC__) || defined(__clang__)
#define HEG_OWN_FRAME __attribute__((noinline))
#else
#define HEG_OWN_FRAME
#endif

/* ---- The policy in force (policy.c) --------------------------------------
 * The parsed form of an openheg.wire.Policy: its scalar part, kept in the RAM
 * mirror of the persistent record. Its four key lists are not mirrored in RAM
 * (up to 80 keys, 2560 bytes): they live in the record in flash and are read
 * 32 bytes at a time through a key-list descriptor (heg_keylist_t below). */
#define HEG_KEYS_BOARD 0u
#define HEG_KEYS_INSPECTOR 1u
#define HEG_KEYS_PARTY 2u
#define HEG_KEYS_REVOKED 3u
#define HEG_KEYS_LISTS 4u

typedef struct {
  uint32_t version;
  uint32_t board_threshold;
  uint32_t horizon_board_threshold;
  uint32_t schedule_epoch_day;
  uint64_t issued_at;
  uint8_t issuer_key[HEG_KEY_SIZE];
  uint8_t time_authority_key[HEG_KEY_SIZE];
  /* G-policy-identity: heg_crypto_digest of the signed body (openheg.wire.
   * Policy.digest), attested and logged: two policies of one version differ in it. */
  uint8_t digest[HEG_DIGEST_SIZE];
  uint32_t weights_milli[HEG_LANES];
  heg_u128_t frontier_base;
  heg_u128_t frontier_daily_increase;
  heg_u128_t horizon_base;
  heg_u128_t horizon_daily_increase;
  heg_u128_t allowance_chunk;
  uint32_t oversight_min_ppm;
  uint32_t watchdog_period_cycles;
  uint32_t beacon_max_age_s;
  uint32_t clock_drift_ppm;
  uint32_t lockout_threshold;
  uint32_t lockout_duration_s;
  uint32_t baselines;
  uint32_t link_wire_mb_per_s;
  uint32_t link_burst_wire_bytes;
  uint32_t inference_link_wire_mb_per_s;
  uint32_t inference_link_burst_wire_bytes;
  uint32_t key_count[HEG_KEYS_LISTS]; /* entries of each list (HEG_KEYS_*) */
} heg_policy_t;

/* Where one key list is: count keys of HEG_KEY_SIZE bytes, strictly
 * ascending, either in memory (a request being handled: mem != NULL) or in
 * the storage at flash_off (the policy in force, in the active record). Every
 * lookup goes through heg_keylist_key, so there is one lookup routine for
 * both places. */
typedef struct {
  const uint8_t *mem;
  uint32_t flash_off;
  uint32_t count;
} heg_keylist_t;

/* A signature set inside a request payload (licenses, policies, orders). */
typedef struct {
  const uint8_t *entries; /* count entries of HEG_SIGNATURE_ENTRY_SIZE bytes */
  uint32_t count;
} heg_sigset_t;

/* ---- The event log ring (eventlog.c) --------------------------------------
 * The newest HEG_LOG_RING entries are kept; older ones are gone, and the chain
 * head before the oldest kept entry (log_tail_head) lets a reader recompute the
 * chain from there. The ring is in the record in flash (store.c), not in
 * RAM; entries appended since the last commit wait in ctx->log_pending.
 * Stored payloads are at most HEG_LOG_STORED_PAYLOAD bytes (the largest event
 * the firmware logs). */
#define HEG_LOG_RING 32u
#define HEG_LOG_STORED_PAYLOAD 56u

typedef struct {
  uint32_t index;
  uint8_t event_type;
  uint8_t payload_len;
  uint8_t reserved[2];
  uint8_t payload[HEG_LOG_STORED_PAYLOAD];
} heg_log_entry_t;

/* ---- Workloads (workloads.c) ----------------------------------------------
 * G-grant and G-pause: what the device knows per workload id, kept across
 * licenses. granted: the compute it has granted the workload's licenses (each
 * replaced license counts what it consumed, the one in force its whole
 * allocation), which no license may take past its declared total. A pause
 * binds the workload, not one license: it holds through every install for
 * the workload until a resume issued no earlier than the pause lifts it.
 * HEG_WORKLOADS entries live in the record in flash (store.c streams them
 * like the key lists); RAM holds only the slot of the workload in force and
 * the entries a command changes, staged in its response buffer. */
#define HEG_WORKLOADS 16u
#define HEG_WORKLOADS_STAGED 2u /* a license install changes two: the old and the new */

typedef struct {
  uint8_t workload_id[HEG_ID_SIZE];
  heg_u128_t granted;
  uint64_t pause_issued_at; /* the pause in force: when it was issued */
  heg_hbool_t paused;
  uint32_t slot;                 /* its own position in the table */
  uint8_t pauser[HEG_KEY_SIZE]; /* the inspector who paused */
} heg_workload_t;

/* The kinds of record the failed-attempt lockout counts apart (lockout.c). */
#define HEG_LOCKOUT_LICENSE 0u
#define HEG_LOCKOUT_POLICY 1u
#define HEG_LOCKOUT_ORDER 2u /* orders that grant; orders that restrict stay out */
#define HEG_LOCKOUT_KINDS 3u

/* ---- Persistent state (store.c) ----------------------------------------
 * One record, written whole to the slot (a run of pages) not holding the
 * current one, with counter + 1 and a digest (heg_crypto_digest) written last. Boot takes
 * the valid record with the highest counter, so a power cut at any point
 * leaves the old record or the new one. Erased flash (all 0xFF) fails the
 * magic and the digest, so it never reads as a record. The record is only
 * ever read back by this firmware, in native byte order.
 *
 * Layout of a record in its slot (offsets from the slot's start):
 *   [0, sizeof(heg_persistent_t))  the scalar part, byte for byte as in RAM
 *   HEG_STORE_KEYS_OFF(list)       the policy's key lists, each at a fixed
 *                                  place sized for its maximum; only the first
 *                                  key_count[list] keys are written
 *   HEG_STORE_ENDORSEMENT_OFF      the vendor's endorsement after its 6-byte
 *                                  record header (which READ_ENDORSEMENT
 *                                  rebuilds); written once PROVISIONED
 *   HEG_STORE_RING_OFF             the event-log ring (HEG_LOG_RING entries);
 *                                  only the first min(log_count, RING) written
 *   HEG_STORE_WORKLOADS_OFF        the workload table (HEG_WORKLOADS entries);
 *                                  only the first workload_count written
 *   HEG_STORE_DIGEST_OFF           the digest of the scalar part, then each
 *                                  list's written keys, the endorsement, the
 *                                  ring's written entries, then the workloads'
 *                                  (every byte ever read back; the counts that
 *                                  size them are in the scalar part, hashed
 *                                  first)
 * RAM holds only the scalar part (ctx->ps). A commit streams the new record
 * into the other slot: the scalar part from RAM, the lists, the endorsement
 * and the ring copied in small chunks from the current slot, with the
 * command's pending changes (a new policy's key lists or an endorsement still
 * in the request, log entries appended since the last commit) put in their
 * place. Boot checks a slot's digest the same
 * way, streaming it from flash. */
#define HEG_ISSUER_PREFIX_SIZE 8u /* heg_persistent_t.license_issuer_prefix */
#define HEG_STORE_MAGIC 0x54534748u /* "HGST" */
#define HEG_STORE_LAYOUT 7u
/* The endorsement as stored: the record without its header. */
#define HEG_STORE_ENDORSEMENT_LEN (HEG_ENDORSEMENT_SIZE - HEG_ENDORSEMENT_DEVICE_ID_OFF)
#define HEG_STORE_SLOTS 2u
#define HEG_STORE_NO_PAGE 0xffffffffu

typedef struct {
  uint32_t magic;
  uint32_t layout;
  uint64_t counter;
  uint32_t device_state; /* HEG_DEVICE_STATE_* */
  uint32_t reset_count;
  uint8_t device_seed[HEG_KEY_SIZE]; /* secret: the device key is derived from it */
  uint8_t vendor_key[HEG_KEY_SIZE];
  heg_policy_t policy; /* valid from KEYED on; its key lists are in flash */
  /* The license in force. */
  heg_hbool_t license_active;
  heg_hbool_t exhausted_logged;
  uint8_t license_id[HEG_ID_SIZE];
  uint64_t license_sequence; /* the license in force's (attested) */
  uint64_t license_floor;    /* replay floor: the last accepted sequence, or above (REVOKE) */
  uint64_t not_before;
  uint64_t not_after;
  /* Bytes, both (parsed to 1 to 3): with the slot and the count they fill
   * the word the class alone took. */
  uint8_t license_class;
  uint8_t license_kind; /* HEG_WORKLOAD_KIND_*: an inference one tightens the link (link.c) */
  uint16_t workload_slot;  /* the license in force's workload (workloads.c) */
  uint16_t workload_count; /* entries of the workload table in use */
  uint8_t inspector_key[HEG_KEY_SIZE];
  heg_u128_t allocation; /* what the workload may run: the license's, less the reserve */
  heg_u128_t charged; /* allowance reserved for the license, never refunded */
  /* G-oversight: the license's oversight_ppm share of its allocation, held
   * back from the workload (the meter's limit never reaches into it) until
   * its named inspector releases it (RELEASE_OVERSIGHT adds it to allocation). */
  heg_u128_t oversight_reserved;
  /* G-revoke: a revoked license never runs again (a REVOKE order, or a policy
   * that revokes its issuer or inspector). The issuer is the policy's issuer
   * when the license was installed; of its key only a prefix is kept: it only
   * ever decides to stop a license (a revoked key that merely shares the
   * prefix would stop it too, and only the board chooses revoked keys). */
  heg_hbool_t license_revoked;
  uint8_t license_issuer_prefix[HEG_ISSUER_PREFIX_SIZE];
  /* A fleet halt is in force (orders.c): set and cleared only by a board
   * quorum's fleet order, never by a per-device LIFT_HALT. (It holds the word
   * that keeps the next field 8-byte aligned.) */
  heg_hbool_t fleet_halted;
  heg_u128_t lane_totals[HEG_LANES];
  /* What every replaced license consumed, summed (attested as retired_msflop):
   * each replacement adds its final total in the commit that logs it
   * (LICENSE_REPLACED), so the log's entries must add up to it. */
  heg_u128_t retired;
  /* Orders. G-orders: one anti-replay state per signer role
   * (HEG_SIGNER_ROLE_* - 1), so no role's order can void another role's
   * undelivered one: the highest sequence accepted, and which of the
   * HEG_ORDER_REPLAY_WINDOW sequences below it were accepted (bit i:
   * highest - 1 - i), so no later order of the role voids an undelivered
   * restricting one either (orders.c). */
  uint64_t order_sequence[HEG_SIGNER_ROLE_COUNT]; /* highest accepted per role */
  uint64_t order_window[HEG_SIGNER_ROLE_COUNT];
  /* The highest fleet order sequence accepted under the policy in force (a
   * new policy starts it again from zero: fleet orders are bound to it). */
  uint64_t fleet_order_sequence;
  heg_hbool_t paused;      /* the workload in force is paused (its table entry) */
  heg_hbool_t halted;      /* a board emergency halt is in force */
  heg_hbool_t tampered;    /* tamper was seen: the gate never opens again */
  /* Per kind of record (HEG_LOCKOUT_*): counted before each verification,
   * reset by a success of that kind (lockout.c). */
  uint32_t auth_failures[HEG_LOCKOUT_KINDS];
  /* Every attestation report counter up to this one may have been signed
   * (reserved HEG_REPORT_COUNTER_BLOCK at a time, attest.c): a boot resumes
   * past it, so no counter is signed twice. */
  uint64_t report_counter_reserved;
  /* Event log (the ring itself is in flash). */
  uint32_t log_count; /* entries ever appended; the next entry's index */
  uint32_t store_reverts; /* boots that found a newer record than this one lost (store.c) */
  uint8_t log_head[HEG_DIGEST_SIZE];
  uint8_t log_tail_head[HEG_DIGEST_SIZE]; /* head before the oldest kept entry */
} heg_persistent_t;

/* Offsets inside a slot (see above). */
#define HEG_STORE_LIST_CAP(list) \
  ((list) == HEG_KEYS_REVOKED ? HEG_MAX_REVOKED_KEYS : HEG_MAX_KEY_LIST)
#define HEG_STORE_KEYS_OFF(list) \
  ((uint32_t)sizeof(heg_persistent_t) + (uint32_t)(list) * HEG_MAX_KEY_LIST * HEG_KEY_SIZE)
#define HEG_STORE_ENDORSEMENT_OFF \
  (HEG_STORE_KEYS_OFF(HEG_KEYS_REVOKED) + HEG_MAX_REVOKED_KEYS * HEG_KEY_SIZE)
#define HEG_STORE_RING_OFF (HEG_STORE_ENDORSEMENT_OFF + HEG_STORE_ENDORSEMENT_LEN)
#define HEG_STORE_WORKLOADS_OFF \
  (HEG_STORE_RING_OFF + HEG_LOG_RING * (uint32_t)sizeof(heg_log_entry_t))
#define HEG_STORE_WORKLOAD_OFF(slot) \
  (HEG_STORE_WORKLOADS_OFF + (uint32_t)(slot) * (uint32_t)sizeof(heg_workload_t))
#define HEG_STORE_DIGEST_OFF HEG_STORE_WORKLOAD_OFF(HEG_WORKLOADS)
#define HEG_STORE_RECORD_SIZE (HEG_STORE_DIGEST_OFF + HEG_DIGEST_SIZE)

/* Log entries appended since the last commit, held in RAM until the commit
 * writes them into the ring in flash. Every path appends at most one entry
 * before it commits or rolls back (each command's one event, the metering
 * loop's TAMPER or EXHAUSTED, each followed by its own heg_store_finish)
 * except boot, which appends RESET and, after a lost commit, STORE_REVERTED,
 * INSTALL_POLICY when the new policy revokes the license in force
 * (POLICY_INSTALLED, then LICENSE_REVOKED), and INSTALL_LICENSE over a
 * license in force (LICENSE_REPLACED, then LICENSE_INSTALLED).
 * heg_log_append refuses to go past this bound rather than lose an entry. */
#define HEG_LOG_PENDING 2u

/* ---- The provisioning anchor (anchor.c) -----------------------------------
 * The whole OTP area (heg_hal.h), programmed once when the device first
 * becomes PROVISIONED and never again. It survives any loss of the store and
 * holds what recovery needs, nothing secret: the vendor whose key alone can
 * authorize a recovery, and the device id of that first provisioning (so the
 * vendor knows which device it recovers). Not the device seed: a device back
 * under its old identity with a zeroed sequence floor would take its old
 * licenses and orders again; recovery makes a new identity instead. The
 * digest shows a program torn by a power cut: such an anchor is never
 * trusted. Read back only by this firmware, in native byte order. */
#define HEG_ANCHOR_MAGIC 0x4e414748u /* "HGAN" */
#define HEG_ANCHOR_LAYOUT 1u

typedef struct {
  uint32_t magic;
  uint32_t layout;
  uint8_t vendor_key[HEG_KEY_SIZE];
  uint8_t first_device_id[HEG_KEY_SIZE];
  uint8_t digest[HEG_DIGEST_SIZE]; /* heg_crypto_digest of the fields above */
  uint8_t unused[HEG_OTP_SIZE - 8u - 3u * 32u]; /* left unprogrammed (0xFF) */
} heg_anchor_t;

/* ---- Trusted time (timekeeping.c) ----------------------------------------
 * [lo, hi] bounds the true unix time. Without a fresh beacon the bounds are
 * [0, UINT64_MAX] and trusted is HEG_HFALSE. A beacon saying T answers a
 * nonce issued at tick n and arrives at tick a: the true time was at most T
 * at n and at least T at a, so lo runs from a and hi from n. */
typedef struct {
  heg_hbool_t trusted;
  uint64_t lo;
  uint64_t hi;
} heg_time_bounds_t;

/* One moment on both of the device's clocks (heg_hal.h): uptime, counted on
 * the board's clock input, and the reference oscillator inside the package. */
typedef struct {
  uint64_t uptime_ms;
  uint64_t reference_ms;
} heg_instant_t;

/* ---- The context --------------------------------------------------------- */
struct heg_ctx {
  heg_hbool_t booted;
  heg_hal_t *hal;
  heg_persistent_t ps; /* scalar part of the newest valid record */
  uint32_t active_slot; /* slot holding ps, or HEG_STORE_NO_PAGE */
  uint32_t slot_size;   /* bytes per slot (whole pages), set by heg_store_load */
  /* Changes made during the command being handled, not yet in flash; both are
   * dropped by heg_store_load (so by every rollback) and written by the next
   * commit. */
  heg_hbool_t pending_policy; /* ps.policy is a new policy whose key lists */
  const uint8_t *pending_keys[HEG_KEYS_LISTS]; /* ... are still in the request */
  const uint8_t *pending_endorsement;          /* ENDORSE's record, in the request */
  uint32_t log_pending_count;                 /* the newest entries, not in flash */
  heg_log_entry_t log_pending[HEG_LOG_PENDING];
  const uint8_t *staged_workloads; /* workload entries the command changed, as bytes */
  uint32_t staged_workload_count;  /* ... in its response buffer (heg_store_stage_workload) */
  uint8_t device_pk[HEG_KEY_SIZE];
  uint8_t device_sk[64]; /* secret; wiped when not KEYED */
  /* Per-boot metering base: consumed = consumed_base + (acc - acc_base). */
  heg_u128_t consumed_base;
  heg_u128_t acc_base;
  heg_u128_t lanes_at_boot[HEG_LANES];
  heg_hbool_t gate_requested;
  heg_hbool_t pause_requested;
  heg_hbool_t watchdog_armed;
  /* The meter's reset is the MCU's reset (meter.c, heg_meter_read): the
   * accumulator at the last reading and the LIMIT last written. A reading
   * below the one, or a LIMIT other than the other, is a reset or rewrite of
   * the block behind the firmware's back, and latches tamper. */
  heg_u128_t acc_last;
  heg_u128_t limit_written;
  /* The last report counter signed this boot (at boot: the reserved one from
   * flash); at most ps.report_counter_reserved. */
  uint64_t report_counter;
  /* RECOVERY_REQUIRED: the nonce a Recovery must name, fresh at every boot
   * (RAM only), so a vendor's authorization is good for this boot alone. */
  uint8_t recovery_nonce[HEG_NONCE_SIZE];
  /* Time: the last beacon (RAM only: uptime restarts at power-up). */
  heg_hbool_t nonce_valid;
  uint8_t nonce[HEG_NONCE_SIZE];
  heg_hbool_t beacon_valid;
  uint64_t beacon_time;
  heg_instant_t beacon_at; /* when the beacon in force arrived */
  /* G-time: a beacon's upper bound runs from the instant its nonce was
   * issued, since the operator chooses when the answer arrives (timekeeping.c). */
  heg_instant_t beacon_nonce_at; /* the beacon in force's nonce */
  heg_instant_t nonce_at;        /* the outstanding nonce */
  heg_instant_t monitor_at;      /* where the clock monitor's window began */
  heg_instant_t monitor_before;  /* ... and the one before it */
  heg_hbool_t monitor_history;   /* HEG_HTRUE once a window has closed */
  uint64_t lockout_since_ms[HEG_LOCKOUT_KINDS]; /* uptime when each lockout (re)started */
};

/* A coherent reading of the meter. */
typedef struct {
  heg_u128_t acc;
  heg_u128_t lanes[HEG_LANES];
  uint32_t status;
  uint32_t gate_cause;
  /* HEG_METER_EVIDENCE_* bits: what this reading shows that only a reset or a
   * rewrite of the block behind the firmware's back gives; 0 normally. */
  uint32_t evidence;
} heg_meter_reading_t;

/* store.c */
/* Loads the newest valid record into ctx->ps (factory defaults if none, or
 * RECOVERY_REQUIRED if the OTP anchor says the device was provisioned).
 * *lost_counter is the counter of a record in the other slot that looks newer
 * (magic, layout, a higher counter) but failed its check, 0 if none: the
 * commit that wrote it was torn by a power cut or the record corrupted since,
 * and its state is lost. Boot counts and logs it. */
HEG_MUST_USE heg_status_t heg_store_load(heg_ctx_t *ctx, uint64_t *lost_counter);
/* Handlers change ctx->ps in place and then commit it: the record (counter,
 * magic and digest filled in here) goes to the other slot and counts once it
 * reads back whole. On failure ctx->ps is reloaded from flash, i.e. back to
 * the last durable state; if even that fails the context stops (booted false). */
HEG_MUST_USE heg_status_t heg_store_commit(heg_ctx_t *ctx);
/* Drops uncommitted changes to ctx->ps (reloads it from flash). */
void heg_store_rollback(heg_ctx_t *ctx);
/* Commits when status is OK, rolls back otherwise; returns the final status. */
HEG_MUST_USE heg_status_t heg_store_finish(heg_ctx_t *ctx, heg_status_t status);
/* Reads len bytes at offset off of the active record (HEG_STORE_* offsets). */
HEG_MUST_USE heg_status_t heg_store_read(heg_ctx_t *ctx, uint32_t off, uint8_t *out, size_t len);
/* Makes the policy in force take its key lists from request bytes that stay
 * in RAM until the command commits or rolls back (ps.policy's counts must be
 * the lists' counts). */
void heg_store_set_pending_policy(heg_ctx_t *ctx, const heg_keylist_t lists[HEG_KEYS_LISTS]);
/* Makes the endorsement (HEG_ENDORSEMENT_SIZE bytes of the request, which
 * stay in RAM until the command commits or rolls back) the record's. */
void heg_store_set_pending_endorsement(heg_ctx_t *ctx, const uint8_t *endorsement);
/* HEG_HTRUE while the context holds changes not yet committed. */
heg_hbool_t heg_store_has_pending(const heg_ctx_t *ctx);
/* Makes the next commit write entry at its slot in place of the table's
 * (slot <= workload_count; at workload_count it adds one). The bytes are
 * copied to scratch, the handler's response buffer, which must stay untouched
 * until the command commits or rolls back; staging a slot again replaces it. */
HEG_MUST_USE heg_status_t heg_store_stage_workload(heg_ctx_t *ctx, const heg_workload_t *entry,
                                                   uint8_t *scratch, size_t scratch_cap);

/* eventlog.c. Event types and their payloads: openheg.wire.EventType (generated
 * into heg_wire.h as HEG_EVENT_*). */
/* head = heg_crypto_digest(head || type || payload); the entry joins the ring (pending
 * in ctx until the caller commits). */
HEG_MUST_USE heg_status_t heg_log_append(heg_ctx_t *ctx, uint8_t type, const uint8_t *payload,
                                         size_t len);

/* meter.c */
HEG_MUST_USE heg_status_t heg_meter_check_id(heg_ctx_t *ctx);
/* Loads the weights of the policy in force (the meter's defaults before
 * provisioning) and locks the configuration until reset. */
void heg_meter_load_weights_and_lock(heg_ctx_t *ctx);
/* link.c: the interconnect cap. heg_link_rate turns the policy's rate into
 * the limiter's RATE at a clock (rounded down, saturating). load_and_lock
 * loads RATE and BURST the policy in force gives the license in force's
 * kind (the tighter inference cap for an inference license or none) and
 * locks them, once per reset (nothing before a policy is in force); current
 * says whether the locked values are that cap (HEG_GATE_CAUSE_LINK_PENDING
 * otherwise);
 * attest writes the limiter's clock, RATE, BURST and byte count into an
 * attestation body. */
uint32_t heg_link_rate(uint32_t wire_mb_per_s, uint32_t clock_hz);
void heg_link_load_and_lock(heg_ctx_t *ctx);
heg_hbool_t heg_link_current(heg_ctx_t *ctx);
void heg_link_attest(heg_ctx_t *ctx, uint8_t *body);
/* Arms the watchdog with the policy's period (0: not armed) and kicks it. */
void heg_meter_watchdog_start(heg_ctx_t *ctx);
void heg_meter_watchdog_kick(heg_ctx_t *ctx);
/* Snapshot and read the meter, and compare it with what the firmware knows
 * (out->evidence); changes nothing but ctx->acc_last. */
void heg_meter_read(heg_ctx_t *ctx, heg_meter_reading_t *out);
/* heg_meter_read, then tamper latched (persisted, logged, gate closed for
 * good) on the meter's tamper cause or on any evidence; after evidence,
 * everything charged counts as consumed. Every metering step, every gate
 * opening (heg_meter_arm), ATTEST and the shutdown settle read through it. */
HEG_MUST_USE heg_status_t heg_meter_read_checked(heg_ctx_t *ctx, heg_meter_reading_t *out);
void heg_meter_write_limit(heg_ctx_t *ctx, heg_u128_t limit);
void heg_meter_gate_close(heg_ctx_t *ctx);
/* Consumption of the active license given a reading. */
heg_u128_t heg_meter_consumed(const heg_ctx_t *ctx, const heg_meter_reading_t *reading);
/* Lane totals to persist given a reading. */
void heg_meter_lane_totals(const heg_ctx_t *ctx, const heg_meter_reading_t *reading,
                           heg_u128_t out[HEG_LANES]);
/* First allowance for a freshly accepted license: the policy's chunk, at
 * most the allocation. */
heg_u128_t heg_meter_first_charge(const heg_ctx_t *ctx, heg_u128_t allocation);
/* The firmware's reasons to keep the gate closed (HEG_GATE_CAUSE_* bits 8 and
 * up, plus TAMPER once seen); 0 when it may open. */
uint32_t heg_gate_causes(heg_ctx_t *ctx);
/* Raises the limit to the charged amount, sets PAUSE from the orders in
 * force, and opens or closes the gate by heg_gate_causes (re-checked). */
HEG_MUST_USE heg_status_t heg_meter_arm(heg_ctx_t *ctx);
/* The metering loop tick. */
HEG_MUST_USE heg_status_t heg_meter_step(heg_ctx_t *ctx);

/* policy.c */
/* A policy request that passed the strict parser: the signed body's length,
 * its signatures and its key lists, all pointing into the request bytes. */
typedef struct {
  size_t body_len;
  heg_sigset_t sigs;
  heg_keylist_t keys[HEG_KEYS_LISTS];
} heg_policy_view_t;

/* The strict policy parser (openheg.wire.Policy): checks every length and
 * field rule (the host's) on the bytes and fills view; nothing is copied. */
HEG_MUST_USE heg_status_t heg_policy_parse(heg_ctx_t *ctx, const uint8_t *data, size_t len,
                                           heg_policy_view_t *view);
/* The scalar part of a policy heg_policy_parse accepted, and its digest, into out. */
HEG_MUST_USE heg_status_t heg_policy_load(const uint8_t *data, const heg_policy_view_t *view,
                                          heg_policy_t *out);
/* Appends POLICY_INSTALLED for the policy in force (its version and digest). */
HEG_MUST_USE heg_status_t heg_policy_log_installed(heg_ctx_t *ctx);
/* Descriptor of one key list (HEG_KEYS_*) of the policy in force. */
void heg_policy_keys(heg_ctx_t *ctx, uint32_t which, heg_keylist_t *out);
/* Key i of a list, read into out. */
HEG_MUST_USE heg_status_t heg_keylist_key(heg_ctx_t *ctx, const heg_keylist_t *list, uint32_t i,
                                          uint8_t out[HEG_KEY_SIZE]);
/* *found: HEG_HTRUE when key is in the list. */
HEG_MUST_USE heg_status_t heg_keylist_has(heg_ctx_t *ctx, const heg_keylist_t *list,
                                          const uint8_t key[HEG_KEY_SIZE], heg_hbool_t *found);
/* *n: signers of the set that are in the list. */
HEG_MUST_USE heg_status_t heg_keylist_count_signers(heg_ctx_t *ctx, const heg_keylist_t *list,
                                                    const heg_sigset_t *sigs, uint32_t *n);
/* Parses a signature set at data[off..len) that must end exactly at len. */
HEG_MUST_USE heg_status_t heg_sigset_parse(const uint8_t *data, size_t off, size_t len,
                                           uint32_t max, heg_sigset_t *out);
/* Every signature in the set verifies over domain || body (any that does not:
 * SIGNATURE_INVALID) and no signer is in revoked or in extra (KEY_REVOKED;
 * extra may be NULL). domain || body is assembled in scratch (the handler's
 * response buffer, free until the response is written; too small:
 * RESPONSE_TOO_LARGE), not on the stack. *proof: the sum of the verdicts it
 * gave the entries one by one, count * HEG_HTRUE only when every entry
 * verified (hardened.h, step 4); the caller starts it at 0. */
HEG_MUST_USE heg_status_t heg_sigset_verify(heg_ctx_t *ctx, const heg_sigset_t *sigs,
                                            const char *domain, size_t domain_len,
                                            const uint8_t *body, size_t body_len,
                                            const heg_keylist_t *revoked,
                                            const heg_keylist_t *extra, uint8_t *scratch,
                                            size_t scratch_cap, uint32_t *proof);
/* HEG_HTRUE when proof, from heg_sigset_verify, says it verified every entry
 * of the set valid (hardened.h, step 4). */
heg_hbool_t heg_sigset_proven(const heg_sigset_t *sigs, uint32_t proof);
/* HEG_HTRUE when key is one of the set's signers. */
heg_hbool_t heg_sigset_has(const heg_sigset_t *sigs, const uint8_t key[HEG_KEY_SIZE]);
/* *given: HEG_HTRUE when the set holds the Horizon veto of the policy in force:
 * its board's Horizon quorum and every party representative. */
HEG_MUST_USE heg_status_t heg_policy_veto_given(heg_ctx_t *ctx, const heg_sigset_t *sigs,
                                                heg_hbool_t *given);
/* The genesis policy check for PROVISION: version 1, its own board's quorum.
 * scratch as for heg_sigset_verify. */
HEG_MUST_USE heg_status_t heg_policy_check_genesis(heg_ctx_t *ctx, const uint8_t *data,
                                                   size_t len, heg_policy_view_t *view,
                                                   uint8_t *scratch, size_t scratch_cap);

/* lockout.c: failed-attempt lockout, one per kind of record. Called before a
 * record's signatures are verified: refuses (LOCKED_OUT) while that kind is
 * locked out, else counts the attempt as failed and persists that. The
 * install that then succeeds clears its kind's count in its own commit
 * (heg_lockout_clear). */
HEG_MUST_USE heg_status_t heg_lockout_begin(heg_ctx_t *ctx, uint32_t kind);
void heg_lockout_clear(heg_ctx_t *ctx, uint32_t kind);
heg_hbool_t heg_lockout_active(heg_ctx_t *ctx, uint32_t kind);

/* timekeeping.c */
uint64_t heg_uptime_ms(heg_ctx_t *ctx);
/* Both clocks now. */
void heg_now(heg_ctx_t *ctx, heg_instant_t *out);
void heg_time_bounds(heg_ctx_t *ctx, heg_time_bounds_t *out);
/* The clock monitor: heg_clock_monitor_start opens its first window (boot);
 * heg_clock_monitor_check, once either clock has run a window's length since,
 * compares the two over it and opens the next: HEG_METER_EVIDENCE_CLOCK_DISAGREES
 * when they disagree beyond both tolerances over it and over it and the window
 * before together (or either went backwards), else 0. */
void heg_clock_monitor_start(heg_ctx_t *ctx);
uint32_t heg_clock_monitor_check(heg_ctx_t *ctx);
/* Conservative seconds elapsed since an uptime (drift taken off). Uptime
 * alone: it times the failed-attempt lockout, where a slowed clock only
 * lengthens the wait and the clock monitor bounds what a sped-up one takes
 * off it (its tolerance, a few percent) before it latches tamper. */
uint64_t heg_elapsed_s_at_least(heg_ctx_t *ctx, uint64_t since_ms);
/* Whether [not_before, not_after] holds for all of the trusted bounds:
 * OK, TIME_UNTRUSTED, NOT_YET_VALID or EXPIRED. */
heg_status_t heg_time_window_check(heg_ctx_t *ctx, uint64_t not_before, uint64_t not_after);

/* license.c: the class a license's compute needs at trusted time. */
uint32_t heg_license_required_class(heg_ctx_t *ctx, const heg_license_t *lic);

/* attest.c: reserves the next block of report counters in ctx->ps (the
 * caller commits it); STORAGE once the counter space is spent. */
HEG_MUST_USE heg_status_t heg_attest_reserve(heg_ctx_t *ctx);
/* ATTEST and ATTEST_EAT take the same request: WRONG_STATE unless
 * PROVISIONED, BAD_REQUEST unless len is HEG_ATTEST_REQ_SIZE. */
HEG_MUST_USE heg_status_t heg_attest_check_request(const heg_ctx_t *ctx, size_t len);
/* The signed attestation over nonce (body, then signature) into out: takes
 * the next report counter, reserving a new block first when it is used up. */
HEG_MUST_USE heg_status_t heg_attest_sign(heg_ctx_t *ctx, const uint8_t nonce[HEG_NONCE_SIZE],
                                          uint8_t out[HEG_ATTESTATION_SIZE]);

/* workloads.c */
/* The workload table's entry at slot (< ps.workload_count), as in flash. */
HEG_MUST_USE heg_status_t heg_workload_read(heg_ctx_t *ctx, uint32_t slot, heg_workload_t *out);
/* The entry of workload_id (*found HEG_HTRUE), or a new unpaused entry with
 * nothing granted in the next free slot (*found HEG_HFALSE; WORKLOADS_FULL
 * when there is none: no other entry is forgotten for it). */
HEG_MUST_USE heg_status_t heg_workload_find(heg_ctx_t *ctx,
                                            const uint8_t workload_id[HEG_ID_SIZE],
                                            heg_workload_t *out, heg_hbool_t *found);
/* Stages entry for the command's commit (heg_store_stage_workload); an entry
 * in the next free slot joins the table. */
HEG_MUST_USE heg_status_t heg_workload_stage(heg_ctx_t *ctx, const heg_workload_t *entry,
                                             uint8_t *scratch, size_t scratch_cap);
/* A workload's grant counts the license in force at its whole allocation: the
 * grant of the workload in force (granted) with that taken off and consumed,
 * what the license in force consumed, added instead (what the workload has
 * consumed under all its licenses, were the license stopped now). */
heg_u128_t heg_workload_settled(const heg_ctx_t *ctx, heg_u128_t granted, heg_u128_t consumed);
/* The grant decision for installing lic: the license in force (if any) stops
 * and its workload keeps what it consumed (spent) instead of its allocation;
 * lic's
 * workload (found, added, or in place of the smallest unpaused grant) gets
 * lic's allocation, which must keep it within lic's declared total
 * (OVER_GRANTED; WORKLOADS_FULL when every slot is paused). *target is lic's
 * workload entry after the grant and *within HEG_HTRUE when granted. With
 * scratch (the handler's response buffer) the changed entries are staged for
 * the commit; with NULL only decided. */
HEG_MUST_USE heg_status_t heg_workload_grant(heg_ctx_t *ctx, const heg_license_t *lic,
                                             heg_u128_t spent, uint8_t *scratch,
                                             size_t scratch_cap, heg_workload_t *target,
                                             heg_hbool_t *within);

/* keys (provision.c): the device key pair from the seed, from KEYED on. */
HEG_MUST_USE heg_status_t heg_keys_derive(heg_ctx_t *ctx);

/* anchor.c. Reads the OTP area into *anchor: *anchored is HEG_HTRUE when it
 * holds a whole anchor, HEG_HFALSE when it was never programmed; a
 * programmed area that fails its check is OTP_INVALID. */
HEG_MUST_USE heg_status_t heg_anchor_read(heg_ctx_t *ctx, heg_anchor_t *anchor,
                                          heg_hbool_t *anchored);
/* At ENDORSE, before the device becomes PROVISIONED: programs the anchor
 * (ps.vendor_key, this device's id) into a blank OTP area and checks it reads
 * back whole; OK when the area already anchors this vendor (a re-endorse, a
 * recovered device); OTP_INVALID when it is torn or anchors another vendor. */
HEG_MUST_USE heg_status_t heg_anchor_program(heg_ctx_t *ctx);
/* INFO's recovery fields (provision.c): the anchor's first device id, and in
 * RECOVERY_REQUIRED this boot's recovery nonce; sets *out_len to the size. */
HEG_MUST_USE heg_status_t heg_info_recovery(heg_ctx_t *ctx, uint8_t *out, size_t *out_len);

/* measure.c */
void heg_firmware_measurement(uint8_t out[HEG_DIGEST_SIZE]);

/* Command handlers. payload/len: request payload; out/cap: response payload. */
typedef heg_status_t (*heg_handler_t)(heg_ctx_t *ctx, const uint8_t *payload, size_t len,
                                      uint8_t *out, size_t cap, size_t *out_len);
HEG_MUST_USE heg_status_t heg_cmd_info(heg_ctx_t *ctx, const uint8_t *payload, size_t len,
                                       uint8_t *out, size_t cap, size_t *out_len);
HEG_MUST_USE heg_status_t heg_cmd_provision(heg_ctx_t *ctx, const uint8_t *payload, size_t len,
                                            uint8_t *out, size_t cap, size_t *out_len);
HEG_MUST_USE heg_status_t heg_cmd_endorse(heg_ctx_t *ctx, const uint8_t *payload, size_t len,
                                          uint8_t *out, size_t cap, size_t *out_len);
HEG_MUST_USE heg_status_t heg_cmd_read_endorsement(heg_ctx_t *ctx, const uint8_t *payload,
                                                   size_t len, uint8_t *out, size_t cap,
                                                   size_t *out_len);
HEG_MUST_USE heg_status_t heg_cmd_install_license(heg_ctx_t *ctx, const uint8_t *payload,
                                                  size_t len, uint8_t *out, size_t cap,
                                                  size_t *out_len);
HEG_MUST_USE heg_status_t heg_cmd_install_policy(heg_ctx_t *ctx, const uint8_t *payload,
                                                 size_t len, uint8_t *out, size_t cap,
                                                 size_t *out_len);
HEG_MUST_USE heg_status_t heg_cmd_time_nonce(heg_ctx_t *ctx, const uint8_t *payload, size_t len,
                                             uint8_t *out, size_t cap, size_t *out_len);
HEG_MUST_USE heg_status_t heg_cmd_time_beacon(heg_ctx_t *ctx, const uint8_t *payload, size_t len,
                                              uint8_t *out, size_t cap, size_t *out_len);
HEG_MUST_USE heg_status_t heg_cmd_order(heg_ctx_t *ctx, const uint8_t *payload, size_t len,
                                        uint8_t *out, size_t cap, size_t *out_len);
HEG_MUST_USE heg_status_t heg_cmd_read_log(heg_ctx_t *ctx, const uint8_t *payload, size_t len,
                                           uint8_t *out, size_t cap, size_t *out_len);
HEG_MUST_USE heg_status_t heg_cmd_attest(heg_ctx_t *ctx, const uint8_t *payload, size_t len,
                                         uint8_t *out, size_t cap, size_t *out_len);
/* ATTEST_EAT needs the whole response buffer as its work area (eat.c). */
#define HEG_EAT_WORK_SIZE (HEG_MAX_MESSAGE_SIZE - HEG_RESPONSE_SIZE)
HEG_MUST_USE heg_status_t heg_cmd_attest_eat(heg_ctx_t *ctx, const uint8_t *payload, size_t len,
                                             uint8_t *out, size_t cap, size_t *out_len);
HEG_MUST_USE heg_status_t heg_cmd_recover(heg_ctx_t *ctx, const uint8_t *payload, size_t len,
                                          uint8_t *out, size_t cap, size_t *out_len);

#endif /* HEG_SRC_INTERNAL_H */
