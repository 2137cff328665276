/* libFuzzer harness: the frame decoder and the stream receiver.
 * Whatever the bytes, decoding stays in bounds; a frame that decodes
 * re-encodes to a frame that decodes to the same message. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "heg_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static uint8_t msg[HEG_FRAME_MAX_SIZE];
  static uint8_t again[HEG_FRAME_MAX_SIZE];
  static uint8_t frame[HEG_FRAME_MAX_ENCODED];
  static heg_frame_rx_t rx;
  size_t msg_len = 0;
  size_t i;

  if (heg_frame_decode(data, size, msg, sizeof(msg), &msg_len) == HEG_FRAME_OK &&
      msg_len <= HEG_FRAME_MAX_MESSAGE) {
    size_t frame_len = 0;
    size_t again_len = 0;
    if (heg_frame_encode(msg, msg_len, frame, sizeof(frame), &frame_len) != HEG_FRAME_OK ||
        frame[frame_len - 1u] != 0u || memchr(frame, 0, frame_len - 1u) != NULL ||
        heg_frame_decode(frame, frame_len - 1u, again, sizeof(again), &again_len) !=
            HEG_FRAME_OK ||
        again_len != msg_len || memcmp(again, msg, msg_len) != 0) {
      __builtin_trap();
    }
  }
  heg_frame_rx_reset(&rx);
  for (i = 0; i < size; ++i) {
    if (heg_frame_rx_push(&rx, data[i]) == HEG_FRAME_RX_COMPLETE) {
      if (rx.len == 0u || rx.len > sizeof(rx.buf)) {
        __builtin_trap();
      }
      (void)heg_frame_decode(rx.buf, rx.len, msg, 64u, &msg_len);
    }
  }
  return 0;
}
