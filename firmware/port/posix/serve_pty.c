/* heg_serve_pty: the firmware as a standalone device on a pseudo-terminal.
 *
 *   heg_serve_pty [--flash PATH] [--time UNIX_SECONDS] [--seed N]
 *
 * PATH is the flash image (NAME.flash); the one-time-programmable area is
 * kept beside it (NAME.otp), as the emulator keeps both.
 * Opens a pty, prints "PTY <path>" on stdout, and serves the framed protocol
 * (port/common/heg_frame.h, the same bytes as a board's UART) with the
 * firmware core: each frame is decoded, handed to heg_dispatch, answered,
 * then heg_poll runs. Between requests the meter model takes one idle clock
 * edge and heg_poll runs every POLL_MS. Frames that fail COBS or CRC are
 * dropped as line noise (the host times out). SIGTERM or SIGINT: orderly
 * shutdown (heg_shutdown settles the allowance), then exit 0.
 *
 * --time pins the clock and --seed the random source: only for repeatable
 * tests and benchmarks; a device key made with --seed is not secret.
 */
#define _XOPEN_SOURCE 600
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "hal_posix.h"
#include "heg/heg.h"
#include "heg_frame.h"

#define POLL_MS 20
#define SHUTDOWN_MAX_EDGES 8

/* The only global: a signal handler can reach nothing else. */
static volatile sig_atomic_t g_stop;

static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

static int write_all(int fd, const uint8_t *data, size_t len) {
  while (len > 0u) {
    ssize_t n = write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) {
        struct pollfd p;
        p.fd = fd;
        p.events = POLLOUT;
        (void)poll(&p, 1, POLL_MS);
        continue;
      }
      return -1;
    }
    data += n;
    len -= (size_t)n;
  }
  return 0;
}

typedef struct {
  heg_ctx_t *ctx;
  heg_hal_t *hal;
  uint8_t request[HEG_FRAME_MAX_SIZE];
  uint8_t response[HEG_MAX_MESSAGE_SIZE];
  uint8_t frame[HEG_FRAME_MAX_ENCODED];
  unsigned long dropped;
} server_t;

static void tick(server_t *s) {
  heg_meter_sim_step(&s->hal->meter, NULL);
  if (heg_poll(s->ctx) != HEG_STATUS_OK) {
    /* The firmware has closed the gate and logged why; keep answering. */
  }
}

static int answer(server_t *s, int fd, const uint8_t *frame, size_t frame_len) {
  size_t req_len = 0;
  size_t resp_len = 0;
  size_t out_len = 0;
  if (heg_frame_decode(frame, frame_len, s->request, sizeof(s->request), &req_len) !=
      HEG_FRAME_OK) {
    s->dropped++;
    return 0;
  }
  if (heg_dispatch(s->ctx, s->request, req_len, s->response, sizeof(s->response), &resp_len) !=
      HEG_STATUS_OK) {
    s->dropped++;
    return 0;
  }
  tick(s);
  if (heg_frame_encode(s->response, resp_len, s->frame, sizeof(s->frame), &out_len) !=
      HEG_FRAME_OK) {
    s->dropped++;
    return 0;
  }
  return write_all(fd, s->frame, out_len);
}

static int open_pty(int *master, int *slave, const char **path) {
  struct termios tio;
  *master = posix_openpt(O_RDWR | O_NOCTTY);
  if (*master < 0 || grantpt(*master) != 0 || unlockpt(*master) != 0) {
    return -1;
  }
  *path = ptsname(*master);
  if (*path == NULL) {
    return -1;
  }
  /* Holding the slave open keeps the master readable when the host closes
   * and reopens the port; raw mode stops the line discipline touching bytes. */
  *slave = open(*path, O_RDWR | O_NOCTTY);
  if (*slave < 0 || tcgetattr(*slave, &tio) != 0) {
    return -1;
  }
  /* cfmakeraw, spelled out (it is not POSIX). */
  tio.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
  tio.c_oflag &= ~(tcflag_t)OPOST;
  tio.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
  tio.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
  tio.c_cflag |= CS8;
  return tcsetattr(*slave, TCSANOW, &tio);
}

