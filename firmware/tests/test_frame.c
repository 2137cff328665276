/* Framing: byte-for-byte against frames made by host/openheg/framing.py. */
#include <string.h>

#include "ctest.h"
#include "heg_frame.h"
#include "heg_test_vectors.h"

static void test_crc(ctest_t *t) {
  static const uint8_t check[] = "123456789";
  uint32_t crc = heg_frame_crc32(0u, check, 9u);
  CHECK(t, crc == 0xcbf43926u, "CRC-32 check value 0x%08x", (unsigned)crc);
  crc = heg_frame_crc32(heg_frame_crc32(0u, check, 4u), check + 4, 5u);
  CHECK(t, crc == 0xcbf43926u, "CRC-32 continued 0x%08x", (unsigned)crc);
}

static void test_python_frames(ctest_t *t) {
  static uint8_t out[HEG_FRAME_MAX_ENCODED];
  static uint8_t msg[HEG_FRAME_MAX_SIZE];
  size_t i;
  for (i = 0; i < sizeof(k_frame_vectors) / sizeof(k_frame_vectors[0]); ++i) {
    const heg_frame_vector_t *v = &k_frame_vectors[i];
    size_t n = 0;
    heg_frame_status_t s = heg_frame_encode(v->message, v->message_len, out, sizeof(out), &n);
    CHECK(t, s == HEG_FRAME_OK && n == v->frame_len && memcmp(out, v->frame, n) == 0,
          "encode %s: status 0x%x, %zu bytes, want %zu", v->name, (unsigned)s, n, v->frame_len);
    s = heg_frame_decode(v->frame, v->frame_len - 1u, msg, sizeof(msg), &n);
    CHECK(t, s == HEG_FRAME_OK && n == v->message_len && memcmp(msg, v->message, n) == 0,
          "decode %s: status 0x%x", v->name, (unsigned)s);
    /* Exact-size buffers suffice; one byte less does not. */
    s = heg_frame_encode(v->message, v->message_len, out, v->frame_len, &n);
    CHECK(t, s == HEG_FRAME_OK, "encode %s into exact cap", v->name);
    s = heg_frame_encode(v->message, v->message_len, out, v->frame_len - 1u, &n);
    CHECK(t, s == HEG_FRAME_TOO_LARGE && n == 0u, "encode %s into short cap", v->name);
    if (v->message_len > 0u) {
      s = heg_frame_decode(v->frame, v->frame_len - 1u, msg, v->message_len + 3u, &n);
      CHECK(t, s == HEG_FRAME_TOO_LARGE && n == 0u, "decode %s into short cap", v->name);
    }
  }
}

static void test_bad_frames(ctest_t *t) {
  static uint8_t frame[HEG_FRAME_MAX_ENCODED + 8u];
  static uint8_t msg[HEG_FRAME_MAX_SIZE + 8u];
  static const uint8_t hello[] = {0x01, 0x02, 0x00, 0x03};
  size_t flen = 0;
  size_t n = 0;
  size_t i;
  unsigned seed = 0x1234567u;

  CHECK(t, heg_frame_encode(hello, sizeof(hello), frame, sizeof(frame), &flen) == HEG_FRAME_OK,
        "encode hello");
  flen--; /* drop the delimiter */
  CHECK(t, heg_frame_decode(frame, 0u, msg, sizeof(msg), &n) == HEG_FRAME_TOO_SHORT, "empty");
  CHECK(t, heg_frame_decode(frame, flen - 1u, msg, sizeof(msg), &n) != HEG_FRAME_OK,
        "truncated");
  frame[1] = 0x00;
  CHECK(t, heg_frame_decode(frame, flen, msg, sizeof(msg), &n) == HEG_FRAME_BAD_COBS,
        "zero inside");
  CHECK(t, heg_frame_decode(NULL, 1u, msg, sizeof(msg), &n) == HEG_FRAME_BAD_ARGUMENT, "NULL");
  memset(frame, 0x01, sizeof(frame));
  CHECK(t, heg_frame_decode(frame, HEG_FRAME_MAX_SIZE + 1u, msg, sizeof(msg), &n) ==
               HEG_FRAME_TOO_LARGE, "oversized frame");
  CHECK(t, heg_frame_encode(frame, HEG_FRAME_MAX_MESSAGE + 1u, msg, sizeof(msg), &n) ==
               HEG_FRAME_TOO_LARGE, "oversized message");
  /* Single bit flips in the payload bytes are caught by the CRC. */
  CHECK(t, heg_frame_encode(hello, sizeof(hello), frame, sizeof(frame), &flen) == HEG_FRAME_OK,
        "encode hello");
  for (i = 0; i < 8u; ++i) {
    frame[1] ^= (uint8_t)(1u << i);
    if (frame[1] != 0u) {
      CHECK(t, heg_frame_decode(frame, flen - 1u, msg, sizeof(msg), &n) != HEG_FRAME_OK,
            "bit flip %zu accepted", i);
    }
    frame[1] ^= (uint8_t)(1u << i);
  }
  /* Garbage never overruns and never yields more than cap. */
  for (i = 0; i < (t->quick ? 200u : 5000u); ++i) {
    size_t len = ctest_rand(&seed) % 64u;
    size_t k;
    heg_frame_status_t s;
    for (k = 0; k < len; ++k) {
      frame[k] = (uint8_t)(ctest_rand(&seed) | 1u);
    }
    s = heg_frame_decode(frame, len, msg, 16u, &n);
    CHECK(t, n <= 16u && (s == HEG_FRAME_OK || n == 0u),
          "garbage %zu", i);
  }
}

static void test_receiver(ctest_t *t) {
  static heg_frame_rx_t rx;
  static uint8_t stream[4096];
  static uint8_t msg[HEG_FRAME_MAX_SIZE];
  size_t len = 0;
  size_t n;
  size_t i;
  unsigned got = 0;
  unsigned dropped = 0;
  size_t v;

  /* noise, delimiter, three frames (one empty message), an oversized run,
   * a frame: every valid frame comes out, the oversized run is dropped. */
  stream[len++] = 0x55;
  stream[len++] = 0x00;
  for (v = 0; v < 3u; ++v) {
    const heg_frame_vector_t *fv = &k_frame_vectors[v];
    memcpy(stream + len, fv->frame, fv->frame_len);
    len += fv->frame_len;
  }
  memset(stream + len, 0x07, HEG_FRAME_MAX_SIZE + 10u);
  len += HEG_FRAME_MAX_SIZE + 10u;
  stream[len++] = 0x00;
  memcpy(stream + len, k_frame_vectors[4].frame, k_frame_vectors[4].frame_len);
  len += k_frame_vectors[4].frame_len;

  heg_frame_rx_reset(&rx);
  for (i = 0; i < len; ++i) {
    heg_frame_rx_event_t ev = heg_frame_rx_push(&rx, stream[i]);
    if (ev == HEG_FRAME_RX_COMPLETE) {
      if (heg_frame_decode(rx.buf, rx.len, msg, sizeof(msg), &n) == HEG_FRAME_OK) {
        got++;
      }
    } else if (ev == HEG_FRAME_RX_DROPPED) {
      dropped++;
    }
  }
  CHECK(t, got == 4u, "frames received %u", got);
  CHECK(t, dropped == 1u && rx.dropped == 1u, "frames dropped %u", dropped);
}

void test_frame(ctest_t *t) {
  test_crc(t);
  test_python_frames(t);
  test_bad_frames(t);
  test_receiver(t);
}
