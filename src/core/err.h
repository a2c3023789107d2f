/*
 * Error reporting shared by every module: a fixed-size message buffer that a
 * failing function fills with context (what failed, on which record, what to
 * do), and the attribute that forces callers to look at a status.
 */
#ifndef SCOUT_CORE_ERR_H
#define SCOUT_CORE_ERR_H

#include <stddef.h>

#define SCOUT_MUST __attribute__((warn_unused_result))
#define SCOUT_PRINTF(a, b) __attribute__((format(printf, a, b)))

#define SERR_MAX 1024

typedef struct serr {
	char msg[SERR_MAX];
} serr;

/* Fill e (if not NULL) and return -1, so callers can `return serr_set(...)`. */
int serr_set(serr *e, const char *fmt, ...) SCOUT_PRINTF(2, 3);

/* Prefix the current message with more context: "ctx: old message". */
int serr_wrap(serr *e, const char *fmt, ...) SCOUT_PRINTF(2, 3);

void serr_clear(serr *e);

#endif