static void usage(void) {
  fprintf(stderr,
          "usage: heg_serve_pty [--flash PATH] [--time UNIX_SECONDS] [--seed N]\n"
          "                     [--uptime-permille N] [--reference-permille N]\n"
          "  the permille options run the board's clock (uptime) or the reference\n"
          "  oscillator at N/1000 of true time (default 1000), to test the clock monitor\n");
}

int main(int argc, char **argv) {
  static heg_hal_t hal;
  static heg_frame_rx_t rx;
  static server_t server;
  const char *flash_path = NULL;
  const char *pty_path = NULL;
  uint64_t fixed_time = 0;
  uint32_t seed = 0;
  uint32_t uptime_permille = 1000u;
  uint32_t reference_permille = 1000u;
  void *ctx_mem;
  int master = -1;
  int slave = -1;
  int i;
  heg_status_t status;
  struct sigaction sa;

  for (i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--flash") == 0 && i + 1 < argc) {
      flash_path = argv[++i];
    } else if (strcmp(argv[i], "--time") == 0 && i + 1 < argc) {
      fixed_time = strtoull(argv[++i], NULL, 10);
    } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
      seed = (uint32_t)strtoul(argv[++i], NULL, 10);
    } else if (strcmp(argv[i], "--uptime-permille") == 0 && i + 1 < argc) {
      uptime_permille = (uint32_t)strtoul(argv[++i], NULL, 10);
    } else if (strcmp(argv[i], "--reference-permille") == 0 && i + 1 < argc) {
      reference_permille = (uint32_t)strtoul(argv[++i], NULL, 10);
    } else {
      usage();
      return 2;
    }
  }
  if (heg_posix_hal_open(&hal, flash_path) != 0) {
    fprintf(stderr, "heg_serve_pty: cannot load flash image %s or its OTP file: %s\n",
            flash_path, strerror(errno));
    return 1;
  }
  hal.fixed_time = fixed_time;
  hal.fixed_random = seed;
  hal.uptime_permille = uptime_permille;
  hal.reference_permille = reference_permille;
  /* Context memory comes from the port, aligned for uint64_t. */
  ctx_mem = calloc(1, heg_ctx_size());
  if (ctx_mem == NULL) {
    fprintf(stderr, "heg_serve_pty: out of memory\n");
    return 1;
  }
  server.ctx = (heg_ctx_t *)ctx_mem;
  server.hal = &hal;
  status = heg_init(server.ctx, &hal);
  if (status != HEG_STATUS_OK) {
    fprintf(stderr, "heg_serve_pty: firmware did not boot (status 0x%04x)\n", (unsigned)status);
    return 1;
  }
  if (open_pty(&master, &slave, &pty_path) != 0) {
    fprintf(stderr, "heg_serve_pty: cannot open a pseudo-terminal: %s\n", strerror(errno));
    return 1;
  }
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  heg_frame_rx_reset(&rx);
  printf("PTY %s\n", pty_path);
  fflush(stdout);

  while (!g_stop) {
    uint8_t buf[4096];
    struct pollfd p;
    ssize_t n;
    ssize_t k;
    p.fd = master;
    p.events = POLLIN;
    if (poll(&p, 1, POLL_MS) <= 0 || !(p.revents & POLLIN)) {
      tick(&server);
      continue;
    }
    n = read(master, buf, sizeof(buf));
    if (n <= 0) {
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        continue;
      }
      break;
    }
    for (k = 0; k < n; ++k) {
      heg_frame_rx_event_t ev = heg_frame_rx_push(&rx, buf[k]);
      if (ev == HEG_FRAME_RX_COMPLETE) {
        if (answer(&server, master, rx.buf, rx.len) != 0) {
          g_stop = 1;
          break;
        }
      } else if (ev == HEG_FRAME_RX_DROPPED) {
        server.dropped++;
      }
    }
  }

  for (i = 0; i < SHUTDOWN_MAX_EDGES; ++i) {
    heg_hbool_t settled = HEG_HFALSE;
    if (heg_shutdown(server.ctx, &settled) != HEG_STATUS_OK || settled == HEG_HTRUE) {
      break;
    }
    heg_meter_sim_step(&hal.meter, NULL);
  }
  fprintf(stderr, "heg_serve_pty: stopped (%lu frames dropped)\n", server.dropped);
  close(slave);
  close(master);
  free(ctx_mem);
  return 0;
}
