/* Error message helpers (see err.h). */
#include "core/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int serr_set(serr *e, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int serr_wrap(serr *e, const char *fmt, ...)
{
	char prefix[SERR_MAX];
	char old[SERR_MAX];
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	old[sizeof(old) - 1] = '\0';
	/* prefix + ": " + old, cut at the buffer size */
	{
		size_t pl = strlen(prefix), ol = strlen(old), room = sizeof(e->msg) - 1;
		size_t n = 0;

		memcpy(e->msg, prefix, pl < room ? pl : room);
		n = pl < room ? pl : room;
		if (n + 2 <= room) {
			memcpy(e->msg + n, ": ", 2);
			n += 2;
		}
		if (ol > room - n)
			ol = room - n;
		memcpy(e->msg + n, old, ol);
		n += ol;
		e->msg[n] = '\0';
	}
	return -1;
}

void serr_clear(serr *e)
{
	if (e)
		e->msg[0] = '\0';
}
