/* The Cortex-M4 port's HAL state and UART (see hal_cm4.c). */
#ifndef HEG_HAL_CM4_H
#define HEG_HAL_CM4_H

#include <stdint.h>

#include "heg/heg_hal.h"
#include "heg_meter_sim.h"
#include "heg_nor_sim.h"

#define HEG_CM4_PAGE_SIZE 2048u
#define HEG_CM4_PAGE_COUNT 8u

struct heg_hal {
  heg_meter_sim_t *meter; /* lives in the HWSIM region */
  heg_nor_sim_t nor;      /* over the STORAGE region */
  uint32_t rng;
  uint64_t time_now;
  uint64_t uptime_ms; /* advanced by main's loop; a real port reads a timer */
};

/* Also declared by heg_hal.h from the monotonic-uptime HAL revision on. */
uint64_t heg_hal_uptime_ms(heg_hal_t *hal);

void heg_cm4_uart_init(void);
int heg_cm4_uart_getc(void); /* -1: nothing received */
void heg_cm4_uart_putc(uint8_t byte);

#endif /* HEG_HAL_CM4_H */
