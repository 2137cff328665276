// The openheg SoC under Verilator, for long runs: the RTL (hdl/soc/heg_soc.v,
// the PicoRV32 executing every instruction of the firmware image) with
//   - its UART bridged, bit by bit, to a pseudo-terminal: a host reaches the
//     device with pyserial on that path exactly as on a board's USB serial port
//     (the harness honours the UART's RTS, as a host with flow control does);
//   - an SPI NOR flash model (W25Q-class commands, erase before write: a program
//     can only clear bits) over a file, so state survives runs, with a power cut
//     injectable in the middle of any program or erase;
//   - the OTP fuses kept in a file across power cuts and runs;
//   - an accelerator on the meter's lanes that issues ops only while the SoC's
//     enable output is high, driven by commands on stdin.
//
// usage: heg_soc_sim --rom IMAGE.hex --flash FILE [--otp FILE] [--stack BOTTOM:TOP]
//                    [--console] [--max-cycles N] [--cut N]
// Prints "PTY /dev/pts/N" once serving (unless --console: then the UART's output
// goes to stdout as text, for the benchmark and self-test images, until a line
// ending in "done"). --cut N arms a power cut at the N-th flash program or erase
// from power-up (as the "cut" command does later). Commands, one per line on
// stdin, each answered by one line on stdout:
//   run LANE PER_CYCLE MAX_OPS CLOSED_CYCLES
//                                issue PER_CYCLE ops a cycle on LANE while the gate
//                                is open, until MAX_OPS are issued or the gate has
//                                stayed closed for CLOSED_CYCLES cycles in a row
//                                -> "ran ISSUED ENABLE"
//   tamper                       a tamper pulse of half a clock period -> "tampered"
//   cut N                        cut power in the middle of the N-th flash program or
//                                erase from now, then power up again -> "armed N";
//                                when it happens, "power-cut OP OFFSET" is printed
//   stats                        -> "stats cycles=C enable=E stack_used=S flash_ops=F
//                                   resets=R wall_s=W"
//   quit                         flush the files and exit 0 -> "bye"
// Exit status: 0 on quit or end of stdin, 1 on bad arguments or files.

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "Vheg_soc.h"
#include "Vheg_soc___024root.h"
#include "verilated.h"

namespace {

// The harness's view of the SoC's build parameters (tools/soc/build_sim.py
// passes the same numbers to Verilator with -G and here with -D).
constexpr uint32_t kUartDivisor = HEG_SIM_UART_DIVISOR;
// clk_i and refclk_i (tools/soc/build_sim.py passes both to heg_soc).
constexpr uint64_t kClkHz = HEG_SIM_CLK_HZ;
constexpr uint64_t kRefHz = HEG_SIM_REF_HZ;
constexpr uint32_t kRomWords = HEG_SIM_ROM_BYTES / 4;
constexpr uint32_t kRamBase = 0x10000000u;
constexpr uint32_t kRamWords = 8192 / 4;
constexpr uint32_t kStackPaint = 0xdeadbeefu;
constexpr int kLanes = 6;
constexpr int kCountBits = 16;

// Flash: 4 MiB part; busy times shortened from a real part's (ms) to keep runs fast.
constexpr uint32_t kFlashBytes = 4u << 20;
constexpr uint32_t kFlashPage = 256;
constexpr uint32_t kFlashSector = 4096;
constexpr uint64_t kProgramBusyCycles = 2000;
constexpr uint64_t kEraseBusyCycles = 20000;
// The pty and stdin are looked at this often (a syscall every cycle would
// dominate the run): a fraction of a byte's time on the line.
constexpr uint64_t kIoPollCycles = kUartDivisor * 4;

bool fail(const std::string &message) {
  std::fprintf(stderr, "heg_soc_sim: %s\n", message.c_str());
  return false;
}

// ---------------------------------------------------------------------------
// SPI NOR flash, mode 0, over a memory-mapped file.
class NorFlash {
 public:
  bool open(const std::string &path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT, 0644);
    if (fd_ < 0) return fail("cannot open flash file " + path);
    struct stat st;
    if (fstat(fd_, &st) != 0) return fail("cannot stat " + path);
    bool fresh = st.st_size == 0;
    if (st.st_size != 0 && st.st_size != kFlashBytes) {
      return fail(path + " is not a 4 MiB flash image");
    }
    if (ftruncate(fd_, kFlashBytes) != 0) return fail("cannot size " + path);
    void *map = mmap(nullptr, kFlashBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (map == MAP_FAILED) return fail("cannot map " + path);
    mem_ = static_cast<uint8_t *>(map);
    if (fresh) std::memset(mem_, 0xff, kFlashBytes);
    return true;
  }

