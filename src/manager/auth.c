/* SPDX-License-Identifier: MIT */
/* Mutual challenge-response authentication, with libsodium.
 *
 *   server -> client  "WEFTMGR1" + 32 random bytes (the server's challenge)
 *   client -> server  HMAC(K, "client" + that challenge)
 *                     + 32 random bytes (the client's challenge)
 *   server -> client  "OK" + HMAC(K, "server" + the client's challenge)
 *                     or "NO", and the server hangs up
 *
 * K is BLAKE2b-256 of the authentication key, and HMAC is HMAC-SHA256; each
 * side checks the other's answer with libsodium's constant-time compare.
 * The labels keep one side's answer from ever serving as the other's, and
 * fresh challenges keep an old answer from serving twice. Nothing here is
 * crypto of weft's own making. */
#include "manager_int.h"

#include <sodium.h>
#include <string.h>

#define HELLO "WEFTMGR1"
#define HELLO_LEN 8
#define NONCE 32
#define MAC crypto_auth_hmacsha256_BYTES

_Static_assert(crypto_auth_hmacsha256_KEYBYTES == WEFT__MGR_KEY_BYTES,
               "K is an HMAC-SHA256 key");
_Static_assert(MAC == 32, "HMAC-SHA256 gives 32 bytes");

int weft__mgr_derive_key(const void *key, size_t len,
                         unsigned char out[WEFT__MGR_KEY_BYTES])
{
    if (sodium_init() < 0)
        return weft_fail(WEFT_ESYS, "libsodium cannot start");
    crypto_generichash(out, WEFT__MGR_KEY_BYTES, key, len, NULL, 0);
    return 0;
}

/* HMAC(K, label + nonce). */
static void answer(unsigned char out[MAC], const char *label,
                   const unsigned char nonce[NONCE],
                   const unsigned char key[WEFT__MGR_KEY_BYTES])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, WEFT__MGR_KEY_BYTES);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)label,
                                  strlen(label));
    crypto_auth_hmacsha256_update(&st, nonce, NONCE);
    crypto_auth_hmacsha256_final(&st, out);
}

static int right_answer(const unsigned char *got, const char *label,
                        const unsigned char nonce[NONCE],
                        const unsigned char key[WEFT__MGR_KEY_BYTES])
{
    unsigned char want[MAC];
    answer(want, label, nonce, key);
    return sodium_memcmp(got, want, MAC) == 0;
}

/* Receive one message of exactly len bytes into buf. */
static int receive(weft_connection_t *c, void *buf, size_t len)
{
    size_t got = 0;
    int rc = weft_connection_recv_bytes_into(c, buf, len, &got);
    if (rc == WEFT_EMSGSIZE || (rc == 0 && got != len))
        return weft_fail(WEFT_EAUTH, "the peer does not speak the manager's "
                                     "handshake");
    return rc;
}

int weft__mgr_auth_client(weft_connection_t *c,
                          const unsigned char key[WEFT__MGR_KEY_BYTES])
{
    unsigned char hello[HELLO_LEN + NONCE], reply[NONCE + MAC], ok[2 + MAC];
    int rc = receive(c, hello, sizeof hello);
    if (rc)
        return rc;
    if (memcmp(hello, HELLO, HELLO_LEN) != 0)
        return weft_fail(WEFT_EAUTH, "not a weft manager");
    answer(reply, "client", hello + HELLO_LEN, key);
    randombytes_buf(reply + MAC, NONCE);
    if ((rc = weft_connection_send_bytes(c, reply, sizeof reply)) != 0)
        return rc;
    size_t got = 0;
    rc = weft_connection_recv_bytes_into(c, ok, sizeof ok, &got);
    if (rc == WEFT_EEOF || (rc == 0 && got == 2 && memcmp(ok, "NO", 2) == 0))
        return weft_fail(WEFT_EAUTH, "the manager refused the key");
    if (rc && rc != WEFT_EMSGSIZE)
        return rc;
    if (rc || got != sizeof ok || memcmp(ok, "OK", 2) != 0 ||
        !right_answer(ok + 2, "server", reply + MAC, key))
        return weft_fail(WEFT_EAUTH, "the manager does not know the key");
    return 0;
}

int weft__mgr_auth_server(weft_connection_t *c,
                          const unsigned char key[WEFT__MGR_KEY_BYTES])
{
    unsigned char hello[HELLO_LEN + NONCE], reply[NONCE + MAC], ok[2 + MAC];
    memcpy(hello, HELLO, HELLO_LEN);
    randombytes_buf(hello + HELLO_LEN, NONCE);
    int rc = weft_connection_send_bytes(c, hello, sizeof hello);
    if (rc == 0)
        rc = receive(c, reply, sizeof reply);
    if (rc)
        return rc;
    if (!right_answer(reply, "client", hello + HELLO_LEN, key)) {
        weft_connection_send_bytes(c, "NO", 2);
        return weft_fail(WEFT_EAUTH, "a client used the wrong key");
    }
    memcpy(ok, "OK", 2);
    answer(ok + 2, "server", reply + MAC, key);
    return weft_connection_send_bytes(c, ok, sizeof ok);
}
