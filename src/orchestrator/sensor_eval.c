/*
 * Evaluating a sensor tick in a forked child. The child runs the
 * evaluation (Airtable listing, hashing) and writes its result as one JSON
 * document to a pipe; the parent reads it without blocking and kills the
 * child at the tick's deadline. A hang inside libcurl, an endless loop or a
 * crash in an evaluation therefore costs one FAILURE tick, never the loop:
 * the parent never waits on anything the evaluation controls.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/config.h"
#include "core/log.h"
#include "core/util.h"
#include "orchestrator/sensor_internal.h"

/* How long a child that closed its pipe may take to exit before it is killed. */
#define REAP_GRACE_MS 2000

void sensor_child_init(struct sensor_child *c)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	buf_init(&c->out, SENSOR_RESULT_MAX);
}

void sensor_child_free(struct sensor_child *c)
{
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
		c->pid = 0;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	buf_free(&c->out);
	free(c->tick.cursor_before);
	c->tick.cursor_before = NULL;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Only the result pipe and the standard streams stay open in the child. */
static void close_other_fds(int keep)
{
	if (keep > 3)
		close_range(3, (unsigned)keep - 1, 0);
	close_range((unsigned)keep + 1, ~0U, 0);
}

/* Runs in the child; never returns. */
static void child_main(int wfd, pid_t parent, const struct config *cfg,
		       const struct sensor_tick_start *t, int preview)
{
	struct sensor_eval_ctx ctx;
	struct sensor_result res;
	sigset_t none;
	json_t *msg;
	char *text = NULL;
	serr e;
	int rc;

	/* The parent's handlers (a daemon's, a test runner's) must not run here. */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* A child whose parent died has no one to report to. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(3);
	close_other_fds(wfd);
	log_set_hook(NULL, NULL);
	log_set_context(NULL, t->def->name, NULL);

	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = cfg;
	ctx.def = t->def;
	ctx.tick_start_ms = t->started_ms;
	snprintf(ctx.tick_start, sizeof(ctx.tick_start), "%s", t->started_at);
	ctx.preview = preview;
	sensor_result_init(&res);
	serr_clear(&e);
	rc = t->def->eval(&ctx, t->cursor_before, &res, &e);
	if (rc == 0)
		msg = json_pack("{s:O?,s:s?,s:s?,s:O?}", "requests", res.requests, "cursor",
				res.cursor, "skip_reason", res.skip_reason, "metadata",
				res.metadata);
	else
		msg = json_pack("{s:s}", "error", e.msg[0] ? e.msg : "the evaluation failed");
	if (msg)
		text = json_dumps(msg, JSON_COMPACT);
	if (!text) {
		static const char oom[] = "{\"error\":\"out of memory writing the sensor result\"}";
		_exit(write_all(wfd, oom, sizeof(oom) - 1) < 0 ? 4 : 0);
	}
	_exit(write_all(wfd, text, strlen(text)) < 0 ? 4 : 0);
}

int sensor_child_spawn(struct sensor_child *c, const struct config *cfg, int preview, serr *e)
{
	int p[2];
	pid_t pid, self = getpid();

	if (pipe2(p, O_CLOEXEC) < 0)
		return serr_set(e, "cannot evaluate sensor '%s': pipe failed: %s", c->tick.def->name,
				strerror(errno));
	pid = fork();
	if (pid < 0) {
		int err = errno;
		close(p[0]);
		close(p[1]);
		return serr_set(e, "cannot evaluate sensor '%s': fork failed: %s", c->tick.def->name,
				strerror(err));
	}
	if (pid == 0) {
		close(p[0]);
		child_main(p[1], self, cfg, &c->tick, preview);
	}
	close(p[1]);
	if (fcntl(p[0], F_SETFL, O_NONBLOCK) < 0) {
		/* A blocking pipe would let a silent child stall the loop: give up on it. */
		int err = errno;
		close(p[0]);
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return serr_set(e, "cannot evaluate sensor '%s': %s", c->tick.def->name,
				strerror(err));
	}
	c->pid = pid;
	c->fd = p[0];
	c->timeout_s = cfg->sensor_tick_timeout_s > 0 ? cfg->sensor_tick_timeout_s : 60;
	c->deadline = mono_ms() + (int64_t)c->timeout_s * 1000;
	return 0;
}

int sensor_child_pump(struct sensor_child *c, serr *e)
{
	char chunk[65536];

	if (c->fd < 0)
		return 1;
	for (;;) {
		ssize_t n = read(c->fd, chunk, sizeof(chunk));
		if (n > 0) {
			if (buf_append(&c->out, chunk, (size_t)n) < 0) {
				c->too_large = 1;
				sensor_child_kill(c);
				return 1;
			}
			continue;
		}
		if (n == 0) {
			close(c->fd);
			c->fd = -1;
			return 1;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return serr_set(e, "cannot read the result of sensor '%s': %s", c->tick.def->name,
				strerror(errno));
	}
}

void sensor_child_kill(struct sensor_child *c)
{
	if (c->pid > 0)
		kill(c->pid, SIGKILL);
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
}

/* Wait for the child; one that does not exit soon after closing its pipe is killed. */
static void reap(struct sensor_child *c, int *status, int *known)
{
	int64_t until = mono_ms() + REAP_GRACE_MS;

	*known = 0;
	while (c->pid > 0) {
		pid_t r = waitpid(c->pid, status, WNOHANG);
		if (r == c->pid) {
			*known = 1;
			break;
		}
		if (r < 0 && errno != EINTR)
			break; /* ECHILD: someone else reaped it; judge by the output */
		if (r == 0 && mono_ms() > until) {
			kill(c->pid, SIGKILL);
			until = INT64_MAX;
		}
		if (r == 0)
			sleep_ms(5);
	}
	c->pid = 0;
}

static int parse_result(struct sensor_child *c, struct sensor_result *res, serr *e)
{
	const char *name = c->tick.def->name;
	json_error_t je;
	json_t *doc, *v;
	int rc = -1;

	doc = json_loadb(c->out.data ? c->out.data : "", c->out.len, 0, &je);
	if (!doc || !json_is_object(doc)) {
		serr_set(e, "sensor '%s' sent back a result that is not a JSON object (%s)", name,
			 doc ? "wrong type" : je.text);
		goto out;
	}
	if ((v = json_object_get(doc, "error"))) {
		serr_set(e, "%s", json_is_string(v) ? json_string_value(v) : "the evaluation failed");
		goto out;
	}
	v = json_object_get(doc, "requests");
	if (v && !json_is_null(v) && !json_is_array(v)) {
		serr_set(e, "sensor '%s' returned requests that are not an array", name);
		goto out;
	}
	res->requests = json_is_array(v) ? json_incref(v) : json_array();
	if (!res->requests) {
		serr_set(e, "out of memory reading the result of sensor '%s'", name);
		goto out;
	}
	v = json_object_get(doc, "metadata");
	if (json_is_object(v))
		res->metadata = json_incref(v);
	v = json_object_get(doc, "cursor");
	if (json_is_string(v) && sensor_result_cursor(res, json_string_value(v), e) < 0)
		goto out;
	v = json_object_get(doc, "skip_reason");
	if (json_is_string(v) && sensor_result_skip(res, json_string_value(v), e) < 0)
		goto out;
	rc = 0;
out:
	json_decref(doc);
	return rc;
}

int sensor_child_finish(struct sensor_child *c, struct sensor_result *res, serr *e)
{
	const char *name = c->tick.def->name;
	int status = 0, known;

	if (c->fd >= 0)
		sensor_child_kill(c);
	reap(c, &status, &known);
	if (c->timed_out)
		return serr_set(e, "sensor '%s' did not finish within %d s (sensor.tick_timeout_s) "
				   "and was stopped",
				name, c->timeout_s);
	if (c->too_large)
		return serr_set(e, "the result of sensor '%s' is larger than %zu MiB", name,
				SENSOR_RESULT_MAX >> 20);
	if (known && WIFSIGNALED(status))
		return serr_set(e, "the evaluation of sensor '%s' crashed (signal %d)", name,
				WTERMSIG(status));
	if (known && WIFEXITED(status) && WEXITSTATUS(status) != 0)
		return serr_set(e, "the evaluation of sensor '%s' exited with status %d", name,
				WEXITSTATUS(status));
	return parse_result(c, res, e);
}

int sensor_child_run(struct sensor_child *c, const struct config *cfg, int preview,
		     struct sensor_result *res, serr *e)
{
	if (sensor_child_spawn(c, cfg, preview, e) < 0)
		return -1;
	for (;;) {
		struct pollfd pf = { c->fd, POLLIN, 0 };
		int64_t left = c->deadline - mono_ms();
		int r;

		if (left <= 0) {
			c->timed_out = 1;
			sensor_child_kill(c);
			break;
		}
		if (poll(&pf, 1, left > 1000 ? 1000 : (int)left) < 0 && errno != EINTR)
			return serr_set(e, "cannot wait for sensor '%s': %s", c->tick.def->name,
					strerror(errno));
		r = sensor_child_pump(c, e);
		if (r < 0)
			return -1;
		if (r == 1)
			break;
	}
	return sensor_child_finish(c, res, e);
}
