/*
 * The one growable byte/string buffer of scout. Every buffer has a size cap
 * so untrusted input (HTTP bodies, CVs, LLM answers) can never grow memory
 * without bound; appends past the cap fail instead of truncating silently.
 * The data is always NUL-terminated when non-NULL.
 */
#ifndef SCOUT_CORE_BUF_H
#define SCOUT_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "core/err.h"

#define BUF_DEFAULT_MAX ((size_t)64 * 1024 * 1024)

struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
	int overflow; /* set once an append failed because of the cap */
};

/* max == 0 selects BUF_DEFAULT_MAX. */
void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);

int buf_append(struct buf *b, const void *p, size_t n) SCOUT_MUST;
int buf_puts(struct buf *b, const char *s) SCOUT_MUST;
int buf_putc(struct buf *b, char c) SCOUT_MUST;
int buf_printf(struct buf *b, const char *fmt, ...) SCOUT_MUST SCOUT_PRINTF(2, 3);
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) SCOUT_MUST;

/* "" for an empty buffer, never NULL. */
const char *buf_cstr(const struct buf *b);

/* Hand the heap string to the caller (NULL on allocation failure); b is reset. */
char *buf_detach(struct buf *b);

#endif
