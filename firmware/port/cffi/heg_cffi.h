/* cffi cdef for openheg_sim._firmware: prototypes only (parsed by cffi, not
 * compiled). Must agree with firmware/include/heg/heg.h, heg_crypto.h,
 * src/sodium_port.h, <sodium.h> and port/cffi/hal_cffi.h; cffi's API mode
 * checks it against them at build. */

typedef int... heg_status_t;
#define HEG_OTP_SIZE ...
typedef uint32_t heg_hbool_t;
typedef struct heg_ctx heg_ctx_t;
typedef struct heg_hal heg_hal_t;

typedef struct {
  uint64_t lo;
  uint64_t hi;
} heg_u128_t;

typedef struct {
  uint8_t signer[32];
  uint8_t signature[64];
} heg_signature_entry_t;

typedef struct {
  uint8_t license_id[16];
  uint8_t device_id[32];
  uint8_t workload_id[16];
  uint64_t sequence;
  heg_u128_t allocation_msflop;
  heg_u128_t workload_total_msflop;
  heg_u128_t lineage_msflop;
  uint64_t not_before;
  uint64_t not_after;
  uint32_t license_class;
  uint32_t workload_kind;
  uint32_t oversight_ppm;
  uint8_t inspector_key[32];
  uint32_t signature_count;
  const heg_signature_entry_t *signatures; /* into the parsed bytes */
} heg_license_t;

size_t heg_ctx_size(void);
heg_status_t heg_init(heg_ctx_t *ctx, heg_hal_t *hal);
heg_status_t heg_dispatch(heg_ctx_t *ctx, const uint8_t *req, size_t req_len, uint8_t *resp,
                          size_t resp_cap, size_t *resp_len);
heg_status_t heg_poll(heg_ctx_t *ctx);
heg_status_t heg_shutdown(heg_ctx_t *ctx, heg_hbool_t *settled);
heg_status_t heg_license_parse(const uint8_t *data, size_t len, heg_license_t *out);
heg_status_t heg_crypto_ed25519_verify(const uint8_t sig[64], const uint8_t *msg, size_t msg_len,
                                       const uint8_t pk[32], heg_hbool_t *valid);
heg_status_t heg_crypto_ed25519_keypair(const uint8_t seed[32], uint8_t pk[32], uint8_t sk[64]);
heg_status_t heg_crypto_ed25519_sign(uint8_t sig[64], const uint8_t *msg, size_t msg_len,
                                     const uint8_t sk[64]);

/* libsodium's SHA-512, and its sc25519_reduce as the firmware links it (on
 * Monocypher's reduction: firmware/src/sodium_port.c). */
typedef struct {
  ...;
} crypto_hash_sha512_state;
int crypto_hash_sha512_init(crypto_hash_sha512_state *state);
int crypto_hash_sha512_update(crypto_hash_sha512_state *state, const unsigned char *in,
                              unsigned long long inlen);
int crypto_hash_sha512_final(crypto_hash_sha512_state *state, unsigned char *out);
int crypto_hash_sha512(unsigned char *out, const unsigned char *in, unsigned long long inlen);
void sc25519_reduce(unsigned char s[64]);

size_t heg_cffi_hal_size(void);
void heg_cffi_hal_bind(heg_hal_t *hal, void *handle);
void heg_cffi_hal_bind_storage(heg_hal_t *hal, uint8_t *pages, uint32_t page_size,
                               uint32_t page_count);

extern "Python+C" uint32_t heg_py_reg_read(void *handle, uint32_t offset);
extern "Python+C" void heg_py_reg_write(void *handle, uint32_t offset, uint32_t value);
extern "Python+C" uint32_t heg_py_link_read(void *handle, uint32_t offset);
extern "Python+C" void heg_py_link_write(void *handle, uint32_t offset, uint32_t value);
extern "Python+C" uint32_t heg_py_link_clock_hz(void *handle);
extern "Python+C" int heg_py_storage_geometry(void *handle, uint32_t *page_size,
                                              uint32_t *page_count);
extern "Python+C" int heg_py_storage_read(void *handle, uint32_t offset, uint8_t *out,
                                          size_t len);
extern "Python+C" int heg_py_storage_program(void *handle, uint32_t offset, const uint8_t *data,
                                             size_t len);
extern "Python+C" int heg_py_storage_erase(void *handle, uint32_t page);
extern "Python+C" int heg_py_otp_read(void *handle, uint8_t *out);
extern "Python+C" int heg_py_otp_program(void *handle, const uint8_t *data);
extern "Python+C" int heg_py_random(void *handle, uint8_t *out, size_t len);
extern "Python+C" uint64_t heg_py_time_now(void *handle);
extern "Python+C" uint64_t heg_py_uptime_ms(void *handle);
extern "Python+C" uint64_t heg_py_reference_ms(void *handle);
