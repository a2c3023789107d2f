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

/* Read-modify-write of the shared next-slot value under the file lock. */
static int reserve(struct pacer *p, int64_t hold_until_us, int64_t *slot_us, serr *e)
{
	int64_t next = 0, now = mono_us(), slot;
	ssize_t n;
	int rc = -1;

	if (p->fd < 0) {
		pthread_mutex_lock(&local_lock);
		next = p->local_next_us;
		if (hold_until_us) {
			if (hold_until_us > next)
				p->local_next_us = hold_until_us;
			slot = now;
		} else {
			slot = next > now ? next : now;
			p->local_next_us = slot + p->interval_us;
		}
		pthread_mutex_unlock(&local_lock);
		*slot_us = slot;
		return 0;
	}
	/* flock excludes other processes; threads of this one share the fd */
	pthread_mutex_lock(&local_lock);
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
	/* a slot far in the future is left over from before a reboot */
	if (next > now + 3600 * 1000000LL)
		next = 0;
	if (hold_until_us) {
		slot = now;
		if (hold_until_us > next)
			next = hold_until_us;
	} else {
		slot = next > now ? next : now;
		next = slot + p->interval_us;
	}
	if (pwrite(p->fd, &next, sizeof(next), 0) != (ssize_t)sizeof(next)) {
		serr_set(e, "cannot write pacing file for '%s': %s", p->key, strerror(errno));
		goto out;
	}
	*slot_us = slot;
	rc = 0;
out:
	flock(p->fd, LOCK_UN);
	pthread_mutex_unlock(&local_lock);
	return rc;
}

int pacer_wait_slot(struct pacer *p, int64_t *slot_us, serr *e)
{
	if (reserve(p, 0, slot_us, e) < 0)
		return -1;
	sleep_us(*slot_us - mono_us());
	return 0;
}

int pacer_wait(struct pacer *p, serr *e)
{
	int64_t slot;

	return pacer_wait_slot(p, &slot, e);
}

int pacer_hold(struct pacer *p, int64_t ms, serr *e)
{
	int64_t slot;

	return reserve(p, mono_us() + ms * 1000, &slot, e);
}
