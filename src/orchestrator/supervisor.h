/*
 * Child processes of the daemon: a table of slots, each running one kind of
 * long-lived loop (the sensor loop, a worker) in a forked process. A child
 * that exits when it was not asked to is restarted after a backoff that
 * doubles with each crash in a row; children are told to drain with SIGTERM
 * and to stop at once with a second SIGTERM. The supervisor never waits for
 * processes it did not start.
 */
#ifndef SCOUT_ORCHESTRATOR_SUPERVISOR_H
#define SCOUT_ORCHESTRATOR_SUPERVISOR_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/err.h"

struct config;

/*
 * The entry point of a child: run until *stop is set (drain) and return,
 * or return sooner when *stop_now is set. Runs in the forked process.
 */
typedef int (*child_main_fn)(const struct config *cfg, const char *name,
			     volatile sig_atomic_t *stop, volatile sig_atomic_t *stop_now,
			     serr *e);

struct child_kind {
	const char *component; /* heartbeat component: "worker", "sensors", "web" */
	child_main_fn main;
	/* 0 when the loop ignores stop_now: a second signal then ends the child at once */
	int honours_stop_now;
};

struct child_slot {
	const struct child_kind *kind;
	char name[160];
	pid_t pid;		 /* 0 while not running */
	int64_t started_ms;	 /* monotonic */
	int64_t restart_at_ms;	 /* monotonic; when to start it again */
	int crashes;		 /* unexpected exits in a row */
	int restarts;		 /* starts after the first */
	int signals_sent;	 /* SIGTERMs sent to the current process */
	int retire;		 /* do not start it again once it exits */
	int restart_now;	 /* start it again at once once it exits (reload) */
	int done;		 /* retired and exited: the slot is unused */
};

/* Called in the parent for every child that exited (status as from waitpid). */
typedef void (*child_exit_fn)(const struct child_slot *slot, pid_t pid, int status, void *ud);

struct supervisor {
	struct child_slot *slots;
	size_t n, cap;
	const struct config *cfg; /* what children start with */
	int backoff_ms;		  /* first restart delay */
	int healthy_ms;		  /* a child that ran this long resets its crash count */
	int stopping;		  /* no more starts */
	int close_fd;		  /* closed in every child (the parent's database socket), -1 none */
	child_exit_fn on_exit;
	void *on_exit_ud;
};

void supervisor_init(struct supervisor *s, const struct config *cfg, int backoff_ms);
/* Forgets the slots; the children must have exited (see supervisor_running). */
void supervisor_free(struct supervisor *s);

/* A new slot, started by the next supervisor_tick. */
int supervisor_add(struct supervisor *s, const struct child_kind *kind, const char *name,
		   serr *e) SCOUT_MUST;

/*
 * Reap exited children (restart or retire them) and start the slots that
 * are due. 0, or -1 when a fork failed (the slot is retried after a backoff).
 */
int supervisor_tick(struct supervisor *s, serr *e) SCOUT_MUST;

/* Send sig to every running child; SIGTERM counts toward its drain/stop-now. */
void supervisor_signal(struct supervisor *s, int sig);

/* Stop starting children; the running ones keep running until signalled. */
void supervisor_stop(struct supervisor *s);

/* Children use cfg from their next start on. */
void supervisor_set_config(struct supervisor *s, const struct config *cfg);

/* Drain every running child and start it again (with the current config) once it exited. */
void supervisor_restart_all(struct supervisor *s);

/* Drain slot i and do not start it again. */
void supervisor_retire(struct supervisor *s, size_t i);

/* Children alive now. */
size_t supervisor_running(const struct supervisor *s);
/* Slots of this component that are not retired. */
size_t supervisor_active(const struct supervisor *s, const char *component);

#endif
