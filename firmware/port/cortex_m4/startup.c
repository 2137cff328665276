/* Cortex-M4 start-up: vector table, reset (copy .data, zero .bss, paint the
 * stack so its high-water mark can be measured), fault handlers that stop. */
#include <stdint.h>
#include <string.h>

extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end;
extern uint32_t __stack_bottom, __stack_top;

int main(void);
void heg_cm4_reset(void);
void heg_cm4_fault(void);

#define STACK_PAINT 0xdeadbeefu

__attribute__((noreturn)) void heg_cm4_fault(void) {
  for (;;) {
    __asm__ volatile("bkpt #1");
  }
}

__attribute__((noreturn)) void heg_cm4_reset(void) {
  uintptr_t p;
  uintptr_t paint_end = (uintptr_t)&__stack_top - 256u;
  memcpy(&__data_start, &__data_load,
         (size_t)((uintptr_t)&__data_end - (uintptr_t)&__data_start));
  memset(&__bss_start, 0, (size_t)((uintptr_t)&__bss_end - (uintptr_t)&__bss_start));
  /* Paint below the current frame only. */
  for (p = (uintptr_t)&__stack_bottom; p < paint_end; p += 4u) {
    *(volatile uint32_t *)p = STACK_PAINT;
  }
  (void)main();
  heg_cm4_fault();
}

/* Bytes of stack ever used (lowest unpainted word). */
uint32_t heg_cm4_stack_used(void);
uint32_t heg_cm4_stack_used(void) {
  const uint32_t *p = &__stack_bottom;
  while (p < &__stack_top && *p == STACK_PAINT) {
    ++p;
  }
  return (uint32_t)((uintptr_t)&__stack_top - (uintptr_t)p);
}

__attribute__((section(".vectors"), used)) static void (*const k_vectors[16])(void) = {
    (void (*)(void))(uintptr_t)&__stack_top, /* initial SP */
    heg_cm4_reset, heg_cm4_fault, heg_cm4_fault, heg_cm4_fault, heg_cm4_fault,
    heg_cm4_fault, 0, 0, 0, 0, heg_cm4_fault, heg_cm4_fault, 0, heg_cm4_fault,
    heg_cm4_fault};
