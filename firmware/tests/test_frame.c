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

/* A sink for heg_frame_encode_stream that collects into a bounded buffer. */
typedef struct {
  uint8_t buf[HEG_FRAME_MAX_ENCODED + 8u];
  size_t len;
  size_t overrun;
} collect_t;

static void collect_put(void *arg, uint8_t byte) {
  collect_t *c = (collect_t *)arg;
  if (c->len < sizeof(c->buf)) {
    c->buf[c->len++] = byte;
  } else {
    c->overrun++;
  }
}

/* The streaming encoder and the in-place decoder against the Python frames. */
static void test_stream_and_in_place(ctest_t *t) {
  static collect_t c;
  static uint8_t work[HEG_FRAME_MAX_ENCODED];
  size_t i;
  for (i = 0; i < sizeof(k_frame_vectors) / sizeof(k_frame_vectors[0]); ++i) {
    const heg_frame_vector_t *v = &k_frame_vectors[i];
    size_t n = 99u;
    heg_frame_status_t s;
    c.len = 0;
    c.overrun = 0;
    s = heg_frame_encode_stream(v->message, v->message_len, collect_put, &c);
    CHECK(t, s == HEG_FRAME_OK && c.overrun == 0u && c.len == v->frame_len &&
                 memcmp(c.buf, v->frame, c.len) == 0,
          "stream %s: status 0x%x, %zu bytes, want %zu", v->name, (unsigned)s, c.len,
          v->frame_len);
    memcpy(work, v->frame, v->frame_len - 1u);
    s = heg_frame_decode_in_place(work, v->frame_len - 1u, &n);
    CHECK(t, s == HEG_FRAME_OK && n == v->message_len && memcmp(work, v->message, n) == 0,
          "in place %s: status 0x%x", v->name, (unsigned)s);
  }
}

/* Messages rich in zeros and in runs around 254 bytes (the COBS edge cases,
 * including ones where the CRC starts or ends a block): the streaming and
 * buffer encoders agree, and both decoders give the message back. */
static void test_stream_edges(ctest_t *t) {
  static collect_t c;
  static uint8_t msg[HEG_FRAME_MAX_MESSAGE];
  static uint8_t frame[HEG_FRAME_MAX_ENCODED];
  static uint8_t back[HEG_FRAME_MAX_SIZE];
  static const size_t lens[] = {0u, 1u, 249u, 250u, 251u, 253u, 254u, 255u, 257u, 258u,
                                 507u, 508u, 509u, 1015u, 1016u, 1020u, 1024u};
  unsigned seed = 0x5eedu;
  size_t round;
  for (round = 0; round < (t->quick ? 60u : 600u); ++round) {
    size_t len = round < sizeof(lens) / sizeof(lens[0])
                     ? lens[round]
                     : ctest_rand(&seed) % (HEG_FRAME_MAX_MESSAGE + 1u);
    unsigned zero_every = 1u + ctest_rand(&seed) % 400u;
    size_t flen = 0;
    size_t n = 0;
    size_t k;
    heg_frame_status_t s1;
    heg_frame_status_t s2;
    heg_frame_status_t s3;
    for (k = 0; k < len; ++k) {
      msg[k] = (ctest_rand(&seed) % zero_every == 0u) ? 0u : (uint8_t)(ctest_rand(&seed) | 1u);
    }
    c.len = 0;
    c.overrun = 0;
    s1 = heg_frame_encode(msg, len, frame, sizeof(frame), &flen);
    s2 = heg_frame_encode_stream(msg, len, collect_put, &c);
    CHECK(t, s1 == HEG_FRAME_OK && s2 == HEG_FRAME_OK && c.overrun == 0u && c.len == flen &&
                 memcmp(c.buf, frame, flen) == 0 && memchr(frame, 0, flen - 1u) == NULL &&
                 frame[flen - 1u] == 0u,
          "stream = buffer, len %zu", len);
    s3 = heg_frame_decode(frame, flen - 1u, back, sizeof(back), &n);
    CHECK(t, s3 == HEG_FRAME_OK && n == len && memcmp(back, msg, len) == 0,
          "decode, len %zu", len);
    s3 = heg_frame_decode_in_place(frame, flen - 1u, &n);
    CHECK(t, s3 == HEG_FRAME_OK && n == len && memcmp(frame, msg, len) == 0,
          "decode in place, len %zu", len);
  }
}

/* Refusals: nothing is put; bad frames fail in place as they do copied. */
static void test_stream_refusals(ctest_t *t) {
  static collect_t c;
  static uint8_t big[HEG_FRAME_MAX_MESSAGE + 1u];
  static uint8_t frame[64];
  static uint8_t copy[64];
  static uint8_t msg[64];
  static const uint8_t hello[] = {0x01, 0x02, 0x00, 0x03};
  unsigned seed = 0xfaceu;
  size_t flen = 0;
  size_t n = 0;
  size_t i;
  c.len = 0;
  c.overrun = 0;
  CHECK(t, heg_frame_encode_stream(big, sizeof(big), collect_put, &c) == HEG_FRAME_TOO_LARGE &&
               c.len == 0u, "oversized message streamed");
  CHECK(t, heg_frame_encode_stream(NULL, 1u, collect_put, &c) == HEG_FRAME_BAD_ARGUMENT &&
               c.len == 0u, "NULL message streamed");
  CHECK(t, heg_frame_encode_stream(hello, sizeof(hello), NULL, &c) == HEG_FRAME_BAD_ARGUMENT,
        "NULL sink");
  CHECK(t, heg_frame_decode_in_place(NULL, 1u, &n) == HEG_FRAME_BAD_ARGUMENT, "NULL in place");
  CHECK(t, heg_frame_encode(hello, sizeof(hello), frame, sizeof(frame), &flen) == HEG_FRAME_OK,
        "encode hello");
  for (i = 0; i < (t->quick ? 300u : 3000u); ++i) {
    size_t len = 1u + ctest_rand(&seed) % (flen - 1u);
    size_t n1 = 0;
    size_t n2 = 0;
    heg_frame_status_t s1;
    heg_frame_status_t s2;
    memcpy(copy, frame, flen);
    copy[ctest_rand(&seed) % len] ^= (uint8_t)(1u + ctest_rand(&seed) % 255u);
    s1 = heg_frame_decode(copy, len, msg, sizeof(msg), &n1);
    s2 = heg_frame_decode_in_place(copy, len, &n2);
    CHECK(t, s1 == s2 && n1 == n2 && (s1 != HEG_FRAME_OK || memcmp(copy, msg, n1) == 0),
          "mangled frame %zu: 0x%x vs 0x%x in place", i, (unsigned)s1, (unsigned)s2);
  }
}

void test_frame(ctest_t *t) {
  test_crc(t);
  test_python_frames(t);
  test_bad_frames(t);
  test_receiver(t);
  test_stream_and_in_place(t);
  test_stream_edges(t);
  test_stream_refusals(t);
}
