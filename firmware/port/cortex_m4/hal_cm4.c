/* heg_hal.h on a Cortex-M4 board (QEMU mps2-an386 as the reference).
 *
 * UART0 is the CMSDK APB UART. The meter registers are reached through
 * meter_model.c (the QEMU test image: the software model of the RTL, as QEMU
 * has no meter block) or meter_mmio.c (the board image: volatile loads and
 * stores at the block's base address). Storage is the NOR model over the STORAGE region (on a real
 * part: the flash controller). The one-time-programmable area is the OTP
 * model over 128 bytes of the same RAM region: in QEMU it is blank at every
 * power-up (QEMU keeps no state between runs), so this image shows the OTP
 * contract within one run only; a real part uses its fuse or OTP block
 * (e.g. the OTP area of an STM32F4's flash interface). QEMU has no TRNG:
 * random bytes here come from a fixed generator and are NOT SECRET (so is the device key made from them):
 * this image is a test image; a real port reads the MCU's TRNG. Uptime is
 * SysTick on the core clock (QEMU models it), free-running over its whole
 * 24-bit range: the count read from the counter itself, the interrupt only
 * counting wraps (every 0.67 s), so a late interrupt loses no time (at 1 kHz
 * QEMU drops ticks whenever its host is busy, which the clock monitor would
 * rightly call a slowed clock). The wall clock is a fixed value, as the
 * board has no RTC.
 *
 * The reference (heg_hal_reference_ms) is the FPGA IO block's 100 Hz counter
 * (CLK100HZ), which counts a clock of its own, not the core clock SysTick
 * divides; QEMU derives it from its virtual clock, not from SysTick's ticks.
 * On the MPS2 board both clocks are on the board, so this image shows the
 * monitor working, not a reference the operator cannot reach. A product part
 * (an STM32F4, say) uses the RC oscillator inside the package: the LSI,
 * counted by a timer's input capture (TIM5 channel 4 is wired to the LSI for
 * just this) or by the RTC running from it, trimmed to the HAL's tolerance.
 *
 * Stack guard: the stack is at the bottom of SRAM, but on mps2-an386 (board
 * and QEMU alike) the space below 0x20000000 is a reserved region that reads
 * as zero and ignores writes, so running off SRAM would not fault by itself.
 * The MPU makes the 1 MiB below the stack a no-access region: an overflow
 * faults (MemManage, escalated to HardFault) instead of going unnoticed. */
#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "hal_cm4.h"

#define UART0_BASE 0x40004000u
#define UART_DATA (*(volatile uint32_t *)(UART0_BASE + 0x00u))
#define UART_STATE (*(volatile uint32_t *)(UART0_BASE + 0x04u))
#define UART_CTRL (*(volatile uint32_t *)(UART0_BASE + 0x08u))
#define UART_BAUDDIV (*(volatile uint32_t *)(UART0_BASE + 0x10u))
#define UART_STATE_TX_FULL 0x1u
#define UART_STATE_RX_FULL 0x2u
#define UART_CTRL_TX_EN 0x1u
#define UART_CTRL_RX_EN 0x2u
/* 16 is the smallest divisor the CMSDK UART takes (QEMU refuses less);
 * 25 MHz / 16: the line speed is moot on QEMU's pty. */
#define UART_BAUDDIV_MIN 16u

/* FPGA system control and I/O: CLK100HZ counts up at 100 Hz from reset
 * (32 bits: it wraps after 497 days, so the port extends it). */
#define FPGAIO_CLK100HZ (*(volatile uint32_t *)(HEG_CM4_FPGAIO_BASE + 0x14u))
#define REFERENCE_MS_PER_TICK 10u

#define SYST_CSR (*(volatile uint32_t *)0xe000e010u)
#define SYST_RVR (*(volatile uint32_t *)0xe000e014u)
#define SYST_CVR (*(volatile uint32_t *)0xe000e018u)
#define SYST_CSR_ENABLE 0x1u
#define SYST_CSR_TICKINT 0x2u
#define SYST_CSR_CLKSOURCE_CPU 0x4u
#define SYST_RELOAD 0x00ffffffu /* the whole 24-bit counter */

/* MPU (PMSAv7): region 0 is a no-access guard right below the stack. */
#define MPU_CTRL (*(volatile uint32_t *)0xe000ed94u)
#define MPU_RNR (*(volatile uint32_t *)0xe000ed98u)
#define MPU_RBAR (*(volatile uint32_t *)0xe000ed9cu)
#define MPU_RASR (*(volatile uint32_t *)0xe000eda0u)
#define MPU_CTRL_ENABLE 0x1u
#define MPU_CTRL_PRIVDEFENA 0x4u /* the default memory map everywhere else */
#define MPU_RBAR_VALID 0x10u
#define MPU_RASR_XN (1u << 28)   /* AP = 000: no access at all */
#define MPU_RASR_ENABLE 0x1u
#define STACK_GUARD_LOG2 20u /* 1 MiB: far more than any one frame can skip */

extern uint32_t __stack_bottom;

/* Written by the SysTick handler only. */
static volatile uint64_t g_systick_wraps;
/* The last uptime read (main's loop reads it all the time): what a debugger
 * or tests/firmware/test_qemu_cm4.py reads from memory. */
