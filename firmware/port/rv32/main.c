/* The openheg SoC's firmware image: boot the core, then serve framed
 * requests on the SoC's UART (the same protocol and framer as every port).
 *
 * THIS IS A TEST IMAGE: random bytes come from the SoC's TRNG STAND-IN, a
 * deterministic generator, so the device key is NOT SECRET (hal_rv32.c).
 *
 * The UART holds a few received bytes and a board's USB serial bridge has no
 * flow control towards the SoC, so the metering loop (heg_poll: flash writes
 * that last milliseconds on a real part) runs only between frames: while a
 * frame is arriving, bytes are taken as they come. A line that stops
 * mid-frame (noise, a host gone away) lets the loop run again after
 * STALLED_FRAME_MS. Holding the loop off costs the operator, never the
 * meter: without heg_poll no allowance is granted and the watchdog is not
 * kicked, so the gate closes. */
#include <stdint.h>

#include "hal_rv32.h"
#include "heg/heg.h"
#include "heg_frame.h"
#include "heg_serve.h"

/* Metering loop at most this often while idle. */
#define POLL_MS 10u
/* A partial frame this old no longer holds the metering loop off. */
#define STALLED_FRAME_MS 50u

/* In the image so `strings` tells what it is. */
const char heg_rv32_image_notice[] =
    "openheg rv32 soc TEST IMAGE: RNG is the SoC's TRNG STAND-IN, NOT SECRET; no wall clock";

static uint64_t g_ctx_mem[HEG_CTX_BYTES / 8u];
static heg_hal_t g_hal;
static heg_frame_rx_t g_rx;
static uint8_t g_response[HEG_MAX_MESSAGE_SIZE];

static void uart_put(void *arg, uint8_t byte) {
  (void)arg;
  heg_rv32_uart_putc(byte);
}

static void metering_tick(heg_ctx_t *ctx) {
  if (heg_poll(ctx) != HEG_STATUS_OK) {
    /* the firmware closed the gate and logged why; keep serving */
  }
}


int main(void) {
  heg_ctx_t *ctx = (heg_ctx_t *)(void *)g_ctx_mem;
  uint64_t last_poll;
  uint64_t last_byte;
  __asm__ volatile("" : : "r"(heg_rv32_image_notice)); /* keep the notice */
  heg_rv32_hal_init(&g_hal);
  if (heg_ctx_size() > sizeof(g_ctx_mem) || heg_init(ctx, &g_hal) != HEG_STATUS_OK) {
    heg_rv32_fault();
  }
  heg_frame_rx_reset(&g_rx);
  last_poll = heg_rv32_uptime_ms();
  last_byte = last_poll;
  for (;;) {
    int c = heg_rv32_uart_getc();
    uint64_t now;
    if (c >= 0) {
      last_byte = heg_rv32_uptime_ms();
      if (heg_frame_rx_push(&g_rx, (uint8_t)c) == HEG_FRAME_RX_COMPLETE) {
        heg_serve_answer(ctx, &g_rx, g_response, sizeof(g_response), metering_tick, uart_put,
                         NULL);
      }
      continue;
    }
    now = heg_rv32_uptime_ms();
    if ((g_rx.len == 0u || now - last_byte >= STALLED_FRAME_MS) && now - last_poll >= POLL_MS) {
      last_poll = now;
      metering_tick(ctx);
    }
  }
}
