/* Cortex-M4 firmware image: boot the core, then serve framed requests on
 * UART0 (the same protocol and framer as every port).
 *
 * THIS IS A TEST IMAGE (QEMU mps2-an386 as the board): random bytes come from
 * a fixed generator and are NOT SECRET, so neither is the device key; the
 * wall clock is a fixed value (no RTC); storage (flash pages and the OTP area)
 * is a model in RAM, blank at every power-up, and so is the meter in the QEMU
 * image (meter_model.c; the board image, meter_mmio.c, reaches the real
 * block). A production port reads the MCU's TRNG.
 *
 * RAM: a request is decoded in place in the receive buffer and the response
 * is encoded straight to the UART (CRC computed as it goes), so the only
 * buffers are the receiver's and the response message. */
#include <stdint.h>

#include "hal_cm4.h"
#include "heg/heg.h"
#include "heg_frame.h"
#include "heg_serve.h"

/* The fixed wall clock (no RTC on this board; the firmware trusts only
 * signed time beacons plus uptime, never this value). */
#define FIXED_TIME 1800000000u
/* Fixed seed of the NOT SECRET test generator (QEMU has no TRNG). */
#define TEST_RNG_SEED 0x2545f491u
/* Idle work (meter model clock edge, heg_poll) at most this often. */
#define POLL_MS 10u

/* In the image so `strings` tells what it is. */
const char heg_cm4_image_notice[] =
    "openheg cortex-m4 TEST IMAGE: RNG is a fixed generator, NOT SECRET; fixed clock";

static uint64_t g_ctx_mem[HEG_CTX_BYTES / 8u];
static heg_hal_t g_hal;
static heg_frame_rx_t g_rx;
static uint8_t g_response[HEG_MAX_MESSAGE_SIZE];
__attribute__((section(".storage"))) static uint8_t g_storage[HEG_CM4_PAGE_SIZE * HEG_CM4_PAGE_COUNT];
__attribute__((section(".storage"))) static uint8_t g_otp[HEG_OTP_SIZE];

static void uart_put(void *arg, uint8_t byte) {
  (void)arg;
  heg_cm4_uart_putc(byte);
}

static void tick(heg_ctx_t *ctx) {
  heg_cm4_meter_clock(&g_hal);
  if (heg_poll(ctx) != HEG_STATUS_OK) {
    /* the firmware closed the gate and logged why; keep serving */
  }
}


int main(void) {
  heg_ctx_t *ctx = (heg_ctx_t *)(void *)g_ctx_mem;
  uint64_t last_poll;
  __asm__ volatile("" : : "r"(heg_cm4_image_notice)); /* keep the notice */
  heg_cm4_stack_guard_init();
  heg_cm4_uart_init();
  heg_cm4_clock_init();
  heg_cm4_meter_init(&g_hal);
  heg_nor_sim_init(&g_hal.nor, g_storage, HEG_CM4_PAGE_SIZE, HEG_CM4_PAGE_COUNT, HEG_HTRUE);
  heg_otp_sim_init(&g_hal.otp, g_otp, HEG_HTRUE);
  g_hal.rng = TEST_RNG_SEED;
  g_hal.time_now = FIXED_TIME;
  if (heg_ctx_size() > sizeof(g_ctx_mem) || heg_init(ctx, &g_hal) != HEG_STATUS_OK) {
    heg_cm4_fault();
  }
  heg_frame_rx_reset(&g_rx);
  last_poll = heg_cm4_uptime_ms();
  for (;;) {
    int c = heg_cm4_uart_getc();
    if (c < 0) {
      uint64_t now = heg_cm4_uptime_ms();
      if (now - last_poll >= POLL_MS) {
        last_poll = now;
        tick(ctx);
      }
      continue;
    }
    if (heg_frame_rx_push(&g_rx, (uint8_t)c) == HEG_FRAME_RX_COMPLETE) {
      heg_serve_answer(ctx, &g_rx, g_response, sizeof(g_response), tick, uart_put, NULL);
    }
  }
}
