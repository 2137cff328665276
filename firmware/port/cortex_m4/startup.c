/* Cortex-M4 start-up: vector table, reset (copy .data, zero .bss, paint the
 * stack so its high-water mark can be measured), fault handlers that stop.
 *
 * The stack sits at the very bottom of SRAM (see mps2_an386.ld), so an
 * overflow runs off the start of SRAM instead of silently overwriting .data
 * or .bss; main's first act is the MPU guard below it (hal_cm4.c), as the
 * board ignores accesses there rather than faulting. (The guard is not set
 * here: the bench image runs this reset code in an emulator without an MPU.) */
#include <stdint.h>
#include <string.h>

#include "hal_cm4.h"

extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end;
extern uint32_t __stack_bottom, __stack_top;

int main(void);
void heg_cm4_reset(void);

__attribute__((noreturn)) void heg_cm4_fault(void) {
  for (;;) {
    __asm__ volatile("bkpt #1");
  }
}

__attribute__((noreturn)) void heg_cm4_reset(void) {
  uintptr_t p;
  uintptr_t sp;
  memcpy(&__data_start, &__data_load,
         (size_t)((uintptr_t)&__data_end - (uintptr_t)&__data_start));
  memset(&__bss_start, 0, (size_t)((uintptr_t)&__bss_end - (uintptr_t)&__bss_start));
  /* Paint everything below the current stack pointer (nothing lives there:
   * the Cortex-M has no red zone); the words above it are this frame's. */
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  for (p = (uintptr_t)&__stack_bottom; p < (sp & ~(uintptr_t)3u); p += 4u) {
    *(volatile uint32_t *)p = HEG_CM4_STACK_PAINT;
  }
  (void)main();
  heg_cm4_fault();
}

/* Bytes of stack ever used (from the top down to the lowest unpainted word). */
uint32_t heg_cm4_stack_used(void) {
  const uint32_t *p = &__stack_bottom;
  while (p < &__stack_top && *p == HEG_CM4_STACK_PAINT) {
    ++p;
  }
  return (uint32_t)((uintptr_t)&__stack_top - (uintptr_t)p);
}

/* The architecture's 16 entries; the board's interrupts are not used (the
 * UART is polled). */
__attribute__((section(".vectors"), used)) static void (*const k_vectors[16])(void) = {
    (void (*)(void))(uintptr_t)&__stack_top, /* initial SP */
    heg_cm4_reset,                           /* Reset */
    heg_cm4_fault,                           /* NMI */
    heg_cm4_fault,                           /* HardFault */
    heg_cm4_fault,                           /* MemManage */
    heg_cm4_fault,                           /* BusFault */
    heg_cm4_fault,                           /* UsageFault */
    0,
    0,
    0,
    0,
    heg_cm4_fault, /* SVCall */
    heg_cm4_fault, /* DebugMonitor */
    0,
    heg_cm4_fault,  /* PendSV */
    heg_cm4_systick /* SysTick: a wrap of the uptime counter */
};