  void close() {
    if (mem_ != nullptr) {
      msync(mem_, kFlashBytes, MS_SYNC);
      munmap(mem_, kFlashBytes);
      mem_ = nullptr;
    }
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // Power lost: the bus state goes; the array keeps what was done.
  void power_off() {
    selected_ = false;
    busy_until_ = 0;
    pending_ = Op::kNone;
    wel_ = false;
  }

  // One clock of the SoC: the pins as the RTL drives them after the edge.
  // Returns MISO.
  int step(uint64_t cycle, int cs_n, int sck, int mosi) {
    if (pending_ != Op::kNone && cycle >= busy_until_) {
      apply(op_length());
      pending_ = Op::kNone;
    }
    if (cs_n) {
      if (selected_) end_command(cycle);
      selected_ = false;
      last_sck_ = sck;
      return 1;
    }
    if (!selected_) {
      selected_ = true;
      bits_ = 0;
      in_ = 0;
      bytes_ = 0;
      command_ = 0;
      address_ = 0;
      out_ = 0xff;
      miso_ = 1;
      data_.clear();
    }
    if (sck && !last_sck_) {  // rising: sample MOSI
      in_ = static_cast<uint8_t>((in_ << 1) | (mosi & 1));
      if (++bits_ == 8) {
        bits_ = 0;
        byte_in(cycle, in_);
      }
    } else if (!sck && last_sck_) {  // falling: next bit out
      miso_ = (out_ >> 7) & 1;
      out_ = static_cast<uint8_t>(out_ << 1);
      if (bits_ == 0) {
        reload_out(cycle);
        miso_ = (out_ >> 7) & 1;
        out_ = static_cast<uint8_t>(out_ << 1);
      }
    }
    last_sck_ = sck;
    return miso_;
  }

  uint64_t operations() const { return operations_; }
  // Busy cycles of the operation in progress (0: none).
  uint64_t pending_total() const {
    return pending_ == Op::kNone ? 0 : (pending_ == Op::kErase ? kEraseBusyCycles : kProgramBusyCycles);
  }
  bool busy(uint64_t cycle) const { return pending_ != Op::kNone && cycle < busy_until_; }

  // Power cut in the middle of the operation in progress: the part has done a
  // part of it (a prefix of the bytes). Returns a description.
  std::string cut_now(uint64_t cycle) {
    std::ostringstream what;
    if (pending_ == Op::kNone) return "idle";
    uint64_t total = pending_ == Op::kErase ? kEraseBusyCycles : kProgramBusyCycles;
    uint64_t left = busy_until_ > cycle ? busy_until_ - cycle : 0;
    size_t done = static_cast<size_t>(op_length() * (total - left) / total);
    apply(done);
    what << (pending_ == Op::kErase ? "erase" : "program") << " " << op_address_ << " done="
         << done << "/" << op_length();
    pending_ = Op::kNone;
    return what.str();
  }

 private:
  enum class Op { kNone, kProgram, kErase };

  size_t op_length() const { return pending_ == Op::kErase ? kFlashSector : program_.size(); }

  // The first n bytes of the pending operation take effect.
  void apply(size_t n) {
    if (pending_ == Op::kErase) {
      std::memset(mem_ + op_address_, 0xff, n);
    } else if (pending_ == Op::kProgram) {
      for (size_t i = 0; i < n && i < program_.size(); ++i) {
        uint32_t page = op_address_ & ~(kFlashPage - 1);
        uint32_t at = page + ((op_address_ + i) & (kFlashPage - 1));
        mem_[at] &= program_[i];  // NOR: programming only clears bits
      }
    }
  }

  void byte_in(uint64_t cycle, uint8_t byte) {
    if (bytes_ == 0) {
      command_ = byte;
      if (command_ == 0x06 && !busy(cycle)) wel_ = true;
      if (command_ == 0x04 && !busy(cycle)) wel_ = false;
    } else if (bytes_ <= 3 && (command_ == 0x03 || command_ == 0x02 || command_ == 0x20)) {
      address_ = ((address_ << 8) | byte) & (kFlashBytes - 1);
    } else if (command_ == 0x02) {
      data_.push_back(byte);
    }
    ++bytes_;
  }

  // The byte to shift out next (after bytes_ bytes of the command).
  void reload_out(uint64_t cycle) {
    if (command_ == 0x05) {
      out_ = static_cast<uint8_t>((busy(cycle) ? 1 : 0) | (wel_ ? 2 : 0));
    } else if (command_ == 0x03 && bytes_ >= 4 && !busy(cycle)) {
      out_ = mem_[address_];
      address_ = (address_ + 1) & (kFlashBytes - 1);
    } else if (command_ == 0x9f) {
      static const uint8_t kJedec[3] = {0xef, 0x40, 0x16};
      out_ = bytes_ >= 1 && bytes_ <= 3 ? kJedec[bytes_ - 1] : 0xff;
    } else {
      out_ = 0xff;
    }
  }

  void end_command(uint64_t cycle) {
    if (busy(cycle) || !wel_) return;  // a real part ignores these while busy or not enabled
    if (command_ == 0x02 && bytes_ > 4) {
      pending_ = Op::kProgram;
      op_address_ = address_;
      program_.assign(data_.end() - std::min<size_t>(data_.size(), kFlashPage), data_.end());
      busy_until_ = cycle + kProgramBusyCycles;
    } else if (command_ == 0x20 && bytes_ == 4) {
      pending_ = Op::kErase;
      op_address_ = address_ & ~(kFlashSector - 1);
      busy_until_ = cycle + kEraseBusyCycles;
    } else {
      return;
    }
    wel_ = false;
    ++operations_;
  }

  int fd_ = -1;
  uint8_t *mem_ = nullptr;
  bool selected_ = false;
  bool wel_ = false;
  int last_sck_ = 0;
  int bits_ = 0;
  int miso_ = 1;
  uint8_t in_ = 0;
  uint8_t out_ = 0xff;
  uint32_t bytes_ = 0;
  uint8_t command_ = 0;
  uint32_t address_ = 0;
  std::vector<uint8_t> data_;
  Op pending_ = Op::kNone;
  uint32_t op_address_ = 0;
  std::vector<uint8_t> program_;
  uint64_t busy_until_ = 0;
  uint64_t operations_ = 0;
};

// ---------------------------------------------------------------------------
// The serial line at bit level, both directions.
class UartLine {
 public:
  // Returns the level to drive on the SoC's RX pin this cycle.
  int rx_level() const { return rx_level_; }

