/* Host driver: run one benchmark operation (argv[1] = mode) so that
 * callgrind --toggle-collect=heg_bench_run counts exactly it. */
#include <stdio.h>
#include <stdlib.h>

#include "bench_ops.h"

int main(int argc, char **argv) {
  uint32_t mode = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 0u;
  if (heg_bench_setup() != 0 || heg_bench_run(mode) != 0) {
    fprintf(stderr, "bench: operation %u failed\n", (unsigned)mode);
    return 1;
  }
  return 0;
}
