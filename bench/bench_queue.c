/*
 * Queue overhead: no-op runs per second executed by 4 worker processes
 * sharing one database (goal: at least 500/s on a 2-core machine), first
 * without concurrency limits, then with a tag limit and a global limit in
 * force (every claim then counts running runs under the claim lock).
 * Reported as a ratio of the goal and against a baseline measured in the
 * same run: bare INSERT+UPDATE round-trip pairs per second from 4
 * connections, the least a run could cost (create it, mark it done).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/config.h"
#include "core/log.h"
#include "core/util.h"
#include "orchestrator/job.h"
#include "orchestrator/worker.h"
#include "store/queue.h"
#include "store/store.h"
#include "support/harness_db.h"

#define WORKERS 4
#define GOAL 500.0
#define DB "bench_queue"
#define WAIT_MS (10 * 60 * 1000)

static int step_nothing(struct job_ctx *ctx, serr *e)
{
	(void)ctx;
	(void)e;
	return 0;
}

static const struct job_def bench_def = {
	.name = "bench_noop",
	.description = "benchmark only: a run with one step that does nothing",
	.partitioning = PART_NONE,
	.tags = "bench",
	.steps = { { "nothing", step_nothing } },
};

struct base_thread {
	const char *url;
	int pairs;
	int failed;
	serr e;
};

/* The baseline: INSERT a row, UPDATE it, as two autocommit round trips. */
static void *base_main(void *p)
{
	struct base_thread *t = p;
	struct store st;
	PGresult *r = NULL;

	if (store_open_url(&st, t->url, &t->e) < 0) {
		t->failed = 1;
		return NULL;
	}
	for (int i = 0; i < t->pairs; i++) {
		const char *id[1];
		if (store_exec(&st, "insert a baseline row",
			       "INSERT INTO bench_base (status) VALUES ('QUEUED') RETURNING id::text", 0,
			       NULL, &r, &t->e) < 0) {
			t->failed = 1;
			break;
		}
		id[0] = PQgetvalue(r, 0, 0);
		if (store_exec(&st, "update a baseline row",
			       "UPDATE bench_base SET status = 'SUCCESS', ended_at = now()"
			       " WHERE id = $1::uuid",
			       1, id, NULL, &t->e) < 0) {
			t->failed = 1;
			break;
		}
		PQclear(r);
		r = NULL;
	}
	PQclear(r);
	store_close(&st);
	return NULL;
}

static double baseline(const char *url, int runs, serr *e)
{
	struct base_thread t[WORKERS];
	pthread_t th[WORKERS];
	int64_t t0;
	double secs;

	t0 = mono_ms();
	for (int i = 0; i < WORKERS; i++) {
		memset(&t[i], 0, sizeof(t[i]));
		t[i].url = url;
		t[i].pairs = runs / WORKERS;
		if (pthread_create(&th[i], NULL, base_main, &t[i]) != 0) {
			serr_set(e, "cannot start a baseline thread");
			return -1;
		}
	}
	for (int i = 0; i < WORKERS; i++)
		pthread_join(th[i], NULL);
	secs = (double)(mono_ms() - t0) / 1000.0;
	for (int i = 0; i < WORKERS; i++)
		if (t[i].failed) {
			*e = t[i].e;
			return -1;
		}
	return secs > 0 ? (double)(runs / WORKERS * WORKERS) / secs : -1;
}

static volatile sig_atomic_t child_stop;

static void on_term(int sig)
{
	(void)sig;
	child_stop = 1;
}

static pid_t fork_worker(const struct config *cfg, int i)
{
	pid_t pid;

	fflush(NULL);
	if ((pid = fork()) == 0) {
		struct worker_opts o;
		char name[32];
		serr e;

		signal(SIGTERM, on_term);
		snprintf(name, sizeof(name), "bench-%d", i);
		worker_opts_init(&o);
		o.name = name;
		o.concurrency = 1;
		o.stop = &child_stop;
		if (worker_main(cfg, &o, &e) < 0) {
			fprintf(stderr, "bench: worker: %s\n", e.msg);
			_exit(1);
		}
		_exit(0);
	}
	return pid;
}

static int64_t query_i64(struct store *st, const char *sql, serr *e, int *ok)
{
	int64_t v = 0;

	if (store_query_i64(st, "measure", sql, 0, NULL, &v, e) < 0)
		*ok = 0;
	return v;
}