  void step(int tx, int rts_n, std::deque<uint8_t> &to_soc, std::string &from_soc) {
    // SoC -> host
    if (tx_state_ == 0) {
      if (!tx) {
        tx_state_ = 1;
        tx_tick_ = kUartDivisor + kUartDivisor / 2;  // to the middle of data bit 0
        tx_byte_ = 0;
      }
    } else if (--tx_tick_ == 0) {
      if (tx_state_ <= 8) {
        tx_byte_ |= static_cast<uint8_t>((tx & 1) << (tx_state_ - 1));
        tx_tick_ = kUartDivisor;
        ++tx_state_;
      } else {
        from_soc.push_back(static_cast<char>(tx_byte_));
        tx_state_ = 0;  // stop bit: back to waiting for a start bit
      }
    }
    // host -> SoC
    if (rx_bit_ == 0) {
      if (!to_soc.empty() && !rts_n) {
        rx_shift_ = 0x200u | (static_cast<uint32_t>(to_soc.front()) << 1);  // stop, data, start
        to_soc.pop_front();
        rx_bit_ = 10;
        rx_tick_ = kUartDivisor;
        rx_level_ = rx_shift_ & 1;
      }
    } else if (--rx_tick_ == 0) {
      rx_shift_ >>= 1;
      if (--rx_bit_ == 0) {
        rx_level_ = 1;
      } else {
        rx_level_ = rx_shift_ & 1;
        rx_tick_ = kUartDivisor;
      }
    }
  }

