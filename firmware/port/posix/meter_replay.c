/* heg_meter_replay: drives the C meter model (port/common/heg_meter_sim) from
 * a text trace on stdin, so tests can replay the same traffic on the Python
 * MeterModel and compare. One command per line (numbers in hex or decimal):
 *   w ADDR VALUE STRB   bus write          r ADDR   bus read: prints the value
 *   s N0 .. N5          one clock edge     t LEVEL  tamper input level
 *   e                   prints the enable output (0 or 1)
 */
#include <stdio.h>
#include <stdlib.h>

#include "heg_meter_sim.h"

int main(void) {
  static heg_meter_sim_t m;
  char line[256];
  heg_meter_sim_reset(&m);
  while (fgets(line, sizeof(line), stdin) != NULL) {
    unsigned long a = 0, b = 0, c = 0;
    uint32_t ops[HEG_LANES];
    unsigned long o[HEG_LANES];
    unsigned i;
    switch (line[0]) {
      case 'w':
        if (sscanf(line + 1, "%li %li %li", (long *)&a, (long *)&b, (long *)&c) != 3) {
          return 2;
        }
        heg_meter_sim_write(&m, (uint32_t)a, (uint32_t)b, (uint32_t)c);
        break;
      case 'r':
        if (sscanf(line + 1, "%li", (long *)&a) != 1) {
          return 2;
        }
        printf("%lu\n", (unsigned long)heg_meter_sim_read(&m, (uint32_t)a));
        break;
      case 's':
        if (sscanf(line + 1, "%lu %lu %lu %lu %lu %lu", &o[0], &o[1], &o[2], &o[3], &o[4],
                   &o[5]) != 6) {
          return 2;
        }
        for (i = 0; i < HEG_LANES; ++i) {
          ops[i] = (uint32_t)o[i];
        }
        heg_meter_sim_step(&m, ops);
        break;
      case 't':
        heg_meter_sim_set_tamper(&m, atoi(line + 1));
        break;
      case 'e':
        printf("%d\n", heg_meter_sim_enable(&m));
        break;
      default:
        break;
    }
  }
  return 0;
}
