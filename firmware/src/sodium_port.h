/* libsodium's internal function that firmware/src/sodium_port.c defines in
 * place of libsodium's own. */
#ifndef HEG_SRC_SODIUM_PORT_H
#define HEG_SRC_SODIUM_PORT_H

/* s[0..31] = (s[0..63] as a little-endian number) mod L, the group order
 * 2^252 + 27742317777372353535851937790883648493; s[32..63] are left as they
 * were, as libsodium leaves them. Its Ed25519 verify reduces the challenge
 * hash with it (libsodium's private/ed25519_ref10.h). */
void sc25519_reduce(unsigned char s[64]);

#endif /* HEG_SRC_SODIUM_PORT_H */
