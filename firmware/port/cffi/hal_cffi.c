/* heg_hal.h for the host emulator: every call goes to Python, except the
 * storage calls of a HAL bound to pages in C memory (heg_cffi_hal_bind_storage). */
#include "hal_cffi.h"

#include "../common/heg_nor_sim.h"

struct heg_hal {
  void *handle; /* from ffi.new_handle(); the Python side keeps it alive */
  heg_nor_sim_t nor;
  heg_nor_sim_t *native; /* &nor once bound to C pages; NULL: storage goes to Python */
};

size_t heg_cffi_hal_size(void) { return sizeof(struct heg_hal); }

void heg_cffi_hal_bind(heg_hal_t *hal, void *handle) {
  if (hal != NULL) {
    hal->handle = handle;
    hal->native = NULL;
  }
}

void heg_cffi_hal_bind_storage(heg_hal_t *hal, uint8_t *pages, uint32_t page_size,
                               uint32_t page_count) {
  if (hal != NULL && pages != NULL) {
    heg_nor_sim_init(&hal->nor, pages, page_size, page_count, HEG_HFALSE);
    hal->native = &hal->nor;
  }
}

static heg_status_t storage_status(int rc) {
  return rc == 0 ? HEG_STATUS_OK : HEG_STATUS_STORAGE;
}

uint32_t heg_hal_reg_read(heg_hal_t *hal, uint32_t offset) {
  return heg_py_reg_read(hal->handle, offset);
}

void heg_hal_reg_write(heg_hal_t *hal, uint32_t offset, uint32_t value) {
  heg_py_reg_write(hal->handle, offset, value);
}

uint32_t heg_hal_link_read(heg_hal_t *hal, uint32_t offset) {
  return heg_py_link_read(hal->handle, offset);
}

void heg_hal_link_write(heg_hal_t *hal, uint32_t offset, uint32_t value) {
  heg_py_link_write(hal->handle, offset, value);
}

uint32_t heg_hal_link_clock_hz(heg_hal_t *hal) { return heg_py_link_clock_hz(hal->handle); }

heg_status_t heg_hal_storage_geometry(heg_hal_t *hal, uint32_t *page_size, uint32_t *page_count) {
  if (hal->native != NULL) {
    return heg_nor_sim_geometry(hal->native, page_size, page_count);
  }
  return storage_status(heg_py_storage_geometry(hal->handle, page_size, page_count));
}

heg_status_t heg_hal_storage_read(heg_hal_t *hal, uint32_t offset, uint8_t *out, size_t len) {
  if (hal->native != NULL) {
    return heg_nor_sim_read(hal->native, offset, out, len);
  }
  return storage_status(heg_py_storage_read(hal->handle, offset, out, len));
}

heg_status_t heg_hal_storage_program(heg_hal_t *hal, uint32_t offset, const uint8_t *data,
                                     size_t len) {
  if (hal->native != NULL) {
    return heg_nor_sim_program(hal->native, offset, data, len);
  }
  return storage_status(heg_py_storage_program(hal->handle, offset, data, len));
}

heg_status_t heg_hal_storage_erase(heg_hal_t *hal, uint32_t page) {
  if (hal->native != NULL) {
    return heg_nor_sim_erase(hal->native, page);
  }
  return storage_status(heg_py_storage_erase(hal->handle, page));
}

heg_status_t heg_hal_otp_read(heg_hal_t *hal, uint8_t out[HEG_OTP_SIZE]) {
  return storage_status(heg_py_otp_read(hal->handle, out));
}

heg_status_t heg_hal_otp_program(heg_hal_t *hal, const uint8_t data[HEG_OTP_SIZE]) {
  return storage_status(heg_py_otp_program(hal->handle, data));
}

heg_status_t heg_hal_random(heg_hal_t *hal, uint8_t *out, size_t len) {
  return heg_py_random(hal->handle, out, len) == 0 ? HEG_STATUS_OK : HEG_STATUS_HARDWARE;
}

uint64_t heg_hal_time_now(heg_hal_t *hal) { return heg_py_time_now(hal->handle); }

uint64_t heg_hal_uptime_ms(heg_hal_t *hal) { return heg_py_uptime_ms(hal->handle); }

uint64_t heg_hal_reference_ms(heg_hal_t *hal) { return heg_py_reference_ms(hal->handle); }
