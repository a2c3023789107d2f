/*
 * UTC offsets of IANA zones from the system tz database. glibc has no
 * per-call zone API, so TZ is switched under a lock and restored; callers
 * cache the few distinct zones (a pool has hundreds, not 100,000).
 */
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <stdio.h>
#include "match/match.h"

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

/* IANA names are letters, digits and _ + - /; anything else (.., spaces) is refused
 * before it can reach a file path. */
static int zone_name_ok(const char *z)
{
	size_t n = strlen(z);

	if (n == 0 || n > 64 || z[0] == '/' || strstr(z, ".."))
		return 0;
	for (const char *p = z; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_+-/", *p))
			return 0;
	return 1;
}

int match_tz_offset_hours(const char *zone, int64_t at_ms, double *hours, serr *e)
{
	char path[128], *old = NULL;
	const char *dir = "/usr/share/zoneinfo";
	struct tm tm;
	time_t t = (time_t)(at_ms / 1000);
	int rc = -1, ok;

	if (!zone || !zone_name_ok(zone))
		return serr_set(e, "timezone '%s' is not an IANA zone name", zone ? zone : "");
	if (strcmp(zone, "UTC") == 0 || strcmp(zone, "Etc/UTC") == 0 || strcmp(zone, "GMT") == 0) {
		*hours = 0;
		return 0;
	}
	snprintf(path, sizeof path, "%s/%s", dir, zone);
	if (access(path, R_OK) != 0)
		return serr_set(e, "timezone '%s' is not in the system tz database; use an IANA name such as 'Europe/Berlin'",
				zone);
	pthread_mutex_lock(&tz_lock);
	{
		const char *cur = getenv("TZ");
		if (cur) {
			old = strdup(cur);
			if (!old) {
				pthread_mutex_unlock(&tz_lock);
				return serr_set(e, "timezone '%s': out of memory", zone);
			}
		}
	}
	ok = setenv("TZ", zone, 1) == 0;
	if (ok) {
		tzset();
		ok = localtime_r(&t, &tm) != NULL;
	}
	if (old)
		(void)setenv("TZ", old, 1);
	else
		(void)unsetenv("TZ");
	tzset();
	pthread_mutex_unlock(&tz_lock);
	free(old);
	if (!ok) {
		serr_set(e, "timezone '%s': cannot compute the local time", zone);
		goto out;
	}
	*hours = (double)tm.tm_gmtoff / 3600.0;
	rc = 0;
out:
	return rc;
}
