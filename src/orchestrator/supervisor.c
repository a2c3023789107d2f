/*
 * Forking, reaping and restarting the daemon's children (see supervisor.h).
 * The parent is single-threaded while it forks, except in `scout demo`,
 * where the in-process simulator's threads run too; the child only calls
 * its entry point and _exit()s, never returning into the parent's code.
 */
#include "orchestrator/supervisor.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"

#define BACKOFF_MAX_MS 60000
#define HEALTHY_MS 60000
#define SLOTS_MAX 1024

/* The child's view of its stop signals (each child is its own process). */
static volatile sig_atomic_t child_stop;
static volatile sig_atomic_t child_stop_now;
static volatile sig_atomic_t child_hard_stop;

/* First SIGTERM/SIGINT: drain; second: stop at once. */
static void child_on_signal(int sig)
{
	(void)sig;
	if (!child_stop) {
		child_stop = 1;
		return;
	}
	child_stop_now = 1;
	if (child_hard_stop)
		_exit(3);
}

void supervisor_init(struct supervisor *s, const struct config *cfg, int backoff_ms)
{
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->backoff_ms = backoff_ms > 0 ? backoff_ms : 1000;
	s->healthy_ms = HEALTHY_MS;
	s->close_fd = -1;
}

void supervisor_free(struct supervisor *s)
{
	free(s->slots);
	s->slots = NULL;
	s->n = s->cap = 0;
}

int supervisor_add(struct supervisor *s, const struct child_kind *kind, const char *name, serr *e)
{
	struct child_slot *slot;

	if (!kind || !kind->main || !kind->component)
		return serr_set(e, "cannot supervise child '%s': its kind has no entry point",
				name ? name : "");
	if (!name || !*name || strlen(name) >= sizeof(slot->name))
		return serr_set(e, "cannot supervise a %s child: its name is empty or longer than "
				   "%zu characters",
				kind->component, sizeof(slot->name) - 1);
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 8, bytes;
		struct child_slot *ns;

		if (ncap > SLOTS_MAX || size_mul(ncap, sizeof(*ns), &bytes) < 0)
			return serr_set(e, "cannot supervise child '%s': at most %d children",
					name, SLOTS_MAX);
		if (!(ns = realloc(s->slots, bytes)))
			return serr_set(e, "cannot supervise child '%s': out of memory", name);
		s->slots = ns;
		s->cap = ncap;
	}
	slot = &s->slots[s->n++];
	memset(slot, 0, sizeof(*slot));
	slot->kind = kind;
	snprintf(slot->name, sizeof(slot->name), "%s", name);
	slot->restart_at_ms = mono_ms();
	return 0;
}

/* Runs in the forked child; never returns. */
static void child_run(struct supervisor *s, struct child_slot *slot, pid_t parent,
		      const sigset_t *old)
{
	struct sigaction sa;
	serr e;
	int rc;

	/* Own process group: a terminal's Ctrl-C reaches the parent only, which
	 * forwards it once; the parent's death drains the child. */
	if (setpgid(0, 0) < 0 || prctl(PR_SET_PDEATHSIG, SIGTERM) < 0 || getppid() != parent)
		_exit(1);
	if (s->close_fd >= 0)
		close(s->close_fd);
	child_stop = 0;
	child_stop_now = 0;
	child_hard_stop = !slot->kind->honours_stop_now;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = child_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sigprocmask(SIG_SETMASK, old, NULL);

	log_info("child started", "component=%s name=%s pid=%ld", slot->kind->component,
		 slot->name, (long)getpid());
	rc = slot->kind->main(s->cfg, slot->name, &child_stop, &child_stop_now, &e);
	if (rc < 0)
		log_error("child failed", "component=%s name=%s error=\"%s\"",
			  slot->kind->component, slot->name, e.msg);
	else
		log_info("child stopped", "component=%s name=%s", slot->kind->component,
			 slot->name);
	fflush(NULL);
	_exit(rc < 0 ? 1 : 0);
}

static int slot_start(struct supervisor *s, struct child_slot *slot, serr *e)
{
	sigset_t block, old;
	pid_t parent = getpid(), pid;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGQUIT);
	/* Blocked across fork so the child never runs the parent's handlers. */
	if (sigprocmask(SIG_BLOCK, &block, &old) < 0)
		return serr_set(e, "cannot start %s child '%s': sigprocmask: %s",
				slot->kind->component, slot->name, strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		child_run(s, slot, parent, &old);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		slot->restart_at_ms = mono_ms() + s->backoff_ms;
		return serr_set(e, "cannot start %s child '%s': fork: %s; retrying in %d ms",
				slot->kind->component, slot->name, strerror(errno), s->backoff_ms);
	}
	if (slot->started_ms)
		slot->restarts++;
	slot->pid = pid;
	slot->started_ms = mono_ms();
	slot->signals_sent = 0;
	slot->restart_now = 0;
	return 0;
}