static volatile uint64_t g_uptime_ms;

void heg_cm4_uart_init(void) {
  UART_CTRL = 0u;
  UART_BAUDDIV = UART_BAUDDIV_MIN;
  UART_CTRL = UART_CTRL_TX_EN | UART_CTRL_RX_EN; /* no interrupts: polled */
}

void heg_cm4_stack_guard_init(void) {
  uintptr_t base = (uintptr_t)&__stack_bottom - ((uintptr_t)1u << STACK_GUARD_LOG2);
  if ((base & (((uintptr_t)1u << STACK_GUARD_LOG2) - 1u)) != 0u) {
    heg_cm4_fault(); /* the linker script put the stack off a guard boundary */
  }
  MPU_CTRL = 0u;
  MPU_RNR = 0u;
  MPU_RBAR = (uint32_t)base | MPU_RBAR_VALID;
  MPU_RASR = MPU_RASR_XN | ((STACK_GUARD_LOG2 - 1u) << 1) | MPU_RASR_ENABLE;
  MPU_CTRL = MPU_CTRL_ENABLE | MPU_CTRL_PRIVDEFENA;
  __asm__ volatile("dsb\n\tisb" : : : "memory");
}

void heg_cm4_clock_init(void) {
  SYST_CSR = 0u;
  SYST_RVR = SYST_RELOAD;
  SYST_CVR = 0u;
  SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE_CPU;
}

void heg_cm4_systick(void) { g_systick_wraps = g_systick_wraps + 1u; }

/* A 64-bit load is two instructions: with interrupts masked. */
static uint64_t read_wraps(void) {
  uint32_t primask;
  uint64_t wraps;
  __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask) : : "memory");
  wraps = g_systick_wraps;
  __asm__ volatile("msr primask, %0" : : "r"(primask) : "memory");
  return wraps;
}

/* The wrap count, then the counter, then the wrap count again, until no
 * wrap was counted in between (interrupts stay on, so a wrap is counted as
 * soon as it is taken). A wrap not taken yet reads one wrap short, which the
 * running maximum below hides: uptime never goes back, never runs ahead. */
uint64_t heg_cm4_uptime_ms(void) {
  uint64_t wraps;
  uint32_t down;
  uint64_t now;
  do {
    wraps = read_wraps();
    down = SYST_CVR;
  } while (read_wraps() != wraps);
  now = heg_u64_div_u32(wraps * (SYST_RELOAD + 1u) + (SYST_RELOAD - down),
                        HEG_CM4_CPU_HZ / 1000u, NULL);
  if (now > g_uptime_ms) {
    g_uptime_ms = now;
  }
  return g_uptime_ms;
}

int heg_cm4_uart_getc(void) {
  if ((UART_STATE & UART_STATE_RX_FULL) == 0u) {
    return -1;
  }
  return (int)(UART_DATA & 0xffu);
}

void heg_cm4_uart_putc(uint8_t byte) {
  while (UART_STATE & UART_STATE_TX_FULL) {
  }
  UART_DATA = byte;
}

heg_status_t heg_hal_storage_geometry(heg_hal_t *hal, uint32_t *page_size, uint32_t *page_count) {
  return heg_nor_sim_geometry(&hal->nor, page_size, page_count);
}

heg_status_t heg_hal_storage_read(heg_hal_t *hal, uint32_t offset, uint8_t *out, size_t len) {
  return heg_nor_sim_read(&hal->nor, offset, out, len);
}

heg_status_t heg_hal_storage_program(heg_hal_t *hal, uint32_t offset, const uint8_t *data,
                                     size_t len) {
  return heg_nor_sim_program(&hal->nor, offset, data, len);
}

heg_status_t heg_hal_storage_erase(heg_hal_t *hal, uint32_t page) {
  return heg_nor_sim_erase(&hal->nor, page);
}

heg_status_t heg_hal_otp_read(heg_hal_t *hal, uint8_t out[HEG_OTP_SIZE]) {
  return heg_otp_sim_read(&hal->otp, out);
}

heg_status_t heg_hal_otp_program(heg_hal_t *hal, const uint8_t data[HEG_OTP_SIZE]) {
  return heg_otp_sim_program(&hal->otp, data);
}

heg_status_t heg_hal_random(heg_hal_t *hal, uint8_t *out, size_t len) {
  heg_sim_xorshift_fill(&hal->rng, out, len);
  return HEG_STATUS_OK;
}

/* No RTC on this board: a fixed value set by main. The firmware decides
 * nothing on it; trusted time comes from signed beacons plus uptime. */
uint64_t heg_hal_time_now(heg_hal_t *hal) { return hal->time_now; }

uint64_t heg_hal_uptime_ms(heg_hal_t *hal) {
  (void)hal;
  return heg_cm4_uptime_ms();
}

/* The firmware reads it at every metering step, far more often than the
 * counter wraps: a reading below the last one is one wrap. */
uint64_t heg_hal_reference_ms(heg_hal_t *hal) {
  uint32_t ticks = FPGAIO_CLK100HZ;
  if (ticks < hal->reference_last) {
    hal->reference_wraps += 1u;
  }
  hal->reference_last = ticks;
  return ((hal->reference_wraps << 32) | ticks) * REFERENCE_MS_PER_TICK;
}
