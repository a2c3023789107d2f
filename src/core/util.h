/*
 * Small helpers every module needs: strict number parsing (no atoi), time,
 * sleeping, hashing (SHA-256 for input hashes), hex and string checks.
 */
#ifndef SCOUT_CORE_UTIL_H
#define SCOUT_CORE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/* Whole string must be a base-10 integer within [min, max]. */
int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out) SCOUT_MUST;
int parse_int(const char *s, int min, int max, int *out) SCOUT_MUST;
int parse_double(const char *s, double *out) SCOUT_MUST;
int parse_bool(const char *s, int *out) SCOUT_MUST;

/* Milliseconds: wall clock since the epoch, and a monotonic clock. */
int64_t now_ms(void);
int64_t mono_ms(void);
void sleep_ms(int64_t ms);

/* Format epoch milliseconds as ISO-8601 UTC "2026-11-29T01:50:00.000Z". */
void iso8601_ms(int64_t ms, char out[32]);
/* Parse ISO-8601 UTC (Z or +00:00, optional fraction) to epoch ms. */
int iso8601_parse(const char *s, int64_t *ms) SCOUT_MUST;

/* SHA-256 of data, as 64 lowercase hex chars + NUL. */
void sha256_hex(const void *data, size_t len, char out[65]);

struct sha256_ctx {
	uint32_t h[8];
	uint64_t nbytes;
	unsigned char block[64];
	size_t blen;
};
void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
void sha256_final(struct sha256_ctx *c, unsigned char out[32]);

/* Random 64-bit value from the OS (getrandom), for ids and jitter. */
uint64_t rand_u64(void);
/* Random lowercase hex id of n chars (n < 64) into out (n+1 bytes). */
void rand_hex(char *out, size_t n);

int str_starts_with(const char *s, const char *prefix);
/* Duplicate or NULL on OOM; safe on NULL input (returns NULL). */
char *xstrdup(const char *s);
/* Checked multiplication for sizes: 0 on success. */
int size_mul(size_t a, size_t b, size_t *out) SCOUT_MUST;
int size_add(size_t a, size_t b, size_t *out) SCOUT_MUST;

#endif
