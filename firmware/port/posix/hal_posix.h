/* POSIX port of the HAL: a whole device in one process.
 *
 * Meter registers land on the software meter model (port/common/heg_meter_sim,
 * the stand-in for the RTL block), storage on a NOR model whose image is kept
 * in a file (raw bytes, the same format as the emulator's *.flash files) and
 * replaced atomically after every program or erase, the one-time-programmable
 * area on the OTP model whose HEG_OTP_SIZE bytes are kept beside it (NAME.otp
 * for NAME.flash, as the emulator keeps them; absent: never programmed),
 * randomness comes from /dev/urandom and time from the system clock (uptime
 * and the reference alike, at rates a harness may set apart). */
#ifndef HEG_HAL_POSIX_H
#define HEG_HAL_POSIX_H

#include <stdint.h>

#include "heg/heg_hal.h"
#include "heg_link_sim.h"
#include "heg_meter_sim.h"
#include "heg_nor_sim.h"

/* The emulator's default geometry (sim/openheg_sim/flash.py). */
#define HEG_POSIX_PAGE_SIZE 2048u
#define HEG_POSIX_PAGE_COUNT 8u
/* Longest OTP file path (the flash path with its suffix swapped). */
#define HEG_POSIX_PATH_MAX 1024u

struct heg_hal {
  heg_meter_sim_t meter;
  heg_link_sim_t link;
  heg_nor_sim_t nor;
  uint8_t image[HEG_POSIX_PAGE_SIZE * HEG_POSIX_PAGE_COUNT];
  const char *flash_path; /* NULL: storage lives in memory only */
  heg_otp_sim_t otp;
  uint8_t otp_area[HEG_OTP_SIZE];
  char otp_path[HEG_POSIX_PATH_MAX]; /* "" when flash_path is NULL */
  uint64_t fixed_time;    /* nonzero: heg_hal_time_now returns it (repeatable runs) */
  uint32_t fixed_random;  /* nonzero: deterministic "random" bytes from this seed */
  uint64_t boot_ms;       /* CLOCK_MONOTONIC at power-up */
  /* The rates, in thousandths of true time, of the board's clock (uptime)
   * and of the reference oscillator: 1000 each unless a harness sets them. */
  uint32_t uptime_permille;
  uint32_t reference_permille;
};

/* Powers up: resets the meter, loads the flash image from flash_path (or an
 * erased one if the file does not exist) and the OTP area from beside it (or
 * a blank one). Returns 0, or -1 with errno set (e.g. a file exists with the
 * wrong size: EINVAL; the OTP path would be too long: ENAMETOOLONG). */
int heg_posix_hal_open(heg_hal_t *hal, const char *flash_path);

/* Also declared by heg_hal.h from the monotonic-uptime HAL revision on;
 * repeated here so the port builds against either. */
uint64_t heg_hal_uptime_ms(heg_hal_t *hal);

#endif /* HEG_HAL_POSIX_H */
