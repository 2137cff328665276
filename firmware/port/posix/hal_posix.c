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

int heg_posix_hal_open(heg_hal_t *hal, const char *flash_path) {
  struct stat st;
  memset(hal, 0, sizeof(*hal));
  heg_meter_sim_reset(&hal->meter);
  heg_nor_sim_init(&hal->nor, hal->image, HEG_POSIX_PAGE_SIZE, HEG_POSIX_PAGE_COUNT, HEG_HTRUE);
  hal->flash_path = flash_path;
  hal->boot_ms = monotonic_ms();
  if (flash_path != NULL && stat(flash_path, &st) == 0) {
    FILE *f;
    size_t got;
    if ((size_t)st.st_size != sizeof(hal->image)) {
      errno = EINVAL;
      return -1;
    }
    f = fopen(flash_path, "rb");
    if (f == NULL) {
      return -1;
    }
    got = fread(hal->image, 1, sizeof(hal->image), f);
    fclose(f);
    if (got != sizeof(hal->image)) {
      errno = EIO;
      return -1;
    }
  }
  return 0;
}

/* Writes the whole image beside the file, then renames it over: a crash of
 * this process leaves the old image or the new one. */
static heg_status_t persist(heg_hal_t *hal) {
  char tmp[4096];
  FILE *f;
  int ok;
  if (hal->flash_path == NULL) {
    return HEG_STATUS_OK;
  }
  if (snprintf(tmp, sizeof(tmp), "%s.tmp", hal->flash_path) >= (int)sizeof(tmp)) {
    return HEG_STATUS_STORAGE;
  }
  f = fopen(tmp, "wb");
  if (f == NULL) {
    return HEG_STATUS_STORAGE;
  }
  ok = fwrite(hal->image, 1, sizeof(hal->image), f) == sizeof(hal->image);
  ok = (fclose(f) == 0) && ok;
  if (!ok || rename(tmp, hal->flash_path) != 0) {
    return HEG_STATUS_STORAGE;
  }
  return HEG_STATUS_OK;
}

uint32_t heg_hal_reg_read(heg_hal_t *hal, uint32_t offset) {
  return heg_meter_sim_read(&hal->meter, offset);
}

void heg_hal_reg_write(heg_hal_t *hal, uint32_t offset, uint32_t value) {
  heg_meter_sim_write(&hal->meter, offset, value, 0xfu);
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

uint64_t heg_hal_uptime_ms(heg_hal_t *hal) { return monotonic_ms() - hal->boot_ms; }
