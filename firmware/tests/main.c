/* heg_ctest: the firmware's C-only tests (framing, records, the CBOR
 * writer, 64- and 128-bit arithmetic, dispatch, port models). Runs plain,
 * under ASan+UBSan and under valgrind; exit status 0 only if every check
 * passed.   usage: heg_ctest [--quick] */
#include <string.h>

#include "ctest.h"

int main(int argc, char **argv) {
  ctest_t t = {0u, 0u, 0};
  if (argc > 1 && strcmp(argv[1], "--quick") == 0) {
    t.quick = 1;
  }
  test_frame(&t);
  test_records(&t);
  test_cbor(&t);
  test_codec_arith(&t);
  test_port_models(&t);
  test_device(&t);
  printf("heg_ctest: %u checks, %u failed\n", t.checks, t.failures);
  return t.failures == 0u ? 0 : 1;
}
