/* The strict license parser on the golden vectors (tests/vectors/records.json),
 * each with the exact status the Python side names. */
#include <string.h>

#include "ctest.h"
#include "heg/heg.h"
#include "heg_test_vectors.h"

void test_records(ctest_t *t) {
  static heg_license_t parsed;
  static uint8_t buf[2048];
  size_t i;
  for (i = 0; i < sizeof(k_license_vectors) / sizeof(k_license_vectors[0]); ++i) {
    const heg_license_vector_t *v = &k_license_vectors[i];
    heg_status_t s;
    /* Parse from an exact-size heap-free copy so ASan/valgrind see overreads. */
    memcpy(buf, v->data, v->len);
    s = heg_license_parse(buf, v->len, &parsed);
    CHECK(t, s == v->status, "%s: status 0x%04x, want 0x%04x", v->name, (unsigned)s,
          (unsigned)v->status);
    if (v->status == HEG_STATUS_OK && v->len > 0u) {
      /* Every strict prefix is refused. */
      size_t cut;
      for (cut = 0; cut < v->len; cut += 7u) {
        s = heg_license_parse(buf, cut, &parsed);
        CHECK(t, s != HEG_STATUS_OK, "%s cut at %zu accepted", v->name, cut);
      }
    }
  }
  CHECK(t, heg_license_parse(NULL, 0u, &parsed) != HEG_STATUS_OK, "NULL license accepted");
}
