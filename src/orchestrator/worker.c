/*
 * The worker loop (see worker.h). The main thread listens for
 * notifications, reaps expired leases, writes the heartbeat and handles
 * stop requests; each slot thread claims and executes runs on its own
 * connection; a lease keeper thread renews the leases of running runs; a
 * warm-up thread keeps the candidate pool of matchmaking loaded.
 */
#include "orchestrator/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "core/log.h"
#include "core/util.h"
#include "orchestrator/lease.h"
#include "orchestrator/run.h"
#include "pipeline/pool_warm.h"
#include "store/heartbeats.h"
#include "store/queue.h"
#include "store/store.h"

#define WORKER_NAME_MAX 120
#define MAIN_TICK_MS 250
#define REAP_LIMIT 100
#define ABANDON_WAIT_MS 1000

struct worker;

struct slot {
	struct worker *w;
	int index;
	pthread_t th;
	int started;
	int busy; /* under w->mu: claim is being executed */
	struct queue_claim claim;
	struct lease lease;
};

struct worker {
	const struct config *cfg;
	char name[WORKER_NAME_MAX + 1];
	int concurrency, poll_ms, lease_ms, max_runs;
	volatile sig_atomic_t *stop, *stop_now;
	struct queue_limits limits;
	struct store st; /* LISTEN, reaper, heartbeat, releases */
	struct lease_keeper keeper;
	int keeper_started;
	struct pool_warm warm; /* loads the candidate pool before a ranking needs it */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned long wake; /* bumped on every notification */
	int draining, abandoned;
	int claims;  /* claims made or being attempted, for max_runs */
	int broken;  /* slot threads that could not connect */
	serr slot_err;
	int running; /* runs being executed */
	int alive;   /* slot threads that have not exited */
	long finished[RUN_LEASE_LOST + 1];
	int pipefd[2]; /* a slot thread that exits writes a byte: wakes the main loop */
	struct slot slots[WORKER_CONCURRENCY_MAX];
};

void worker_opts_init(struct worker_opts *o)
{
	memset(o, 0, sizeof(*o));
}