/* Queue `runs` runs, let 4 worker processes execute them; runs/s from the database's clock. */
static double round_of(struct store *st, const struct config *cfg, int runs, double *enq_rate,
		       serr *e)
{
	struct run_request rq = { .job = bench_def.name };
	pid_t pids[WORKERS];
	struct buf id;
	int64_t t0, until, done = 0, span_ms;
	int created, ok = 1, started = 0;
	double rate = -1;

	buf_init(&id, 64);
	if (store_exec(st, "clear", "DELETE FROM runs", 0, NULL, NULL, e) < 0)
		goto out;
	t0 = mono_ms();
	if (store_begin(st, e) < 0)
		goto out;
	for (int i = 0; i < runs; i++) {
		if (queue_enqueue(st, &rq, &id, &created, e) < 0) {
			store_rollback(st);
			goto out;
		}
	}
	if (store_commit(st, e) < 0)
		goto out;
	*enq_rate = (double)runs * 1000.0 / (double)(mono_ms() - t0 > 0 ? mono_ms() - t0 : 1);
	for (int i = 0; i < WORKERS; i++) {
		if ((pids[i] = fork_worker(cfg, i)) < 0) {
			serr_set(e, "cannot fork a worker");
			goto stop;
		}
		started++;
	}
	until = mono_ms() + WAIT_MS;
	while (mono_ms() < until) {
		done = query_i64(st, "SELECT count(*) FROM runs WHERE status = 'SUCCESS'", e, &ok);
		if (!ok || done == runs)
			break;
		sleep_ms(100);
	}
	if (!ok)
		goto stop;
	if (done != runs) {
		serr_set(e, "only %lld of %d runs succeeded in %d s", (long long)done, runs,
			 WAIT_MS / 1000);
		goto stop;
	}
	/* from the first claim to the last recorded end, by the database's clock */
	span_ms = query_i64(st,
			    "SELECT ceil(extract(epoch FROM max(ended_at) - min(started_at)) * 1000)"
			    "::bigint FROM run_attempts",
			    e, &ok);
	if (ok && query_i64(st, "SELECT count(*) FROM run_attempts WHERE status <> 'SUCCESS'", e,
			    &ok) != 0 && ok) {
		serr_set(e, "some attempts did not succeed");
		goto stop;
	}
	if (ok && span_ms > 0)
		rate = (double)runs * 1000.0 / (double)span_ms;
stop:
	for (int i = 0; i < started; i++)
		kill(pids[i], SIGTERM);
	for (int i = 0; i < started; i++)
		waitpid(pids[i], NULL, 0);
out:
	buf_free(&id);
	return rate;
}

static int set(struct config *c, const char *k, const char *v)
{
	serr e;

	if (config_set(c, k, v, &e) < 0) {
		fprintf(stderr, "bench: %s\n", e.msg);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int runs = 4000, rc = 1;
	struct config cfg;
	struct store st;
	struct buf url;
	double base, base2, free_rate, limited_rate, enq_free = 0, enq_limited = 0;
	serr e;

	if (argc > 1 && parse_int(argv[1], WORKERS, 1000000, &runs) < 0) {
		fprintf(stderr, "usage: bench_queue [RUNS]\n");
		return 2;
	}
	log_set_level(LOG_ERROR);
	buf_init(&url, 0);
	store_init(&st);
	if (config_init(&cfg, &e) < 0 || job_defs_register(&bench_def, &e) < 0)
		goto fail;
	if (harness_db_create(DB, &url, &e) < 0 || store_open_url(&st, buf_cstr(&url), &e) < 0)
		goto fail;
	if (set(&cfg, "database.url", buf_cstr(&url)) < 0 || set(&cfg, "queue.poll_ms", "50") < 0)
		goto out;
	if (store_exec(&st, "create the baseline table",
		       "CREATE TABLE bench_base (id uuid PRIMARY KEY DEFAULT gen_random_uuid(),"
		       " status text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),"
		       " ended_at timestamptz)",
		       0, NULL, NULL, &e) < 0)
		goto fail;
	if ((base = baseline(buf_cstr(&url), runs, &e)) < 0)
		goto fail;
	if (set(&cfg, "queue.max_concurrent_runs", "0") < 0 || set(&cfg, "queue.tag_limits", "") < 0)
		goto out;
	if ((free_rate = round_of(&st, &cfg, runs, &enq_free, &e)) < 0)
		goto fail;
	/* the machine's load changes: measure the baseline again next to each round */
	if ((base2 = baseline(buf_cstr(&url), runs, &e)) < 0)
		goto fail;
	if (set(&cfg, "queue.max_concurrent_runs", "16") < 0 ||
	    set(&cfg, "queue.tag_limits", "bench=4,llm=8,airtable=4") < 0)
		goto out;
	if ((limited_rate = round_of(&st, &cfg, runs, &enq_limited, &e)) < 0)
		goto fail;
	printf("queue: %d no-op runs, %d worker processes (1 run each at a time)\n", runs, WORKERS);
	printf("no limits:      %.0f runs/s = %.2f of the %.0f runs/s goal (goal >= 1.00)\n",
	       free_rate, free_rate / GOAL, GOAL);
	printf("with limits:    %.0f runs/s = %.2f of the goal (tag limit bench=4, global 16)\n",
	       limited_rate, limited_rate / GOAL);
	printf("baseline:       %.0f and %.0f bare INSERT+UPDATE pairs/s from %d connections "
	       "(before each round); a queued run costs %.1f pairs (no limits) / %.1f pairs "
	       "(limits)\n",
	       base, base2, WORKERS, base / free_rate, base2 / limited_rate);
	printf("enqueue:        %.0f runs/s queued in one transaction (%.0f with limits)\n", enq_free,
	       enq_limited);
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "bench: %s\n", e.msg);
out:
	store_close(&st);
	if (url.len && harness_db_drop(DB, &e) < 0)
		fprintf(stderr, "bench: %s\n", e.msg);
	config_free(&cfg);
	buf_free(&url);
	return rc;
}
