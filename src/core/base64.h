/* Standard base64 (RFC 4648, with padding), for attachment bytes in load files and tests. */
#ifndef SCOUT_CORE_BASE64_H
#define SCOUT_CORE_BASE64_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

int base64_encode(const void *data, size_t len, struct buf *out) SCOUT_MUST;
/* Whitespace is skipped; anything else outside the alphabet is an error. *out is malloc'd. */
int base64_decode(const char *s, unsigned char **out, size_t *outlen) SCOUT_MUST;

#endif
