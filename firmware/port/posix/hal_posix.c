/* heg_hal.h on POSIX (see hal_posix.h). */
#define _POSIX_C_SOURCE 200809L
#include "hal_posix.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint64_t monotonic_ms(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
    return 0;
  }
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Fills buf (exactly len bytes) from the file at path if it exists: 0, or -1
 * with errno set (EINVAL: the file has another size). */
static int load_file(const char *path, uint8_t *buf, size_t len) {
  struct stat st;
  FILE *f;
  size_t got;
  if (stat(path, &st) != 0) {
    return 0; /* none yet: the caller's blank content stands */
  }
  if ((size_t)st.st_size != len) {
    errno = EINVAL;
    return -1;
  }
  f = fopen(path, "rb");
  if (f == NULL) {
    return -1;
  }
  got = fread(buf, 1, len, f);
  fclose(f);
  if (got != len) {
    errno = EIO;
    return -1;
  }
  return 0;
}

/* NAME.otp for NAME.flash (any other flash path: the path with ".otp"
 * appended). */
static int otp_path_for(const char *flash_path, char *out, size_t cap) {
  static const char suffix[] = ".flash";
  size_t len = strlen(flash_path);
  size_t stem = len;
  if (len >= sizeof(suffix) - 1u && strcmp(flash_path + len - (sizeof(suffix) - 1u), suffix) == 0) {
    stem = len - (sizeof(suffix) - 1u);
  }
  if (snprintf(out, cap, "%.*s.otp", (int)stem, flash_path) >= (int)cap) {
    errno = ENAMETOOLONG;
    return -1;
  }
  return 0;
}

int heg_posix_hal_open(heg_hal_t *hal, const char *flash_path) {
  memset(hal, 0, sizeof(*hal));
  heg_meter_sim_reset(&hal->meter);
  heg_link_sim_reset(&hal->link);
  heg_nor_sim_init(&hal->nor, hal->image, HEG_POSIX_PAGE_SIZE, HEG_POSIX_PAGE_COUNT, HEG_HTRUE);
  heg_otp_sim_init(&hal->otp, hal->otp_area, HEG_HTRUE);
  hal->flash_path = flash_path;
  hal->boot_ms = monotonic_ms();
  hal->uptime_permille = 1000u;
  hal->reference_permille = 1000u;
  if (flash_path == NULL) {
    return 0;
  }
  if (otp_path_for(flash_path, hal->otp_path, sizeof(hal->otp_path)) != 0 ||
      load_file(flash_path, hal->image, sizeof(hal->image)) != 0) {
    return -1;
  }
  return load_file(hal->otp_path, hal->otp_area, sizeof(hal->otp_area));
}

/* Writes len bytes beside path, then renames them over it: a crash of this
 * process leaves the old content or the new one. */
static heg_status_t persist_file(const char *path, const uint8_t *data, size_t len) {
  char tmp[HEG_POSIX_PATH_MAX + 8u];
  FILE *f;
  int ok;
  if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
    return HEG_STATUS_STORAGE;
  }
  f = fopen(tmp, "wb");
  if (f == NULL) {
    return HEG_STATUS_STORAGE;
  }
  ok = fwrite(data, 1, len, f) == len;
  ok = (fclose(f) == 0) && ok;
  if (!ok || rename(tmp, path) != 0) {
    return HEG_STATUS_STORAGE;
  }
  return HEG_STATUS_OK;
}

static heg_status_t persist(heg_hal_t *hal) {
  if (hal->flash_path == NULL) {
    return HEG_STATUS_OK;
  }
  return persist_file(hal->flash_path, hal->image, sizeof(hal->image));
}

uint32_t heg_hal_reg_read(heg_hal_t *hal, uint32_t offset) {
  return heg_meter_sim_read(&hal->meter, offset);
}

void heg_hal_reg_write(heg_hal_t *hal, uint32_t offset, uint32_t value) {
  heg_meter_sim_write(&hal->meter, offset, value, 0xfu);
}

uint32_t heg_hal_link_read(heg_hal_t *hal, uint32_t offset) {
  return heg_link_sim_read(&hal->link, offset);
}

void heg_hal_link_write(heg_hal_t *hal, uint32_t offset, uint32_t value) {
  heg_link_sim_write(&hal->link, offset, value);
}

uint32_t heg_hal_link_clock_hz(heg_hal_t *hal) {
  (void)hal;
  return HEG_LINK_SIM_CLOCK_HZ;
}

heg_status_t heg_hal_storage_geometry(heg_hal_t *hal, uint32_t *page_size, uint32_t *page_count) {
  return heg_nor_sim_geometry(&hal->nor, page_size, page_count);
}

heg_status_t heg_hal_storage_read(heg_hal_t *hal, uint32_t offset, uint8_t *out, size_t len) {
  return heg_nor_sim_read(&hal->nor, offset, out, len);
}

heg_status_t heg_hal_storage_program(heg_hal_t *hal, uint32_t offset, const uint8_t *data,
                                     size_t len) {
  heg_status_t status = heg_nor_sim_program(&hal->nor, offset, data, len);
  return status == HEG_STATUS_OK ? persist(hal) : status;
}

heg_status_t heg_hal_storage_erase(heg_hal_t *hal, uint32_t page) {
  heg_status_t status = heg_nor_sim_erase(&hal->nor, page);
  return status == HEG_STATUS_OK ? persist(hal) : status;
}

heg_status_t heg_hal_otp_read(heg_hal_t *hal, uint8_t out[HEG_OTP_SIZE]) {
  return heg_otp_sim_read(&hal->otp, out);
}

heg_status_t heg_hal_otp_program(heg_hal_t *hal, const uint8_t data[HEG_OTP_SIZE]) {
  heg_status_t status = heg_otp_sim_program(&hal->otp, data);
  if (status != HEG_STATUS_OK || hal->flash_path == NULL) {
    return status;
  }
  return persist_file(hal->otp_path, hal->otp_area, sizeof(hal->otp_area));
}

heg_status_t heg_hal_random(heg_hal_t *hal, uint8_t *out, size_t len) {
  size_t done = 0;
  int fd;
  if (out == NULL) {
    return HEG_STATUS_HARDWARE;
  }
  if (hal->fixed_random != 0u) {
    /* Repeatable, for benchmarks only: never a real key. */
    heg_sim_xorshift_fill(&hal->fixed_random, out, len);
    return HEG_STATUS_OK;
  }
  fd = open("/dev/urandom", O_RDONLY);
  if (fd < 0) {
    return HEG_STATUS_HARDWARE;
  }
  while (done < len) {
    ssize_t n = read(fd, out + done, len - done);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) {
        continue;
      }
      close(fd);
      return HEG_STATUS_HARDWARE;
    }
    done += (size_t)n;
  }
  close(fd);
  return HEG_STATUS_OK;
}

uint64_t heg_hal_time_now(heg_hal_t *hal) {
  if (hal->fixed_time != 0u) {
    return hal->fixed_time;
  }
  return (uint64_t)time(NULL);
}

/* Both clocks count the host's monotonic clock (one oscillator: this port
 * is an emulation), each at its own rate, which the harness sets apart to
 * play a tampered board clock or a failing reference. */
static uint64_t scaled_ms(const heg_hal_t *hal, uint32_t permille) {
  return (monotonic_ms() - hal->boot_ms) * permille / 1000u;
}

uint64_t heg_hal_uptime_ms(heg_hal_t *hal) { return scaled_ms(hal, hal->uptime_permille); }

uint64_t heg_hal_reference_ms(heg_hal_t *hal) { return scaled_ms(hal, hal->reference_permille); }
