/* Cross-process request pacing through a locked slot file (see pacer.h). */
#include "core/pacer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/util.h"

/* In-process pacers share one lock; slots are per pacer. */
static pthread_mutex_t local_lock = PTHREAD_MUTEX_INITIALIZER;

/* CLOCK_MONOTONIC is system-wide on Linux, so all processes agree on it. */
static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_us(int64_t us)
{
	struct timespec ts;

	if (us <= 0)
		return;
	ts.tv_sec = us / 1000000;
	ts.tv_nsec = (us % 1000000) * 1000;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int mkdir_p(const char *path)
{
	char tmp[4096];
	size_t n = strlen(path);

	if (n >= sizeof(tmp))
		return -1;
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

int pacer_init(struct pacer *p, const char *home, const char *key, double rate, double margin,
	       serr *e)
{
	struct buf path;
	int rc = -1;

	p->fd = -1;
	p->local_next_us = 0;
	snprintf(p->key, sizeof(p->key), "%s", key);
	if (!(rate > 0) || !(margin > 0) || margin > 1)
		return serr_set(e, "pacing of '%s' needs a rate above 0 and a margin in (0, 1]",
				key);
	p->interval_us = (int64_t)(1000000.0 / (rate * margin));
	if (!home || !*home)
		return 0;

	buf_init(&path, 4096);
	if (buf_printf(&path, "%s/pace", home) < 0) {
		serr_set(e, "state directory path '%s' is too long", home);
		goto out;
	}
	if (mkdir_p(path.data) < 0) {
		serr_set(e, "cannot create pacing directory '%s': %s", path.data, strerror(errno));
		goto out;
	}
	/* keep the file name to safe characters */
	if (buf_puts(&path, "/") < 0)
		goto toolong;
	for (const char *k = key; *k; k++) {
		char c = *k;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 c == '-' || c == '_';
		if (buf_putc(&path, ok ? c : '_') < 0)
			goto toolong;
	}
	p->fd = open(path.data, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (p->fd < 0) {
		serr_set(e, "cannot open pacing file '%s': %s", path.data, strerror(errno));
		goto out;
	}
	rc = 0;
	goto out;
toolong:
	serr_set(e, "pacing file path under '%s' is too long", home);
out:
	buf_free(&path);
	return rc;
}

void pacer_free(struct pacer *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

/*
 * Read-modify-write of the shared "earliest next send" time under the lock.
 * A caller only takes a slot when that time has come, and the next one is
 * set from the moment it was actually taken, not from a planned slot: a
 * caller that wakes up late (a loaded machine) pushes everyone after it
 * back instead of squeezing two requests together.
 *   hold_until_us == 0: try to take a slot; *slot_us = now on success, or
 *                       *slot_us = the time to wait for and 1 returned.
 *   hold_until_us > 0:  nobody takes a slot before then.
 */
static int reserve(struct pacer *p, int64_t hold_until_us, int64_t *slot_us, serr *e)
{
	int64_t next = 0, now;
	ssize_t n;
	int rc = -1;

	pthread_mutex_lock(&local_lock);
	if (p->fd < 0) {
		next = p->local_next_us;
	} else {
		/* flock excludes other processes; the mutex the threads of this one */
		while (flock(p->fd, LOCK_EX) < 0) {
			if (errno != EINTR) {
				pthread_mutex_unlock(&local_lock);
				return serr_set(e, "cannot lock pacing file for '%s': %s", p->key,
						strerror(errno));
			}
		}
		n = pread(p->fd, &next, sizeof(next), 0);
		if (n != (ssize_t)sizeof(next))
			next = 0;
	}
	now = mono_us();
	/* a time far in the future is left over from before a reboot */
	if (next > now + 3600 * 1000000LL)
		next = 0;
	if (hold_until_us) {
		rc = 0;
		if (hold_until_us <= next)
			goto out;
		next = hold_until_us;
	} else if (now < next) {
		*slot_us = next;
		rc = 1;
		goto out;
	} else {
		*slot_us = now;
		next = now + p->interval_us;
	}
	if (p->fd < 0) {
		p->local_next_us = next;
	} else if (pwrite(p->fd, &next, sizeof(next), 0) != (ssize_t)sizeof(next)) {
		serr_set(e, "cannot write pacing file for '%s': %s", p->key, strerror(errno));
		rc = -1;
		goto out;
	}
	rc = 0;
out:
	if (p->fd >= 0)
		flock(p->fd, LOCK_UN);
	pthread_mutex_unlock(&local_lock);
	return rc;
}

int pacer_wait_slot(struct pacer *p, int64_t *slot_us, serr *e)
{
	for (;;) {
		int rc = reserve(p, 0, slot_us, e);

		if (rc <= 0)
			return rc;
		sleep_us(*slot_us - mono_us());
	}
}

int pacer_wait(struct pacer *p, serr *e)
{
	int64_t slot;

	return pacer_wait_slot(p, &slot, e);
}

int pacer_hold(struct pacer *p, int64_t ms, serr *e)
{
	int64_t unused;

	return reserve(p, mono_us() + (ms > 0 ? ms : 0) * 1000 + 1, &unused, e);
}