static void describe_status(int status, char *out, size_t n)
{
	if (WIFEXITED(status))
		snprintf(out, n, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, n, "signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(out, n, "wait status %d", status);
}

static void slot_exited(struct supervisor *s, struct child_slot *slot, int status)
{
	int64_t now = mono_ms(), ran = now - slot->started_ms, delay;
	pid_t pid = slot->pid;
	char how[96];

	slot->pid = 0;
	describe_status(status, how, sizeof(how));
	if (s->on_exit)
		s->on_exit(slot, pid, status, s->on_exit_ud);
	if (slot->retire) {
		slot->done = 1;
		log_info("child retired", "component=%s name=%s pid=%ld how=\"%s\"",
			 slot->kind->component, slot->name, (long)pid, how);
		return;
	}
	if (s->stopping) {
		log_info("child exited", "component=%s name=%s pid=%ld how=\"%s\"",
			 slot->kind->component, slot->name, (long)pid, how);
		return;
	}
	if (slot->restart_now) {
		slot->crashes = 0;
		slot->restart_at_ms = now;
		log_info("child exited for a restart", "component=%s name=%s pid=%ld how=\"%s\"",
			 slot->kind->component, slot->name, (long)pid, how);
		return;
	}
	if (ran >= s->healthy_ms)
		slot->crashes = 0;
	slot->crashes++;
	delay = s->backoff_ms;
	for (int i = 1; i < slot->crashes && delay < BACKOFF_MAX_MS; i++)
		delay *= 2;
	if (delay > BACKOFF_MAX_MS)
		delay = BACKOFF_MAX_MS;
	slot->restart_at_ms = now + delay;
	log_warn("child exited unexpectedly; restarting it",
		 "component=%s name=%s pid=%ld how=\"%s\" ran_ms=%lld crashes_in_a_row=%d "
		 "restart_in_ms=%lld",
		 slot->kind->component, slot->name, (long)pid, how, (long long)ran, slot->crashes,
		 (long long)delay);
}

int supervisor_tick(struct supervisor *s, serr *e)
{
	int rc = 0;

	for (size_t i = 0; i < s->n; i++) {
		struct child_slot *slot = &s->slots[i];
		int status;
		pid_t r;

		if (slot->pid <= 0)
			continue;
		r = waitpid(slot->pid, &status, WNOHANG);
		if (r == slot->pid) {
			slot_exited(s, slot, status);
		} else if (r < 0 && errno == ECHILD) {
			/* Reaped elsewhere (a SIGCHLD handler of the embedding program). */
			slot_exited(s, slot, 0);
		}
	}
	if (s->stopping)
		return 0;
	for (size_t i = 0; i < s->n; i++) {
		struct child_slot *slot = &s->slots[i];

		if (slot->pid > 0 || slot->done || slot->retire || mono_ms() < slot->restart_at_ms)
			continue;
		if (slot_start(s, slot, e) < 0)
			rc = -1;
	}
	return rc;
}

void supervisor_signal(struct supervisor *s, int sig)
{
	for (size_t i = 0; i < s->n; i++) {
		struct child_slot *slot = &s->slots[i];

		if (slot->pid <= 0)
			continue;
		if (sig == SIGKILL) {
			/* the whole group: the child and any helper it forked */
			kill(-slot->pid, SIGKILL);
			kill(slot->pid, SIGKILL);
			continue;
		}
		if (kill(slot->pid, sig) == 0 && sig == SIGTERM)
			slot->signals_sent++;
	}
}

void supervisor_stop(struct supervisor *s)
{
	s->stopping = 1;
}

void supervisor_set_config(struct supervisor *s, const struct config *cfg)
{
	s->cfg = cfg;
}

void supervisor_restart_all(struct supervisor *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct child_slot *slot = &s->slots[i];

		if (slot->done || slot->retire)
			continue;
		if (slot->pid > 0) {
			slot->restart_now = 1;
			if (slot->signals_sent == 0 && kill(slot->pid, SIGTERM) == 0)
				slot->signals_sent++;
		} else {
			slot->crashes = 0;
			slot->restart_at_ms = mono_ms();
		}
	}
}

void supervisor_retire(struct supervisor *s, size_t i)
{
	struct child_slot *slot;

	if (i >= s->n)
		return;
	slot = &s->slots[i];
	slot->retire = 1;
	if (slot->pid > 0) {
		if (slot->signals_sent == 0 && kill(slot->pid, SIGTERM) == 0)
			slot->signals_sent++;
	} else {
		slot->done = 1;
	}
}

size_t supervisor_running(const struct supervisor *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		if (s->slots[i].pid > 0)
			n++;
	return n;
}

size_t supervisor_active(const struct supervisor *s, const char *component)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		if (!s->slots[i].retire && !s->slots[i].done &&
		    strcmp(s->slots[i].kind->component, component) == 0)
			n++;
	return n;
}