  void power_off() {
    tx_state_ = 0;
    rx_bit_ = 0;
    rx_level_ = 1;
  }

 private:
  int tx_state_ = 0;
  uint32_t tx_tick_ = 0;
  uint8_t tx_byte_ = 0;
  int rx_bit_ = 0;
  uint32_t rx_tick_ = 0;
  uint32_t rx_shift_ = 0;
  int rx_level_ = 1;
};

// ---------------------------------------------------------------------------
struct Options {
  std::string rom;
  std::string flash;
  std::string otp;
  uint32_t stack_bottom = 0;
  uint32_t stack_top = 0;
  bool console = false;
  uint64_t max_cycles = 0;
  int cut_at = 0;
};

bool parse(int argc, char **argv, Options &opt) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::string &out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    std::string text;
    if (arg == "--rom") {
      if (!value(opt.rom)) return fail("--rom needs a file");
    } else if (arg == "--flash") {
      if (!value(opt.flash)) return fail("--flash needs a file");
    } else if (arg == "--otp") {
      if (!value(opt.otp)) return fail("--otp needs a file");
    } else if (arg == "--stack") {
      if (!value(text) || std::sscanf(text.c_str(), "%x:%x", &opt.stack_bottom,
                                      &opt.stack_top) != 2) {
        return fail("--stack needs BOTTOM:TOP in hex");
      }
    } else if (arg == "--console") {
      opt.console = true;
    } else if (arg == "--max-cycles") {
      if (!value(text)) return fail("--max-cycles needs a number");
      opt.max_cycles = std::strtoull(text.c_str(), nullptr, 10);
    } else if (arg == "--cut") {
      if (!value(text) || (opt.cut_at = std::atoi(text.c_str())) <= 0) {
        return fail("--cut needs N >= 1");
      }
    } else if (arg.rfind("+verilator", 0) == 0) {
      // Verilator's own options pass through.
    } else {
      return fail("unknown argument " + arg + " (see the header of heg_soc_sim.cpp)");
    }
  }
  if (opt.rom.empty() || opt.flash.empty()) return fail("--rom and --flash are required");
  return true;
}

bool load_hex(const std::string &path, std::vector<uint32_t> &words) {
  std::ifstream in(path);
  if (!in) return fail("cannot read " + path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    words.push_back(static_cast<uint32_t>(std::strtoul(line.c_str(), nullptr, 16)));
  }
  if (words.size() > kRomWords) return fail(path + " is larger than the ROM");
  return true;
}

// OTP file: 1 byte programmed flag, then the fuse words little-endian.
constexpr size_t kOtpWords = 32;

class Soc {
 public:
  Soc(const Options &opt, const std::vector<uint32_t> &rom) : opt_(opt), rom_(rom) {}

  void power_on() {
    model_ = std::make_unique<Vheg_soc>(&context_);
    model_->rst_ni = 0;
    model_->uart_rx_i = 1;
    model_->spi_miso_i = 1;
    model_->tamper_i = 0;
    model_->op_valid_i = 0;
    for (int w = 0; w < 3; ++w) model_->op_count_i[w] = 0;
    model_->m_axis_tready_i = 1;
    model_->s_axis_tvalid_i = 0;
    model_->clk_i = 0;
    model_->refclk_i = 0;
    model_->eval();
    // After the first eval: it runs the initial blocks (the fuses as shipped),
    // which would overwrite what was loaded before it.
    auto *r = model_->rootp;
    for (size_t i = 0; i < rom_.size(); ++i) r->heg_soc__DOT__u_rom__DOT__mem_q[i] = rom_[i];
    load_otp();
    for (int i = 0; i < 4; ++i) tick();
    model_->rst_ni = 1;
  }

