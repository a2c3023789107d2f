/*
 * Request pacing shared by every scout process on the machine. Airtable
 * allows 5 requests per second per base and punishes a 429 with a 30 s
 * pause, so scout never bursts: the earliest time of the next request is
 * kept in a small state file under $SCOUT_HOME/pace/, guarded by flock(2);
 * a caller waits until then, takes the slot and moves it one interval,
 * 1/(rate*margin) seconds, past the moment it actually took it. Spacing
 * from actual send times (not planned ones) keeps any 1-second window at
 * or under the limit even when a process wakes up late on a loaded machine.
 */
#ifndef SCOUT_CORE_PACER_H
#define SCOUT_CORE_PACER_H

#include <stdint.h>

#include "core/err.h"

struct pacer {
	int fd;			/* state file, or -1 for an in-process pacer */
	int64_t interval_us;	/* spacing between two slots */
	int64_t local_next_us;	/* used when fd == -1 */
	char key[128];
};

/*
 * home: state directory (NULL or "" for a pacer local to this process);
 * key: what is paced ("airtable-appXXXX"); rate: requests per second;
 * margin: fraction of the rate actually used (0 < margin <= 1).
 */
int pacer_init(struct pacer *p, const char *home, const char *key, double rate, double margin,
	       serr *e) SCOUT_MUST;
void pacer_free(struct pacer *p);

/* Block until this caller may send one request. */
int pacer_wait(struct pacer *p, serr *e) SCOUT_MUST;

/* pacer_wait that also reports when it took its slot (CLOCK_MONOTONIC microseconds). */
int pacer_wait_slot(struct pacer *p, int64_t *slot_us, serr *e) SCOUT_MUST;

/* Nobody sends before now + ms (after a 429 or a Retry-After). */
int pacer_hold(struct pacer *p, int64_t ms, serr *e) SCOUT_MUST;

#endif
