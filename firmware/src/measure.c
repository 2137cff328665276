/* The firmware measurement: SHA-256 over the firmware's own sources, computed
 * by the build (sim/openheg_sim/firmware_build.py) into heg_measurement.h. */
#include <string.h>

#include "heg_measurement.h"
#include "internal.h"

#ifndef HEG_FIRMWARE_MEASUREMENT
#error "HEG_FIRMWARE_MEASUREMENT must be defined by the build"
#endif

static const uint8_t k_measurement[HEG_DIGEST_SIZE] = {HEG_FIRMWARE_MEASUREMENT};

void heg_firmware_measurement(uint8_t out[HEG_DIGEST_SIZE]) {
  memcpy(out, k_measurement, HEG_DIGEST_SIZE);
}
