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

/* The one COBS encoder, writing through a sink one byte at a time. Each
 * block's code byte is the length of the run of non-zero bytes that follows,
 * found by looking ahead in msg (at most 254 bytes), so nothing is written
 * back and no output buffer is needed. The input is msg || CRC-32(msg) (LE);
 * the CRC is accumulated block by block as the message goes out, and closed
 * over the rest of the message the first time a look-ahead reaches the CRC
 * bytes (those bytes belong to the block being started, so every message
 * byte goes through the CRC exactly once). Matches the Python cobs package:
 * a full 254-byte run carries no implicit zero and ends the frame if nothing
 * follows; a trailing zero is followed by an empty block (code 1). */
static void frame_stream(const uint8_t *msg, size_t len, heg_frame_put_fn put, void *arg) {
  const size_t total = len + HEG_FRAME_CRC_SIZE;
  uint8_t crc_le[HEG_FRAME_CRC_SIZE];
  uint32_t crc = 0u;
  uint32_t crc_closed = HEG_HFALSE; /* crc_le holds the whole message's CRC */
  size_t crc_done = 0;              /* msg[0..crc_done) is in crc */
  size_t pos = 0;
  size_t i;

  for (;;) {
    size_t run = 0;
    size_t end;
    for (;;) {
      size_t at = pos + run;
      uint8_t byte;
      if (run == 0xfeu || at >= total) {
        break;
      }
      if (at >= len && crc_closed != HEG_HTRUE) {
        crc = heg_frame_crc32(crc, msg + crc_done, len - crc_done);
        crc_done = len;
        crc_closed = HEG_HTRUE;
        for (i = 0; i < HEG_FRAME_CRC_SIZE; ++i) {
          crc_le[i] = (uint8_t)(crc >> (8u * i));
        }
      }
      byte = at < len ? msg[at] : crc_le[at - len];
      if (byte == 0u) {
        break;
      }
      ++run;
    }
    put(arg, (uint8_t)(run + 1u));
    for (i = 0; i < run; ++i) {
      size_t at = pos + i;
      put(arg, at < len ? msg[at] : crc_le[at - len]);
    }
    /* The run, and the zero that ends it if any, have gone out. */
    end = pos + run + (run < 0xfeu && pos + run < total ? 1u : 0u);
    if (crc_done < len && crc_done < end) {
      size_t upto = end < len ? end : len;
      crc = heg_frame_crc32(crc, msg + crc_done, upto - crc_done);
      crc_done = upto;
    }
    if (pos + run >= total) {
      break; /* the input ended inside this block (or exactly with a full one) */
    }
    pos = end; /* past the zero (none after a full run); a zero at the very end
                * leaves an empty block to go */
  }
  put(arg, HEG_FRAME_DELIMITER);
}

heg_frame_status_t heg_frame_encode_stream(const uint8_t *msg, size_t len, heg_frame_put_fn put,
                                           void *arg) {
  if ((msg == NULL && len != 0u) || put == NULL) {
    return HEG_FRAME_BAD_ARGUMENT;
  }
  if (len > HEG_FRAME_MAX_MESSAGE) {
    return HEG_FRAME_TOO_LARGE;
  }
  frame_stream(msg, len, put, arg);
  return HEG_FRAME_OK;
}

/* The buffer encoder's sink: bounded, remembers running out of room. */
typedef struct {
  uint8_t *out;
  size_t cap;
  size_t pos;
  uint32_t full; /* HEG_HTRUE when out ran out of room */
} buffer_sink_t;

static void buffer_put(void *arg, uint8_t byte) {
  buffer_sink_t *sink = (buffer_sink_t *)arg;
  if (sink->pos >= sink->cap) {
    sink->full = HEG_HTRUE;
    return;
  }
  sink->out[sink->pos++] = byte;
}

heg_frame_status_t heg_frame_encode(const uint8_t *msg, size_t len, uint8_t *out, size_t cap,
                                    size_t *out_len) {
  buffer_sink_t sink;
  heg_frame_status_t status;

  if (out_len == NULL) {
    return HEG_FRAME_BAD_ARGUMENT;
  }
  *out_len = 0;
  if (out == NULL) {
    return HEG_FRAME_BAD_ARGUMENT;
  }
  sink.out = out;
  sink.cap = cap;
  sink.pos = 0;
  sink.full = HEG_HFALSE;
  status = heg_frame_encode_stream(msg, len, buffer_put, &sink);
  if (status != HEG_FRAME_OK) {
    return status;
  }
  if (sink.full == HEG_HTRUE) {
    return HEG_FRAME_TOO_LARGE;
  }
  *out_len = sink.pos;
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

heg_frame_status_t heg_frame_decode_in_place(uint8_t *frame, size_t len, size_t *msg_len) {
  /* The decoder writes each byte at or behind the one it reads (a code byte
   * is read before the run it introduces, and stands in for the zero that run
   * ends with), so the frame's own bytes are room enough. */
  return heg_frame_decode(frame, len, frame, len, msg_len);
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
