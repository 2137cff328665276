/* The firmware core through its public API on the posix HAL (in memory):
 * boot, INFO, refusals, and random requests that must each get a bounded,
 * well-formed response. */
#include <stdlib.h>
#include <string.h>

#include "ctest.h"
#include "hal_posix.h"
#include "heg/heg.h"

static size_t request(heg_ctx_t *ctx, const uint8_t *req, size_t len, uint8_t *resp,
                      size_t cap, heg_status_t *wire_status) {
  size_t n = 0;
  heg_status_t s = heg_dispatch(ctx, req, len, resp, cap, &n);
  *wire_status = (heg_status_t)(n >= HEG_RESPONSE_SIZE
                                    ? (uint16_t)(resp[HEG_RESPONSE_STATUS_OFF] |
                                                 (resp[HEG_RESPONSE_STATUS_OFF + 1u] << 8))
                                    : 0u);
  return s == HEG_STATUS_OK ? n : 0u;
}

void test_device(ctest_t *t) {
  static heg_hal_t hal;
  static uint8_t resp[HEG_MAX_MESSAGE_SIZE];
  static uint8_t req[HEG_MAX_MESSAGE_SIZE + 16u];
  heg_ctx_t *ctx;
  heg_status_t wire;
  size_t n;
  unsigned i;
  unsigned seed = 0xC0FFEEu;
  const uint8_t info[3] = {HEG_CMD_INFO, 0x34, 0x12};
  const uint8_t unknown[3] = {0xEE, 0x01, 0x00};

  CHECK(t, heg_posix_hal_open(&hal, NULL) == 0, "hal");
  hal.fixed_time = 1790000000u;
  ctx = (heg_ctx_t *)calloc(1, heg_ctx_size());
  CHECK(t, ctx != NULL, "ctx");
  if (ctx == NULL) {
    return;
  }
  CHECK(t, heg_init(ctx, &hal) == HEG_STATUS_OK, "boot");

  n = request(ctx, info, sizeof(info), resp, sizeof(resp), &wire);
  CHECK(t, wire == HEG_STATUS_OK && n > HEG_RESPONSE_SIZE, "INFO status 0x%04x", (unsigned)wire);
  CHECK(t, resp[0] == HEG_CMD_INFO && resp[1] == 0x34 && resp[2] == 0x12, "INFO echo");
  n = request(ctx, unknown, sizeof(unknown), resp, sizeof(resp), &wire);
  CHECK(t, wire == HEG_STATUS_UNKNOWN_COMMAND && n == HEG_RESPONSE_SIZE, "unknown 0x%04x",
        (unsigned)wire);
  n = request(ctx, info, 2u, resp, sizeof(resp), &wire);
  CHECK(t, wire == HEG_STATUS_BAD_REQUEST && n == HEG_RESPONSE_SIZE, "short request 0x%04x",
        (unsigned)wire);
  CHECK(t, heg_dispatch(ctx, info, sizeof(info), resp, 2u, &n) != HEG_STATUS_OK,
        "response into 2 bytes");

  /* Random requests for every command byte: each gets a response that fits
   * and echoes the command and id; the device keeps booting afterwards. */
  for (i = 0; i < (t->quick ? 300u : 3000u); ++i) {
    size_t len = HEG_REQUEST_SIZE + ctest_rand(&seed) % 300u;
    size_t k;
    for (k = 0; k < len; ++k) {
      req[k] = (uint8_t)ctest_rand(&seed);
    }
    req[0] = (uint8_t)(1u + i % 16u);
    n = request(ctx, req, len, resp, sizeof(resp), &wire);
    CHECK(t, n >= HEG_RESPONSE_SIZE && n <= sizeof(resp) && resp[0] == req[0] &&
                 resp[1] == req[1] && resp[2] == req[2],
          "random request %u (command 0x%02x)", i, req[0]);
    heg_meter_sim_step(&hal.meter, NULL);
    if (heg_poll(ctx) != HEG_STATUS_OK) {
      /* refusing to meter is allowed; crashing is not */
    }
  }
  /* Power cycle: a fresh context boots from the same flash. */
  memset(ctx, 0, heg_ctx_size());
  heg_meter_sim_reset(&hal.meter);
  CHECK(t, heg_init(ctx, &hal) == HEG_STATUS_OK, "reboot");
  n = request(ctx, info, sizeof(info), resp, sizeof(resp), &wire);
  CHECK(t, wire == HEG_STATUS_OK, "INFO after reboot 0x%04x", (unsigned)wire);
  free(ctx);
}