  void power_off() {
    save_otp();
    model_.reset();
    ++power_cycles_;
  }

  // One clock period: rising edge, then the harness's devices answer. The
  // reference oscillator (refclk_i) runs at its own rate, kRefHz against
  // kClkHz, its edges placed between clk_i's by a phase accumulator.
  void tick() {
    model_->clk_i = 1;
    model_->eval();
    model_->clk_i = 0;
    model_->eval();
    ref_phase_ += 2 * kRefHz;
    if (ref_phase_ >= kClkHz) {
      ref_phase_ -= kClkHz;
      model_->refclk_i = !model_->refclk_i;
      model_->eval();
    }
    ++cycle_;
  }

  Vheg_soc &pins() { return *model_; }
  uint64_t cycle() const { return cycle_; }
  uint64_t power_cycles() const { return power_cycles_; }

  uint32_t stack_used() const {
    if (opt_.stack_top <= opt_.stack_bottom) return 0;
    auto *r = model_->rootp;
    uint32_t addr = opt_.stack_bottom;
    while (addr < opt_.stack_top &&
           r->heg_soc__DOT__u_ram__DOT__mem_q[(addr - kRamBase) / 4 % kRamWords] == kStackPaint) {
      addr += 4;
    }
    return opt_.stack_top - addr;
  }

  void pulse_tamper() {
    // High and low again between two clock edges: the latch must catch it.
    model_->tamper_i = 1;
    model_->eval();
    model_->tamper_i = 0;
    model_->eval();
  }

  void save_otp() {
    if (opt_.otp.empty() || !model_) return;
    auto *r = model_->rootp;
    std::vector<uint8_t> bytes(1 + 4 * kOtpWords);
    bytes[0] = r->heg_soc__DOT__u_otp__DOT__programmed_q ? 1 : 0;
    for (size_t i = 0; i < kOtpWords; ++i) {
      uint32_t w = r->heg_soc__DOT__u_otp__DOT__fuse_q[i];
      std::memcpy(&bytes[1 + 4 * i], &w, 4);
    }
    std::ofstream out(opt_.otp, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char *>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }

  bool otp_programmed() const { return model_->rootp->heg_soc__DOT__u_otp__DOT__programmed_q; }

 private:
  void load_otp() {
    if (opt_.otp.empty()) return;
    std::ifstream in(opt_.otp, std::ios::binary);
    std::vector<uint8_t> bytes(1 + 4 * kOtpWords);
    if (!in.read(reinterpret_cast<char *>(bytes.data()), static_cast<std::streamsize>(bytes.size()))) {
      return;  // no file yet: fuses as shipped (all ones, unprogrammed)
    }
    auto *r = model_->rootp;
    r->heg_soc__DOT__u_otp__DOT__programmed_q = bytes[0] & 1;
    for (size_t i = 0; i < kOtpWords; ++i) {
      uint32_t w;
      std::memcpy(&w, &bytes[1 + 4 * i], 4);
      r->heg_soc__DOT__u_otp__DOT__fuse_q[i] = w;
    }
  }

  const Options &opt_;
  const std::vector<uint32_t> &rom_;
  VerilatedContext context_;
  std::unique_ptr<Vheg_soc> model_;
  uint64_t cycle_ = 0;
  uint64_t ref_phase_ = 0; // of refclk_i, in units of 1/kClkHz half periods
  uint64_t power_cycles_ = 0;
};

int open_pty(std::string &name) {
  int fd = posix_openpt(O_RDWR | O_NOCTTY);
  if (fd < 0 || grantpt(fd) != 0 || unlockpt(fd) != 0) return -1;
  struct termios t;
  tcgetattr(fd, &t);
  cfmakeraw(&t);
  tcsetattr(fd, TCSANOW, &t);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  name = ptsname(fd);
  // Hold the device side open so the line stays up between host sessions.
  int hold = open(name.c_str(), O_RDWR | O_NOCTTY);
  if (hold >= 0) {
    tcgetattr(hold, &t);
    cfmakeraw(&t);
    tcsetattr(hold, TCSANOW, &t);
  }
  return fd;
}

struct Workload {
  bool active = false;
  int lane = 0;
  uint32_t per_cycle = 0;
  uint64_t remaining = 0;
  uint64_t issued = 0;
  uint64_t closed_for = 0;
  uint64_t closed_limit = 0;
};

void set_lane(Vheg_soc &pins, const Workload &w, bool issue) {
  pins.op_valid_i = issue ? (1u << w.lane) : 0u;
  for (int i = 0; i < 3; ++i) pins.op_count_i[i] = 0;
  if (issue) {
    int bit = w.lane * kCountBits;
    pins.op_count_i[bit / 32] |= (w.per_cycle & 0xffffu) << (bit % 32);
  }
}

}  // namespace

