/* libFuzzer harness: heg_dispatch, which reaches every record parser, on a
 * fresh device per input (posix HAL in memory, fixed clock and randomness).
 *
 * Input: a sequence of requests, each a u16 little-endian length and that
 * many bytes, handed to the firmware in order with a meter edge and heg_poll
 * after each; so a seed can provision before it installs. Checked: every
 * request gets a response that fits and echoes command and request id; no
 * sanitizer report; the license parser also sees every request's payload. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hal_posix.h"
#include "heg/heg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_REQUESTS 16u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static heg_hal_t hal;
  static uint8_t resp[HEG_MAX_MESSAGE_SIZE];
  static uint8_t req[HEG_MAX_MESSAGE_SIZE + 64u];
  static void *ctx_mem;
  static heg_license_t license;
  heg_ctx_t *ctx;
  size_t pos = 0;
  unsigned count = 0;

  if (ctx_mem == NULL) {
    ctx_mem = malloc(heg_ctx_size());
    if (ctx_mem == NULL) {
      return 0;
    }
  }
  ctx = (heg_ctx_t *)ctx_mem;
  memset(ctx_mem, 0, heg_ctx_size());
  if (heg_posix_hal_open(&hal, NULL) != 0) {
    __builtin_trap();
  }
  hal.fixed_time = 1800000000u;
  hal.fixed_random = 0x5eedu;
  if (heg_init(ctx, &hal) != HEG_STATUS_OK) {
    __builtin_trap();
  }
  while (pos + 2u <= size && count++ < MAX_REQUESTS) {
    size_t len = (size_t)data[pos] | ((size_t)data[pos + 1u] << 8);
    size_t n = 0;
    pos += 2u;
    if (len > size - pos) {
      len = size - pos;
    }
    if (len > sizeof(req)) {
      len = sizeof(req);
    }
    /* A copy of exactly len bytes, so ASan sees any read past the request. */
    memcpy(req, data + pos, len);
    pos += len;
    if (heg_dispatch(ctx, req, len, resp, sizeof(resp), &n) != HEG_STATUS_OK ||
        n < HEG_RESPONSE_SIZE || n > sizeof(resp)) {
      __builtin_trap();
    }
    if (len >= HEG_REQUEST_SIZE && memcmp(resp, req, HEG_REQUEST_SIZE) != 0) {
      __builtin_trap();
    }
    if (len >= HEG_REQUEST_SIZE) {
      (void)heg_license_parse(req + HEG_REQUEST_SIZE, len - HEG_REQUEST_SIZE, &license);
    }
    heg_meter_sim_step(&hal.meter, NULL);
    if (heg_poll(ctx) != HEG_STATUS_OK) {
      /* refusing is fine */
    }
  }
  return 0;
}
