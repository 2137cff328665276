/* Cortex-M4 firmware image: boot the core, then serve framed requests on
 * UART0 (the same protocol and framer as every port). */
#include <stdint.h>

#include "hal_cm4.h"
#include "heg/heg.h"
#include "heg_frame.h"

#define FIXED_TIME 1800000000u

static uint64_t g_ctx_mem[HEG_CTX_BYTES / 8u];
static heg_hal_t g_hal;
static heg_frame_rx_t g_rx;
static uint8_t g_request[HEG_FRAME_MAX_SIZE];
static uint8_t g_response[HEG_MAX_MESSAGE_SIZE];
static uint8_t g_frame[HEG_FRAME_MAX_ENCODED];
__attribute__((section(".storage"))) static uint8_t g_storage[HEG_CM4_PAGE_SIZE * HEG_CM4_PAGE_COUNT];
__attribute__((section(".hwsim"))) static heg_meter_sim_t g_meter;

void heg_cm4_fault(void);

static void answer(heg_ctx_t *ctx) {
  size_t req_len = 0;
  size_t resp_len = 0;
  size_t out_len = 0;
  size_t i;
  if (heg_frame_decode(g_rx.buf, g_rx.len, g_request, sizeof(g_request), &req_len) !=
          HEG_FRAME_OK ||
      heg_dispatch(ctx, g_request, req_len, g_response, sizeof(g_response), &resp_len) !=
          HEG_STATUS_OK ||
      heg_frame_encode(g_response, resp_len, g_frame, sizeof(g_frame), &out_len) !=
          HEG_FRAME_OK) {
    return; /* line noise: dropped */
  }
  for (i = 0; i < out_len; ++i) {
    heg_cm4_uart_putc(g_frame[i]);
  }
}

int main(void) {
  heg_ctx_t *ctx = (heg_ctx_t *)(void *)g_ctx_mem;
  heg_cm4_uart_init();
  heg_meter_sim_reset(&g_meter);
  g_hal.meter = &g_meter;
  heg_nor_sim_init(&g_hal.nor, g_storage, HEG_CM4_PAGE_SIZE, HEG_CM4_PAGE_COUNT, HEG_HTRUE);
  g_hal.rng = 0x2545f491u;
  g_hal.time_now = FIXED_TIME;
  if (heg_ctx_size() > sizeof(g_ctx_mem) || heg_init(ctx, &g_hal) != HEG_STATUS_OK) {
    heg_cm4_fault();
  }
  heg_frame_rx_reset(&g_rx);
  for (;;) {
    int c = heg_cm4_uart_getc();
    if (c < 0) {
      g_hal.uptime_ms++; /* stand-in: one idle pass counted as a millisecond */
      heg_meter_sim_step(&g_meter, 0);
      if (heg_poll(ctx) != HEG_STATUS_OK) {
        /* the firmware closed the gate; keep serving */
      }
      continue;
    }
    if (heg_frame_rx_push(&g_rx, (uint8_t)c) == HEG_FRAME_RX_COMPLETE) {
      answer(ctx);
      heg_meter_sim_step(&g_meter, 0);
      if (heg_poll(ctx) != HEG_STATUS_OK) {
        /* the firmware closed the gate; keep serving */
      }
    }
  }
}
