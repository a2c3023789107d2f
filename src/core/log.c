/* Structured logging with per-thread context and secret redaction (see log.h). */
#include "core/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"

#define LOG_MAX_SECRETS 16
#define LOG_CTX_MAX 128

static enum log_level log_min = LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char *log_secrets[LOG_MAX_SECRETS];
static int log_nsecrets;
static log_hook_fn log_hook;
static void *log_hook_ud;

static _Thread_local char ctx_run[LOG_CTX_MAX];
static _Thread_local char ctx_job[LOG_CTX_MAX];
static _Thread_local char ctx_record[LOG_CTX_MAX];

static const char *level_names[] = { "debug", "info", "warn", "error" };

/*
 * A process forked while another thread holds the lock (sensor ticks are
 * evaluated in forked children) would inherit it locked and hang on its
 * first log line: fork() takes the lock first and both sides release it.
 */
static void log_fork_prepare(void)
{
	pthread_mutex_lock(&log_lock);
}

static void log_fork_release(void)
{
	pthread_mutex_unlock(&log_lock);
}

__attribute__((constructor)) static void log_fork_register(void)
{
	pthread_atfork(log_fork_prepare, log_fork_release, log_fork_release);
}

void log_set_level(enum log_level lvl)
{
	log_min = lvl;
}

int log_level_parse(const char *s, enum log_level *out)
{
	for (int i = 0; i < 4; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

static void ctx_copy(char *dst, const char *src)
{
	if (!src) {
		dst[0] = '\0';
		return;
	}
	snprintf(dst, LOG_CTX_MAX, "%s", src);
}

void log_set_context(const char *run, const char *job, const char *record)
{
	ctx_copy(ctx_run, run);
	ctx_copy(ctx_job, job);
	ctx_copy(ctx_record, record);
}

void log_set_hook(log_hook_fn fn, void *ud)
{
	pthread_mutex_lock(&log_lock);
	log_hook = fn;
	log_hook_ud = ud;
	pthread_mutex_unlock(&log_lock);
}

void log_add_secret(const char *secret)
{
	/* Short strings would redact ordinary words; real keys are long. */
	if (!secret || strlen(secret) < 6)
		return;
	pthread_mutex_lock(&log_lock);
	for (int i = 0; i < log_nsecrets; i++) {
		if (strcmp(log_secrets[i], secret) == 0)
			goto out;
	}
	if (log_nsecrets < LOG_MAX_SECRETS) {
		char *dup = strdup(secret);
		if (dup)
			log_secrets[log_nsecrets++] = dup;
	}
out:
	pthread_mutex_unlock(&log_lock);
}

static void redact_one(char *s, const char *secret)
{
	static const char mask[] = "[redacted]";
	size_t slen = strlen(secret), mlen = sizeof(mask) - 1;
	char *p;

	while ((p = strstr(s, secret)) != NULL) {
		/* secrets are at least 6 chars; mask may be longer: keep it shorter */
		size_t put = mlen < slen ? mlen : slen;
		memcpy(p, mask, put);
		memmove(p + put, p + slen, strlen(p + slen) + 1);
	}
}

void log_redact(char *s)
{
	pthread_mutex_lock(&log_lock);
	for (int i = 0; i < log_nsecrets; i++)
		redact_one(s, log_secrets[i]);
	pthread_mutex_unlock(&log_lock);
}

/* Quote a value when it has spaces, quotes or control characters. */
static int put_quoted(struct buf *b, const char *s)
{
	if (buf_putc(b, '"') < 0)
		return -1;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			if (buf_putc(b, '\\') < 0 || buf_putc(b, (char)c) < 0)
				return -1;
		} else if (c == '\n') {
			if (buf_puts(b, "\\n") < 0)
				return -1;
		} else if (c < 0x20) {
			if (buf_putc(b, ' ') < 0)
				return -1;
		} else if (buf_putc(b, (char)c) < 0) {
			return -1;
		}
	}
	return buf_putc(b, '"');
}

void log_write(enum log_level lvl, const char *msg, const char *kvfmt, ...)
{
	struct buf b;
	struct timeval tv;
	struct tm tm;
	char ts[64];
	va_list ap;
	log_hook_fn hook;
	void *hook_ud;
	int rc = 0;

	if (lvl < log_min)
		return;
	buf_init(&b, 64 * 1024);
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	rc |= buf_printf(&b, "%s.%03ldZ pid=%ld level=%s", ts, (long)(tv.tv_usec / 1000),
			 (long)getpid(), level_names[lvl]);
	if (ctx_run[0])
		rc |= buf_printf(&b, " run=%s", ctx_run);
	if (ctx_job[0])
		rc |= buf_printf(&b, " job=%s", ctx_job);
	if (ctx_record[0])
		rc |= buf_printf(&b, " record=%s", ctx_record);
	rc |= buf_puts(&b, " msg=");
	rc |= put_quoted(&b, msg ? msg : "");
	if (kvfmt && *kvfmt) {
		rc |= buf_putc(&b, ' ');
		va_start(ap, kvfmt);
		rc |= buf_vprintf(&b, kvfmt, ap);
		va_end(ap);
	}
	(void)rc; /* a truncated log line is still written */
	if (!b.data) {
		buf_free(&b);
		return;
	}
	log_redact(b.data);
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "%s\n", b.data);
	fflush(stderr);
	hook = log_hook;
	hook_ud = log_hook_ud;
	pthread_mutex_unlock(&log_lock);
	/* outside the lock: a hook may itself log */
	if (hook)
		hook(lvl, b.data, hook_ud);
	buf_free(&b);
}