int main(int argc, char **argv) {
  Options opt;
  if (!parse(argc, argv, opt)) return 1;
  std::vector<uint32_t> rom;
  if (!load_hex(opt.rom, rom)) return 1;
  NorFlash flash;
  if (!flash.open(opt.flash)) return 1;

  std::string pty_name;
  int pty = -1;
  if (!opt.console) {
    pty = open_pty(pty_name);
    if (pty < 0) {
      fail("cannot open a pseudo-terminal");
      return 1;
    }
  }
  fcntl(STDIN_FILENO, F_SETFL, fcntl(STDIN_FILENO, F_GETFL) | O_NONBLOCK);

  Soc soc(opt, rom);
  soc.power_on();
  UartLine line;
  std::deque<uint8_t> to_soc;
  std::string from_soc;
  std::string command_buffer;
  std::string console_tail;  // the last bytes of console output, to see "bench done"
  Workload work;
  int cut_countdown = opt.cut_at;  // >0: cut in the middle of the N-th flash operation from now
  uint64_t ops_at_arm = 0;
  bool otp_saved = false;
  bool stdin_open = true;
  auto started = std::chrono::steady_clock::now();

  if (!opt.console) {
    std::printf("PTY %s\n", pty_name.c_str());
    std::fflush(stdout);
  }

  for (;;) {
    Vheg_soc &pins = soc.pins();
    bool enabled = pins.accel_enable_o;
    bool issue = work.active && enabled;
    set_lane(pins, work, issue);
    line.step(pins.uart_tx_o, pins.uart_rts_no, to_soc, from_soc);
    pins.uart_rx_i = static_cast<uint8_t>(line.rx_level());
    soc.tick();
    pins.spi_miso_i =
        static_cast<uint8_t>(flash.step(soc.cycle(), pins.spi_cs_no, pins.spi_sck_o, pins.spi_mosi_o));
    if (work.active) {
      if (issue) {
        work.issued += work.per_cycle;
        work.remaining = work.remaining > work.per_cycle ? work.remaining - work.per_cycle : 0;
        work.closed_for = 0;
      } else {
        ++work.closed_for;
      }
      if (work.remaining == 0 || work.closed_for >= work.closed_limit) {
        work.active = false;
        set_lane(pins, work, false);
        std::printf("ran %llu %d\n", static_cast<unsigned long long>(work.issued),
                    pins.accel_enable_o ? 1 : 0);
        std::fflush(stdout);
      }
    }
    if (!otp_saved && soc.otp_programmed()) {
      soc.save_otp();  // a burnt fuse outlives any power cut from here on
      otp_saved = true;
    }
    if (cut_countdown > 0 && flash.operations() >= ops_at_arm + static_cast<uint64_t>(cut_countdown) &&
        flash.busy(soc.cycle())) {
      // Let the operation run half its time, then cut.
      uint64_t half = flash.pending_total() / 2;
      for (uint64_t i = 0; i < half && flash.busy(soc.cycle()); ++i) {
        soc.tick();
        pins.spi_miso_i = static_cast<uint8_t>(
            flash.step(soc.cycle(), pins.spi_cs_no, pins.spi_sck_o, pins.spi_mosi_o));
      }
      std::string what = flash.cut_now(soc.cycle());
      flash.power_off();
      line.power_off();
      to_soc.clear();
      work.active = false;
      soc.power_off();
      soc.power_on();
      otp_saved = false;
      cut_countdown = 0;
      std::printf("power-cut %s\n", what.c_str());
      std::fflush(stdout);
      continue;
    }
    if (opt.max_cycles != 0 && soc.cycle() >= opt.max_cycles) {
      std::printf("max-cycles %llu\n", static_cast<unsigned long long>(soc.cycle()));
      break;
    }
    if (soc.cycle() % kIoPollCycles != 0) continue;

    // ---- I/O: the UART's bytes, the pty, the command channel --------------
    if (!from_soc.empty()) {
      if (opt.console) {
        std::fwrite(from_soc.data(), 1, from_soc.size(), stdout);
        std::fflush(stdout);
        console_tail = (console_tail + from_soc).substr(
            console_tail.size() + from_soc.size() > 16 ? console_tail.size() + from_soc.size() - 16 : 0);
        if (console_tail.size() >= 5 && console_tail.compare(console_tail.size() - 5, 5, "done\n") == 0) {
          break;
        }
      } else {
        ssize_t n = write(pty, from_soc.data(), from_soc.size());
        (void)n;  // a host that is not listening loses the bytes, as on a real line
      }
      from_soc.clear();
    }
    if (pty >= 0 && to_soc.size() < 64) {
      uint8_t buf[256];
      ssize_t n = read(pty, buf, sizeof(buf));
      for (ssize_t i = 0; i < n; ++i) to_soc.push_back(buf[i]);
    }
    if (!stdin_open) continue;
    char buf[256];
    ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
    if (n == 0) {
      stdin_open = false;
      if (opt.console) continue;
      break;  // the controlling process went away: stop
    }
    if (n < 0) continue;
    command_buffer.append(buf, static_cast<size_t>(n));
    size_t end;
    while ((end = command_buffer.find('\n')) != std::string::npos) {
      std::istringstream cmd(command_buffer.substr(0, end));
      command_buffer.erase(0, end + 1);
      std::string verb;
      cmd >> verb;
      if (verb == "run") {
        cmd >> work.lane >> work.per_cycle >> work.remaining >> work.closed_limit;
        if (!cmd || work.lane < 0 || work.lane >= kLanes || work.per_cycle == 0 ||
            work.per_cycle > 0xffffu || work.closed_limit == 0) {
          std::printf("error run needs LANE (0..5) PER_CYCLE (1..65535) MAX_OPS CLOSED_CYCLES\n");
        } else {
          work.active = true;
          work.issued = 0;
          work.closed_for = 0;
        }
      } else if (verb == "tamper") {
        soc.pulse_tamper();
        std::printf("tampered\n");
      } else if (verb == "cut") {
        cmd >> cut_countdown;
        if (!cmd || cut_countdown <= 0) {
          cut_countdown = 0;
          std::printf("error cut needs N >= 1\n");
        } else {
          ops_at_arm = flash.operations();
          std::printf("armed %d\n", cut_countdown);
        }
      } else if (verb == "stats") {
        double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        std::printf("stats cycles=%llu enable=%d stack_used=%u flash_ops=%llu resets=%llu wall_s=%.3f\n",
                    static_cast<unsigned long long>(soc.cycle()), pins.accel_enable_o ? 1 : 0,
                    soc.stack_used(), static_cast<unsigned long long>(flash.operations()),
                    static_cast<unsigned long long>(soc.power_cycles()), wall);
      } else if (verb == "quit") {
        std::printf("bye\n");
        std::fflush(stdout);
        soc.save_otp();
        flash.close();
        return 0;
      } else if (!verb.empty()) {
        std::printf("error unknown command %s\n", verb.c_str());
      }
      std::fflush(stdout);
    }
  }
  soc.save_otp();
  flash.close();
  return 0;
}
