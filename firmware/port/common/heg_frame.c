/* COBS + CRC-32 framing (see heg_frame.h). Matches host/openheg/framing.py. */
#include "heg_frame.h"

#include <string.h>

uint32_t heg_frame_crc32(uint32_t crc, const uint8_t *data, size_t len) {
  /* Half-byte table: 64 bytes of constants instead of 1 KiB, which matters
   * on a microcontroller; frames are short, so speed does not. */
  static const uint32_t k_nibble[16] = {
      0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u,
      0x4db26158u, 0x5005713cu, 0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
      0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu};
  size_t i;
  if (data == NULL) {
    return crc;
  }
  crc = ~crc;
  for (i = 0; i < len; ++i) {
    crc ^= data[i];
    crc = (crc >> 4) ^ k_nibble[crc & 0x0fu];
    crc = (crc >> 4) ^ k_nibble[crc & 0x0fu];
  }
  return ~crc;
}

/* Appends one input byte to the COBS output; code_at is where the current
 * block's code byte goes. */
typedef struct {
  uint8_t *out;
  size_t cap;
  size_t pos;
  size_t code_at;
  uint8_t code;
  uint32_t full; /* HEG_HTRUE when out ran out of room */
} cobs_writer_t;

static void cobs_begin_block(cobs_writer_t *w) {
  if (w->pos >= w->cap) {
    w->full = HEG_HTRUE;
    return;
  }
  w->code_at = w->pos++;
  w->code = 1u;
}

static void cobs_end_block(cobs_writer_t *w) {
  if (w->full != HEG_HTRUE) {
    w->out[w->code_at] = w->code;
  }
}

static void cobs_put(cobs_writer_t *w, uint8_t byte, int more_follows) {
  if (w->full == HEG_HTRUE) {
    return;
  }
  if (byte == 0u) {
    cobs_end_block(w);
    cobs_begin_block(w);
    return;
  }
  if (w->pos >= w->cap) {
    w->full = HEG_HTRUE;
    return;
  }
  w->out[w->pos++] = byte;
  w->code++;
  if (w->code == 0xffu) {
    /* A full block carries no implicit zero; a new block starts only when
     * more input follows (the Python cobs package does the same). */
    cobs_end_block(w);
    if (more_follows) {
      cobs_begin_block(w);
    } else {
      w->code_at = w->cap; /* nothing left to close */
    }
  }
}

heg_frame_status_t heg_frame_encode(const uint8_t *msg, size_t len, uint8_t *out, size_t cap,
                                    size_t *out_len) {
  cobs_writer_t w;
  uint8_t crc_le[HEG_FRAME_CRC_SIZE];
  uint32_t crc;
  size_t i;
  size_t total;

  if (out_len == NULL) {
    return HEG_FRAME_BAD_ARGUMENT;
  }
  *out_len = 0;
  if ((msg == NULL && len != 0u) || out == NULL) {
    return HEG_FRAME_BAD_ARGUMENT;
  }
  if (len > HEG_FRAME_MAX_MESSAGE) {
    return HEG_FRAME_TOO_LARGE;
  }
  crc = heg_frame_crc32(0u, msg, len);
  for (i = 0; i < HEG_FRAME_CRC_SIZE; ++i) {
    crc_le[i] = (uint8_t)(crc >> (8u * i));
  }
  total = len + HEG_FRAME_CRC_SIZE;
  w.out = out;
  w.cap = cap;
  w.pos = 0;
  w.code_at = 0;
  w.code = 1u;
  w.full = HEG_HFALSE;
  cobs_begin_block(&w);
  for (i = 0; i < total; ++i) {
    uint8_t byte = i < len ? msg[i] : crc_le[i - len];
    cobs_put(&w, byte, i + 1u < total);
  }
  if (w.full != HEG_HTRUE && w.code_at < w.cap) {
    cobs_end_block(&w);
  }
  if (w.full == HEG_HTRUE || w.pos >= cap) {
    return HEG_FRAME_TOO_LARGE;
  }
  out[w.pos++] = HEG_FRAME_DELIMITER;
  *out_len = w.pos;
  return HEG_FRAME_OK;
}

heg_frame_status_t heg_frame_decode(const uint8_t *frame, size_t len, uint8_t *msg, size_t cap,
                                    size_t *msg_len) {
  size_t in = 0;
  size_t out = 0;
  uint32_t crc;
  uint32_t want;
  size_t i;

  if (msg_len == NULL) {
    return HEG_FRAME_BAD_ARGUMENT;
  }
  *msg_len = 0;
  if ((frame == NULL && len != 0u) || msg == NULL) {
    return HEG_FRAME_BAD_ARGUMENT;
  }
  if (len > HEG_FRAME_MAX_SIZE) {
    return HEG_FRAME_TOO_LARGE;
  }
  while (in < len) {
    uint8_t code = frame[in++];
    size_t n;
    if (code == 0u) {
      return HEG_FRAME_BAD_COBS;
    }
    n = (size_t)code - 1u;
    if (n > len - in) {
      return HEG_FRAME_BAD_COBS;
    }
    if (n > cap - out) {
      return HEG_FRAME_TOO_LARGE;
    }
    for (i = 0; i < n; ++i) {
      if (frame[in + i] == 0u) {
        return HEG_FRAME_BAD_COBS;
      }
      msg[out++] = frame[in + i];
    }
    in += n;
    if (in < len && code != 0xffu) {
      if (out >= cap) {
        return HEG_FRAME_TOO_LARGE;
      }
      msg[out++] = 0u;
    }
  }
  if (out < HEG_FRAME_CRC_SIZE) {
    return HEG_FRAME_TOO_SHORT;
  }
  out -= HEG_FRAME_CRC_SIZE;
  want = 0;
  for (i = 0; i < HEG_FRAME_CRC_SIZE; ++i) {
    want |= (uint32_t)msg[out + i] << (8u * i);
  }
  crc = heg_frame_crc32(0u, msg, out);
  if (crc != want) {
    return HEG_FRAME_BAD_CRC;
  }
  *msg_len = out;
  return HEG_FRAME_OK;
}

void heg_frame_rx_reset(heg_frame_rx_t *rx) {
  if (rx != NULL) {
    rx->len = 0;
    rx->overflowed = HEG_HFALSE;
    rx->dropped = 0;
    rx->complete = HEG_HFALSE;
  }
}

heg_frame_rx_event_t heg_frame_rx_push(heg_frame_rx_t *rx, uint8_t byte) {
  if (rx->complete == HEG_HTRUE) {
    rx->complete = HEG_HFALSE;
    rx->len = 0;
  }
  if (byte == HEG_FRAME_DELIMITER) {
    if (rx->overflowed == HEG_HTRUE) {
      rx->overflowed = HEG_HFALSE;
      rx->len = 0;
      if (rx->dropped != 0xffffffffu) {
        rx->dropped++;
      }
      return HEG_FRAME_RX_DROPPED;
    }
    if (rx->len == 0u) {
      return HEG_FRAME_RX_PENDING;
    }
    rx->complete = HEG_HTRUE;
    return HEG_FRAME_RX_COMPLETE;
  }
  if (rx->overflowed == HEG_HTRUE) {
    return HEG_FRAME_RX_PENDING;
  }
  if (rx->len >= sizeof(rx->buf)) {
    rx->overflowed = HEG_HTRUE;
    return HEG_FRAME_RX_PENDING;
  }
  rx->buf[rx->len++] = byte;
  return HEG_FRAME_RX_PENDING;
}
