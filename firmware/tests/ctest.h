/* A minimal test harness for the C-only tests: no framework, one binary. */
#ifndef HEG_CTEST_H
#define HEG_CTEST_H

#include <stdio.h>

typedef struct {
  unsigned checks;
  unsigned failures;
  int quick; /* fewer random iterations (valgrind) */
} ctest_t;

#define CHECK(t, cond, ...)                                        \
  do {                                                             \
    (t)->checks++;                                                 \
    if (!(cond)) {                                                 \
      (t)->failures++;                                             \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                \
      fprintf(stderr, "\n");                                       \
    }                                                              \
  } while (0)

/* A repeatable pseudo-random sequence (xorshift32); *state must not be 0. */
static inline unsigned ctest_rand(unsigned *state) {
  unsigned x = *state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  *state = x;
  return x;
}

void test_frame(ctest_t *t);
void test_records(ctest_t *t);
void test_device(ctest_t *t);
void test_port_models(ctest_t *t);
void test_cbor(ctest_t *t);
void test_codec_arith(ctest_t *t);

#endif /* HEG_CTEST_H */
