/* The Cortex-M4 port's HAL state, UART, clock and start-up (see hal_cm4.c,
 * startup.c). */
#ifndef HEG_HAL_CM4_H
#define HEG_HAL_CM4_H

#include <stdint.h>

#include "heg/heg_hal.h"
#include "heg_link_sim.h"
#include "heg_meter_sim.h"
#include "heg_nor_sim.h"

#define HEG_CM4_PAGE_SIZE 2048u
#define HEG_CM4_PAGE_COUNT 8u
/* The core clock of the MPS2+ FPGA images (and of QEMU's model of them). */
#define HEG_CM4_CPU_HZ 25000000u
/* The FPGA IO block (its CLK100HZ counter is the reference: hal_cm4.c). */
#define HEG_CM4_FPGAIO_BASE 0x40028000u
/* What start-up paints the unused stack with (a high-water mark reader looks
 * for the lowest word that is no longer this). */
#define HEG_CM4_STACK_PAINT 0xdeadbeefu

struct heg_hal {
  heg_meter_sim_t *meter; /* meter_model.c: the model in the HWSIM region; NULL on the board */
  heg_link_sim_t *link;   /* the limiter's model, likewise */
  heg_nor_sim_t nor;      /* over the STORAGE region */
  heg_otp_sim_t otp;      /* over the STORAGE region too (see hal_cm4.c) */
  uint32_t rng;           /* state of the fixed, NOT SECRET test generator */
  uint64_t time_now;      /* fixed: this board has no RTC (see hal_cm4.c) */
  uint32_t reference_last;  /* the reference counter's last reading */
  uint64_t reference_wraps; /* ... and how often it wrapped before it */
};

/* Also declared by heg_hal.h from the monotonic-uptime HAL revision on. */
uint64_t heg_hal_uptime_ms(heg_hal_t *hal);

void heg_cm4_uart_init(void);
int heg_cm4_uart_getc(void); /* -1: nothing received */
void heg_cm4_uart_putc(uint8_t byte);

/* SysTick free-running on the core clock; heg_cm4_uptime_ms reads it in ms
 * (monotonic, 64 bits: it never wraps). */
void heg_cm4_clock_init(void);
uint64_t heg_cm4_uptime_ms(void);
void heg_cm4_systick(void); /* the SysTick exception handler */

/* MPU region 0: no access to the 1 MiB right below the stack (which starts
 * SRAM), so a stack overflow faults. */
void heg_cm4_stack_guard_init(void);

/* The meter binding, one of two files linked into an image:
 * meter_model.c (QEMU test image): registers land on the RTL's software model,
 *   which heg_cm4_meter_clock steps one clock edge;
 * meter_mmio.c (board image): registers are the block's, at
 *   HEG_CM4_METER_BASE; the RTL has its own clock, so heg_cm4_meter_clock
 *   does nothing. */
void heg_cm4_meter_init(heg_hal_t *hal);
void heg_cm4_meter_clock(heg_hal_t *hal);

/* startup.c */
__attribute__((noreturn)) void heg_cm4_fault(void);
uint32_t heg_cm4_stack_used(void);

#endif /* HEG_HAL_CM4_H */