static void deadline_in(struct timespec *ts, int64_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static int stopping(const struct worker *w)
{
	return w->draining || w->abandoned || (w->max_runs && w->claims >= w->max_runs);
}

/* Idle until a notification, a stop, or ms (under w->mu). */
static void slot_wait(struct worker *w, unsigned long seen, int64_t ms)
{
	struct timespec ts;

	deadline_in(&ts, ms);
	while (w->wake == seen && !w->draining && !w->abandoned)
		if (pthread_cond_timedwait(&w->cv, &w->mu, &ts) == ETIMEDOUT)
			break;
}

static void slot_run(struct slot *sl, struct store *st, const struct queue_claim *c)
{
	struct worker *w = sl->w;
	enum run_outcome outcome;
	serr e;

	lease_keeper_add(&w->keeper, &sl->lease, c);
	if (run_execute(w->cfg, st, c, &sl->lease, &outcome, &e) < 0 && outcome == RUN_FAILED)
		log_warn("run failed", "run=%s job=%s error=\"%s\"", c->id, c->job, e.msg);
	lease_keeper_remove(&w->keeper, &sl->lease);
	pthread_mutex_lock(&w->mu);
	sl->busy = 0;
	w->running--;
	w->finished[outcome]++;
	pthread_mutex_unlock(&w->mu);
}

static void *slot_main(void *arg)
{
	struct slot *sl = arg;
	struct worker *w = sl->w;
	struct store st;
	serr e;

	if (store_open_like(&st, &w->st, &e) < 0) {
		log_error("worker slot cannot connect to the database", "slot=%d error=\"%s\"",
			  sl->index, e.msg);
		pthread_mutex_lock(&w->mu);
		w->broken++;
		w->slot_err = e;
		pthread_mutex_unlock(&w->mu);
		goto out;
	}
	for (;;) {
		struct queue_claim c;
		unsigned long seen;
		int64_t due = -1, wait;
		int claimed = 0, rc;

		pthread_mutex_lock(&w->mu);
		if (stopping(w)) {
			pthread_mutex_unlock(&w->mu);
			break;
		}
		w->claims++; /* reserved, so max_runs is never overshot */
		seen = w->wake;
		pthread_mutex_unlock(&w->mu);

		rc = queue_claim_next(&st, &w->limits, w->name, w->lease_ms, &c, &claimed, &due, &e);
		if (rc < 0) {
			serr ignored;
			log_warn("cannot claim a run", "error=\"%s\"", e.msg);
			if (store_ensure(&st, &ignored) < 0)
				log_warn("database still unreachable", "error=\"%s\"", ignored.msg);
		}
		pthread_mutex_lock(&w->mu);
		if (rc < 0 || !claimed) {
			w->claims--;
			wait = w->poll_ms;
			if (rc == 0 && due >= 0 && due + 5 < wait)
				wait = due + 5;
			slot_wait(w, seen, wait);
			pthread_mutex_unlock(&w->mu);
			continue;
		}
		if (w->abandoned) {
			/* stopping at once: the main thread did not see this claim */
			pthread_mutex_unlock(&w->mu);
			if (queue_release(&st, &c, "worker stopped at once before the run started",
					  &e) < 0)
				log_error("cannot release a run", "run=%s error=\"%s\"", c.id, e.msg);
			break;
		}
		sl->busy = 1;
		sl->claim = c;
		w->running++;
		pthread_mutex_unlock(&w->mu);
		slot_run(sl, &st, &c);
	}
	store_close(&st);
out:
	pthread_mutex_lock(&w->mu);
	w->alive--;
	pthread_mutex_unlock(&w->mu);
	if (write(w->pipefd[1], "x", 1) < 0) {
		/* the main loop also wakes every tick */
	}
	return NULL;
}

static int worker_setup(struct worker *w, const struct config *cfg, const struct worker_opts *o,
			serr *e)
{
	char host[128];
	pthread_condattr_t ca;

	w->cfg = cfg;
	w->concurrency = o->concurrency > 0 ? o->concurrency : cfg->worker_concurrency;
	w->poll_ms = o->poll_ms > 0 ? o->poll_ms : cfg->queue_poll_ms;
	w->lease_ms = o->lease_ms > 0 ? o->lease_ms : cfg->queue_lease_ms;
	w->max_runs = o->max_runs > 0 ? o->max_runs : 0;
	w->stop = o->stop;
	w->stop_now = o->stop_now;
	w->pipefd[0] = w->pipefd[1] = -1;
	if (w->concurrency < 1 || w->concurrency > WORKER_CONCURRENCY_MAX)
		return serr_set(e, "worker concurrency %d is not between 1 and %d", w->concurrency,
				WORKER_CONCURRENCY_MAX);
	if (w->poll_ms < 10 || w->poll_ms > 3600 * 1000)
		return serr_set(e, "queue.poll_ms %d is not between 10 and 3600000", w->poll_ms);
	if (w->lease_ms < 300 || w->lease_ms > 24 * 3600 * 1000)
		return serr_set(e, "queue.lease_ms %d is not between 300 and 86400000", w->lease_ms);
	if (queue_limits_parse(&w->limits, cfg->queue_max_concurrent, cfg->queue_tag_limits, e) < 0)
		return -1;
	if (o->name && *o->name) {
		if (strlen(o->name) > WORKER_NAME_MAX)
			return serr_set(e, "worker name '%.40s...' is longer than %d characters",
					o->name, WORKER_NAME_MAX);
		snprintf(w->name, sizeof(w->name), "%s", o->name);
	} else {
		if (gethostname(host, sizeof(host)) < 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		snprintf(w->name, sizeof(w->name), "%s:%ld", host, (long)getpid());
	}
	if (pipe(w->pipefd) < 0)
		return serr_set(e, "cannot create the worker's wake-up pipe: %s", strerror(errno));
	if (fcntl(w->pipefd[0], F_SETFL, O_NONBLOCK) < 0 ||
	    fcntl(w->pipefd[1], F_SETFL, O_NONBLOCK) < 0)
		return serr_set(e, "cannot set up the worker's wake-up pipe: %s", strerror(errno));
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	return 0;
}

static int listen_queue(struct worker *w, serr *e)
{
	return store_exec(&w->st, "listen for queued runs", "LISTEN " QUEUE_CHANNEL, 0, NULL, NULL,
			  e);
}

static int start_slots(struct worker *w, serr *e)
{
	sigset_t all, old;
	int rc = 0;

	/* signals are for the main thread, which turns them into stop requests */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (int i = 0; i < w->concurrency; i++) {
		struct slot *sl = &w->slots[i];
		int err;

		sl->w = w;
		sl->index = i;
		pthread_mutex_lock(&w->mu);
		w->alive++;
		pthread_mutex_unlock(&w->mu);
		if ((err = pthread_create(&sl->th, NULL, slot_main, sl)) != 0) {
			pthread_mutex_lock(&w->mu);
			w->alive--;
			pthread_mutex_unlock(&w->mu);
			rc = serr_set(e, "cannot start worker thread %d: %s", i, strerror(err));
			break;
		}
		sl->started = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

static void beat(struct worker *w)
{
	json_t *info;
	char *s = NULL;
	serr e;

	pthread_mutex_lock(&w->mu);
	info = json_pack("{s:i,s:i,s:i,s:b,s:I,s:I,s:I}", "concurrency", w->concurrency, "running",
			 w->running, "claimed", w->claims, "draining", w->draining, "succeeded",
			 (json_int_t)w->finished[RUN_SUCCEEDED], "failed",
			 (json_int_t)w->finished[RUN_FAILED], "retried",
			 (json_int_t)w->finished[RUN_RETRYING]);
	pthread_mutex_unlock(&w->mu);
	if (info)
		s = json_dumps(info, JSON_COMPACT);
	if (heartbeat_beat(&w->st, "worker", w->name, s, &e) < 0)
		log_warn("cannot write the worker heartbeat", "error=\"%s\"", e.msg);
	free(s);
	json_decref(info);
}

/* Wait for the listen socket, the slots' pipe or the timeout; wake slots on a notification. */
static void main_wait(struct worker *w, int64_t ms)
{
	int fd = w->st.conn ? PQsocket(w->st.conn) : -1, maxfd = w->pipefd[0], got = 0;
	struct timeval tv = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000L };
	PGnotify *n;
	fd_set rd;
	char drain[64];

	FD_ZERO(&rd);
	FD_SET(w->pipefd[0], &rd);
	if (fd >= 0) {
		FD_SET(fd, &rd);
		if (fd > maxfd)
			maxfd = fd;
	}
	if (select(maxfd + 1, &rd, NULL, NULL, &tv) <= 0)
		return; /* timeout or a signal */
	if (FD_ISSET(w->pipefd[0], &rd))
		while (read(w->pipefd[0], drain, sizeof(drain)) > 0)
			;
	if (fd >= 0 && FD_ISSET(fd, &rd)) {
		if (!PQconsumeInput(w->st.conn))
			return; /* connection trouble: the main loop reconnects */
		while ((n = PQnotifies(w->st.conn))) {
			got = 1;
			PQfreemem(n);
		}
	}
	if (got) {
		pthread_mutex_lock(&w->mu);
		w->wake++;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
	}
}

static void reap(struct worker *w)
{
	struct queue_reaped r;
	serr e;

	if (queue_reap(&w->st, REAP_LIMIT, &r, &e) < 0) {
		log_warn("cannot reap expired leases", "error=\"%s\"", e.msg);
		return;
	}
	if (r.requeued || r.failed || r.canceled)
		log_warn("reaped runs whose worker stopped renewing their lease",
			 "requeued=%d failed=%d canceled=%d", r.requeued, r.failed, r.canceled);
}

/* Second stop request: give every running run back to the queue and leave. */
static int abandon(struct worker *w)
{
	struct queue_claim held[WORKER_CONCURRENCY_MAX];
	int n = 0, left;
	int64_t until;
	serr e;

	pthread_mutex_lock(&w->mu);
	w->abandoned = 1;
	for (int i = 0; i < w->concurrency; i++)
		if (w->slots[i].busy)
			held[n++] = w->slots[i].claim;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	for (int i = 0; i < n; i++) {
		if (queue_release(&w->st, &held[i], "worker stopped at once; the run goes back to the "
						    "queue for another worker",
				  &e) < 0)
			log_error("cannot release a run; the reaper will re-queue it when its lease "
				  "expires",
				  "run=%s error=\"%s\"", held[i].id, e.msg);
		else
			log_warn("released a running run", "run=%s job=%s", held[i].id, held[i].job);
	}
	until = mono_ms() + ABANDON_WAIT_MS;
	do {
		pthread_mutex_lock(&w->mu);
		left = w->alive;
		pthread_mutex_unlock(&w->mu);
		if (left)
			sleep_ms(10);
	} while (left && mono_ms() < until);
	return left;
}

static void worker_free(struct worker *w, int joined)
{
	pool_warm_stop(&w->warm);
	if (w->keeper_started)
		lease_keeper_stop(&w->keeper);
	store_close(&w->st);
	if (w->pipefd[0] >= 0)
		close(w->pipefd[0]);
	if (w->pipefd[1] >= 0)
		close(w->pipefd[1]);
	if (joined) {
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
	}
	free(w);
}

int worker_main(const struct config *cfg, const struct worker_opts *o, serr *e)
{
	struct worker *w = calloc(1, sizeof(*w));
	int64_t next_reap = 0, next_beat = 0, reap_every;
	int left = 0, rc = -1, ready = 0;
	serr ee;

	if (!w)
		return serr_set(e, "out of memory starting the worker");
	store_init(&w->st);
	pool_warm_init(&w->warm);
	if (worker_setup(w, cfg, o, e) < 0) {
		worker_free(w, 0);
		return -1;
	}
	ready = 1;
	reap_every = w->lease_ms / 2 < 200 ? 200 : w->lease_ms / 2 > 10000 ? 10000 : w->lease_ms / 2;
	if (store_open(&w->st, cfg, e) < 0 || listen_queue(w, e) < 0)
		goto fail;
	if (lease_keeper_start(&w->keeper, &w->st, w->lease_ms, e) < 0)
		goto fail;
	w->keeper_started = 1;
	/* the first ranking in the process would otherwise pay the full pool load */
	if (pool_warm_start(&w->warm, cfg, &w->st, w->stop, w->stop_now, e) < 0)
		goto fail;
	if (start_slots(w, e) < 0)
		goto stop_slots;
	log_info("worker started",
		 "name=%s concurrency=%d poll_ms=%d lease_ms=%d limits=%s pool_refresh_s=%d",
		 w->name, w->concurrency, w->poll_ms, w->lease_ms, w->limits.tags_json,
		 cfg->match_pool_refresh_seconds);
	for (;;) {
		int64_t now = mono_ms(), wait = MAIN_TICK_MS;
		int alive, broken;

		if (w->stop_now && *w->stop_now) {
			log_warn("stopping at once: releasing running runs", "name=%s", w->name);
			left = abandon(w);
			break;
		}
		pthread_mutex_lock(&w->mu);
		if (w->stop && *w->stop && !w->draining) {
			w->draining = 1;
			pthread_cond_broadcast(&w->cv);
			log_info("draining: running runs finish, no new claims", "name=%s running=%d",
				 w->name, w->running);
		}
		alive = w->alive;
		broken = w->broken;
		pthread_mutex_unlock(&w->mu);
		if (broken == w->concurrency) {
			/* no slot could connect: nothing will ever run here */
			serr_set(e, "%s", w->slot_err.msg);
			goto stop_slots;
		}
		if (!alive)
			break;
		if (PQstatus(w->st.conn) != CONNECTION_OK) {
			if (store_ensure(&w->st, &ee) < 0 || listen_queue(w, &ee) < 0)
				log_warn("worker lost its database connection", "error=\"%s\"", ee.msg);
		}
		if (now >= next_reap) {
			reap(w);
			next_reap = now + reap_every;
		}
		if (now >= next_beat) {
			beat(w);
			next_beat = now + HEARTBEAT_INTERVAL_MS;
		}
		if (next_reap - now < wait)
			wait = next_reap - now;
		main_wait(w, wait > 0 ? wait : 1);
	}
	rc = 0;
	pthread_mutex_lock(&w->mu);
	log_info("worker stopped", "name=%s succeeded=%ld failed=%ld retried=%ld canceled=%ld",
		 w->name, w->finished[RUN_SUCCEEDED], w->finished[RUN_FAILED],
		 w->finished[RUN_RETRYING], w->finished[RUN_CANCELED]);
	pthread_mutex_unlock(&w->mu);
	if (heartbeat_remove(&w->st, "worker", w->name, &ee) < 0)
		log_warn("cannot remove the worker heartbeat", "error=\"%s\"", ee.msg);
	goto join;
stop_slots:
	pthread_mutex_lock(&w->mu);
	w->draining = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
join:
	if (left) {
		/* steps still in flight on their threads: leave them to the process exit */
		for (int i = 0; i < w->concurrency; i++)
			if (w->slots[i].started)
				pthread_detach(w->slots[i].th);
		pool_warm_abandon(&w->warm);
		store_close(&w->st);
		log_warn("left running steps behind; their runs were released", "threads=%d", left);
		return rc;
	}
	for (int i = 0; i < w->concurrency; i++)
		if (w->slots[i].started)
			pthread_join(w->slots[i].th, NULL);
	worker_free(w, ready);
	return rc;
fail:
	worker_free(w, ready);
	return -1;
}
