/* openheg firmware: public API.
 *
 * All firmware state lives in one caller-allocated context (heg_ctx_size()
 * bytes, aligned for uint64_t); there are no globals and no heap, so any
 * number of devices can run in one process. The platform is reached only
 * through heg_hal.h, supplied by a port at link time.
 *
 * Every function returns a heg_status_t (HEG_STATUS_OK is 0x739, not 0),
 * writes results through out-pointers, and rejects bad arguments before
 * touching any state.
 */
#ifndef HEG_H
#define HEG_H

#include <stddef.h>
#include <stdint.h>

#include "heg/heg_hal.h"
#include "heg/heg_hardened.h"
#include "heg/heg_wire.h"

typedef struct heg_ctx heg_ctx_t;

/* An unsigned 128-bit integer (compute amounts in milli-sFLOP, op counts). */
typedef struct {
  uint64_t lo;
  uint64_t hi;
} heg_u128_t;

/* One signature entry exactly as on the wire (signer then signature, bytes
 * only, so it has no padding and byte alignment: checked in license.c). */
typedef struct {
  uint8_t signer[HEG_KEY_SIZE];
  uint8_t signature[HEG_SIGNATURE_SIZE];
} heg_signature_entry_t;

/* A license that passed the strict parser (heg_license_parse). Its signatures
 * are sorted but not yet verified. They are not copied: signatures points at
 * the signature_count entries inside the parsed bytes, so it is valid only
 * while those bytes are (up to 8 entries would be 768 bytes of RAM). */
typedef struct {
  uint8_t license_id[HEG_ID_SIZE];
  uint8_t device_id[HEG_KEY_SIZE];
  uint8_t workload_id[HEG_ID_SIZE];
  uint64_t sequence;
  heg_u128_t allocation_msflop;
  heg_u128_t workload_total_msflop;
  heg_u128_t lineage_msflop;
  uint64_t not_before;
  uint64_t not_after;
  uint32_t license_class;
  uint32_t workload_kind; /* HEG_WORKLOAD_KIND_* */
  uint32_t oversight_ppm;
  uint8_t inspector_key[HEG_KEY_SIZE];
  uint32_t signature_count;
  const heg_signature_entry_t *signatures; /* into the parsed bytes */
} heg_license_t;

/* Bytes a context needs. */
size_t heg_ctx_size(void);

/* An upper bound of heg_ctx_size() on every port, checked when the core is
 * compiled: a port without a heap reserves this much statically. (The
 * persistent record's key lists, its endorsement, its event ring and its
 * workload table stay in flash; only its scalar part is in the context.) */
#if UINTPTR_MAX > 0xFFFFFFFFu
#define HEG_CTX_BYTES 1504u /* 64-bit hosts (the cffi and POSIX ports): wider pointers */
#else
#define HEG_CTX_BYTES 1464u /* the 32-bit devices: Cortex-M4, RV32 */
#endif

/* Boots the device: checks the meter's identity (HEG_STATUS_HARDWARE if
 * absent), loads persistent state (none: UNPROVISIONED), counts the reset,
 * loads the weights, re-arms the meter if a license is active and logs a
 * RESET event. ctx must stay valid, and hal alive, while the device runs. */
HEG_MUST_USE heg_status_t heg_init(heg_ctx_t *ctx, heg_hal_t *hal);

/* Handles one request (command u8, request id u16, payload) and writes the
 * response (command, request id, status u16, payload) to resp. A refused
 * request still yields OK here with the refusal in the response's status;
 * the return value is not OK only when no response could be written (resp
 * missing or shorter than HEG_RESPONSE_SIZE). Give resp HEG_MAX_MESSAGE_SIZE
 * bytes: commands that check signatures assemble the signed message (domain
 * and record body, up to a request's size) in the response buffer rather than
 * on the stack, and refuse with RESPONSE_TOO_LARGE when it cannot hold it. */
HEG_MUST_USE heg_status_t heg_dispatch(heg_ctx_t *ctx, const uint8_t *req, size_t req_len,
                                       uint8_t *resp, size_t resp_cap, size_t *resp_len);

/* One tick of the metering loop: grants allowance ahead of use (charged to
 * flash before the meter's limit is raised), keeps the gate armed while a
 * license has allowance, logs exhaustion. Call it often. */
HEG_MUST_USE heg_status_t heg_poll(heg_ctx_t *ctx);

/* Orderly power-down. Closes the gate and, once the meter confirms it is
 * closed (STATUS.gate_open clear, DISARMED among the causes, accumulator
 * still), settles the allowance: the charged total drops to what was really
 * consumed, so a planned power cycle forfeits nothing (an unplanned one still
 * forfeits the unspent charged part). *settled is HEG_HTRUE when done; the
 * context is then halted (boot again to use it). HEG_HFALSE means the meter
 * has not yet seen a clock edge since the gate was closed: let one pass and
 * call again. */
HEG_MUST_USE heg_status_t heg_shutdown(heg_ctx_t *ctx, heg_hbool_t *settled);

/* The strict license parser: accepts exactly one encoding (length, header,
 * signature count and order, field ranges). Does not verify signatures or
 * check the device, sequence or time. out->signatures points into data;
 * *out means nothing unless OK is returned. */
HEG_MUST_USE heg_status_t heg_license_parse(const uint8_t *data, size_t len, heg_license_t *out);

#endif /* HEG_H */
