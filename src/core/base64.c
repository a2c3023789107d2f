/* Base64 encoding and decoding (see base64.h). */
#include "core/base64.h"

#include <stdlib.h>
#include <string.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_encode(const void *data, size_t len, struct buf *out)
{
	const unsigned char *d = data;

	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)d[i] << 16;
		char q[4];
		if (i + 1 < len)
			v |= (unsigned)d[i + 1] << 8;
		if (i + 2 < len)
			v |= d[i + 2];
		q[0] = alphabet[(v >> 18) & 63];
		q[1] = alphabet[(v >> 12) & 63];
		q[2] = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
		q[3] = i + 2 < len ? alphabet[v & 63] : '=';
		if (buf_append(out, q, 4) < 0)
			return -1;
	}
	return 0;
}

static int sextet(char c)
{
	const char *p = c ? strchr(alphabet, c) : NULL;

	return p ? (int)(p - alphabet) : -1;
}

int base64_decode(const char *s, unsigned char **out, size_t *outlen)
{
	size_t n = strlen(s), o = 0;
	unsigned char *d = malloc(n / 4 * 3 + 3);
	unsigned v = 0;
	int bits = 0, pad = 0;

	*out = NULL;
	*outlen = 0;
	if (!d)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int x;
		if (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')
			continue;
		if (s[i] == '=') {
			pad++;
			continue;
		}
		if (pad || (x = sextet(s[i])) < 0) {
			free(d);
			return -1;
		}
		v = (v << 6) | (unsigned)x;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			d[o++] = (unsigned char)(v >> bits);
		}
	}
	if (pad > 2) {
		free(d);
		return -1;
	}
	*out = d;
	*outlen = o;
	return 0;
}
