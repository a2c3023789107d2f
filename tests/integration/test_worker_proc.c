/*
 * Integration tests of workers as separate processes sharing one real
 * PostgreSQL database: a worker killed with SIGKILL mid-run loses nothing
 * and the run completes exactly once on another worker; a worker frozen
 * past its lease never records the end of a run another worker took; a
 * per-tag limit holds across processes; and `scout worker` (the real
 * binary) drains on SIGTERM and releases its run on a second signal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/config.h"
#include "core/log.h"
#include "core/util.h"
#include "orchestrator/context.h"
#include "orchestrator/job.h"
#include "orchestrator/test_jobs.h"
#include "orchestrator/worker.h"
#include "store/queue.h"
#include "support/harness_db.h"

#define WAIT_MS 30000

extern char **environ;

static char scout_bin[PATH_MAX];

struct fx {
	struct store st;
	struct config cfg;
	struct buf url;
	char name[48];
	char home[PATH_MAX];
};

static int64_t tag_int(struct job_ctx *c, const char *tag, int64_t def, serr *e)
{
	const char *p[2] = { c->run_id, tag };
	int64_t v = def;

	if (store_query_i64(c->store, "read a tag",
			    "SELECT coalesce((tags->>$2)::bigint, -1) FROM runs WHERE id = $1::uuid", 2,
			    p, &v, e) < 0)
		return -1;
	return v < 0 ? def : v;
}

static int mark(struct job_ctx *c, const char *phase, serr *e)
{
	char pid[24];
	const char *p[3] = { c->run_id, phase, pid };

	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	return store_exec(c->store, "mark a test step",
			  "INSERT INTO q_marks (run_id, phase, pid) VALUES ($1::uuid, $2, $3::int)", 3,
			  p, NULL, e);
}

static int step_slow(struct job_ctx *c, serr *e)
{
	int64_t ms;

	if (mark(c, "start", e) < 0 || (ms = tag_int(c, "sleep_ms", 2000, e)) < 0)
		return -1;
	sleep_ms(ms);
	return mark(c, "done", e);
}

/* Counts the runs inside the step at once; the peak is what the limit must bound. */
static int step_limited(struct job_ctx *c, serr *e)
{
	if (store_exec(c->store, "enter", "UPDATE q_conc SET cur = cur + 1,"
					  " peak = greatest(peak, cur + 1)",
		       0, NULL, NULL, e) < 0)
		return -1;
	sleep_ms(150);
	return store_exec(c->store, "leave", "UPDATE q_conc SET cur = cur - 1", 0, NULL, NULL, e);
}

static const struct job_def p_defs[] = {
	{ .name = "p_slow", .description = "marks its start, sleeps, marks its end",
	  .partitioning = PART_NONE, .max_retries = 2, .steps = { { "work", step_slow } } },
	{ .name = "p_limited", .description = "counts how many run at once",
	  .partitioning = PART_NONE, .tags = "limited", .steps = { { "work", step_limited } } },
};

static void cfg_set(struct config *c, const char *k, const char *v)
{
	serr e;

	if (config_set(c, k, v, &e) < 0)
		fail_msg("%s", e.msg);
}

static void sql(struct fx *f, const char *q)
{
	serr e;

	if (store_exec(&f->st, "run a test statement", q, 0, NULL, NULL, &e) < 0)
		fail_msg("%s", e.msg);
}

static int64_t count(struct fx *f, const char *q, const char *p1)
{
	const char *p[1] = { p1 };
	int64_t n = -1;
	serr e;

	if (store_query_i64(&f->st, "count", q, p1 ? 1 : 0, p1 ? p : NULL, &n, &e) < 0)
		fail_msg("%s", e.msg);
	return n;
}

static void wait_count(struct fx *f, const char *q, const char *p1, int64_t want)
{
	int64_t until = mono_ms() + WAIT_MS, n = -1;

	while (mono_ms() < until) {
		if ((n = count(f, q, p1)) == want)
			return;
		sleep_ms(20);
	}
	fail_msg("waited %d ms for %lld from: %s (last %lld)", WAIT_MS, (long long)want, q,
		 (long long)n);
}

static struct fx *fx_new(const char *name)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *root = getenv("SCOUT_TEST_HOME");
	char conf[PATH_MAX + 16];
	FILE *c;
	serr e;

	assert_non_null(f);
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(f->home, sizeof(f->home), "%s/%s", root && *root ? root : "/tmp", name);
	mkdir(f->home, 0755);
	buf_init(&f->url, 0);
	if (harness_db_create(name, &f->url, &e) < 0)
		fail_msg("%s", e.msg);
	store_init(&f->st);
	if (store_open_url(&f->st, buf_cstr(&f->url), &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(config_init(&f->cfg, &e), 0);
	cfg_set(&f->cfg, "database.url", buf_cstr(&f->url));
	cfg_set(&f->cfg, "queue.poll_ms", "50");
	cfg_set(&f->cfg, "queue.lease_ms", "1000");
	cfg_set(&f->cfg, "home", f->home);
	/* the same settings for `scout worker` */
	snprintf(conf, sizeof(conf), "%s/scout.conf", f->home);
	c = fopen(conf, "w");
	assert_non_null(c);
	fprintf(c, "queue.poll_ms = 50\nqueue.lease_ms = 3000\nlog.level = info\n");
	fclose(c);
	sql(f, "CREATE TABLE q_marks (run_id uuid, phase text, pid int,"
	       " at timestamptz DEFAULT clock_timestamp())");
	sql(f, "CREATE TABLE q_conc (cur int NOT NULL, peak int NOT NULL)");
	sql(f, "INSERT INTO q_conc VALUES (0, 0)");
	return f;
}

static void fx_free(struct fx *f)
{
	serr e;

	store_close(&f->st);
	if (harness_db_drop(f->name, &e) < 0)
		print_error("%s\n", e.msg);
	config_free(&f->cfg);
	buf_free(&f->url);
	free(f);
}

static void enqueue(struct fx *f, const char *job, const char *part, const char *tags,
		    struct buf *id)
{
	struct run_request r = { .job = job, .partition_key = part, .tags_json = tags };
	int created = 0;
	serr e;

	if (queue_enqueue(&f->st, &r, id, &created, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(created, 1);
}

static volatile sig_atomic_t child_stop, child_stop_now;

static void child_signal(int sig)
{
	(void)sig;
	if (child_stop)
		child_stop_now = 1;
	child_stop = 1;
}

/* A worker in a child process of this test (it inherits the registered jobs). */
static pid_t fork_worker(struct fx *f, const char *name, int concurrency)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct worker_opts o;
		struct sigaction sa;
		serr e;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = child_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		worker_opts_init(&o);
		o.name = name;
		o.concurrency = concurrency;
		o.stop = &child_stop;
		o.stop_now = &child_stop_now;
		if (worker_main(&f->cfg, &o, &e) < 0) {
			fprintf(stderr, "worker %s: %s\n", name, e.msg);
			_exit(1);
		}
		_exit(0);
	}
	return pid;
}

/* Exit status of pid, waiting at most WAIT_MS (then it is killed and the test fails). */
static int wait_exit(pid_t pid)
{
	int64_t until = mono_ms() + WAIT_MS;
	int st;

	while (mono_ms() < until) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		sleep_ms(20);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	fail_msg("process %ld did not exit within %d ms", (long)pid, WAIT_MS);
	return -1;
}

static void stop_worker(pid_t pid)
{
	kill(pid, SIGTERM);
	assert_int_equal(wait_exit(pid), 0);
}

static void a_killed_worker_loses_no_run_and_another_completes_it_once(void **state)
{
	struct fx *f = fx_new("proc_sigkill");
	char pid_a[24], pid_b[24];
	struct buf id;
	pid_t a, b;
	int st;

	(void)state;
	buf_init(&id, 64);
	enqueue(f, "p_slow", NULL, "{\"sleep_ms\": 3000}", &id);
	a = fork_worker(f, "proc-a", 1);
	wait_count(f, "SELECT count(*) FROM q_marks WHERE phase = 'start'", NULL, 1);
	/* mid-step: no done mark yet */
	assert_int_equal(count(f, "SELECT count(*) FROM q_marks WHERE phase = 'done'", NULL), 0);
	kill(a, SIGKILL);
	waitpid(a, &st, 0);
	b = fork_worker(f, "proc-b", 1);
	wait_count(f, "SELECT count(*) FROM runs WHERE status = 'SUCCESS'", NULL, 1);
	stop_worker(b);
	snprintf(pid_a, sizeof(pid_a), "%ld", (long)a);
	snprintf(pid_b, sizeof(pid_b), "%ld", (long)b);
	/* exactly one completed execution, by the second worker */
	assert_int_equal(count(f, "SELECT count(*) FROM q_marks WHERE phase = 'done'", NULL), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM q_marks WHERE phase = 'done'"
				  " AND pid = $1::int",
			       pid_b),
			 1);
	assert_int_equal(count(f, "SELECT count(*) FROM q_marks WHERE phase = 'start'"
				  " AND pid = $1::int",
			       pid_a),
			 1);
	assert_int_equal(count(f, "SELECT count(*) FROM run_events WHERE type = 'RUN_SUCCESS'", NULL),
			 1);
	assert_int_equal(count(f, "SELECT count(*) FROM run_attempts WHERE attempt = 1"
				  " AND status = 'LOST' AND worker = 'proc-a'",
			       NULL),
			 1);
	assert_int_equal(count(f, "SELECT count(*) FROM run_attempts WHERE attempt = 2"
				  " AND status = 'SUCCESS' AND worker = 'proc-b'",
			       NULL),
			 1);
	assert_int_equal(count(f, "SELECT count(*) FROM run_events WHERE type = 'RUN_RETRY'"
				  " AND message LIKE 'the lease of worker ''proc-a'' expired%'",
			       NULL),
			 1);
	buf_free(&id);
	fx_free(f);
}

static void a_worker_frozen_past_its_lease_never_records_the_end(void **state)
{
	struct fx *f = fx_new("proc_sigstop");
	struct buf id;
	pid_t a, b;

	(void)state;
	buf_init(&id, 64);
	enqueue(f, "p_slow", NULL, "{\"sleep_ms\": 1500}", &id);
	a = fork_worker(f, "frozen", 1);
	wait_count(f, "SELECT count(*) FROM q_marks WHERE phase = 'start'", NULL, 1);
	kill(a, SIGSTOP);
	b = fork_worker(f, "thawed", 1);
	wait_count(f, "SELECT count(*) FROM runs WHERE status = 'SUCCESS'", NULL, 1);
	stop_worker(b);
	/* the frozen worker wakes, finishes its step, and must not record anything */
	kill(a, SIGCONT);
	wait_count(f, "SELECT count(*) FROM q_marks WHERE phase = 'done'", NULL, 2);
	stop_worker(a); /* drains: its run's end is attempted before it exits */
	assert_int_equal(count(f, "SELECT count(*) FROM run_events WHERE type = 'RUN_SUCCESS'", NULL),
			 1);
	assert_int_equal(count(f, "SELECT count(*) FROM run_events WHERE type IN ('RUN_FAILURE',"
				  " 'RUN_CANCELED')",
			       NULL),
			 0);
	assert_int_equal(count(f, "SELECT count(*) FROM runs WHERE status = 'SUCCESS' AND attempt = 2"
				  " AND worker = 'thawed' AND lease_owner IS NULL",
			       NULL),
			 1);
	assert_int_equal(count(f, "SELECT count(*) FROM run_attempts WHERE (attempt = 1"
				  " AND status = 'LOST' AND worker = 'frozen') OR (attempt = 2"
				  " AND status = 'SUCCESS' AND worker = 'thawed')",
			       NULL),
			 2);
	assert_int_equal(count(f, "SELECT count(*) FROM run_attempts", NULL), 2);
	buf_free(&id);
	fx_free(f);
}

static void a_limit_of_two_per_tag_holds_across_worker_processes(void **state)
{
	struct fx *f = fx_new("proc_limits");
	const char *names[4] = { "lim-0", "lim-1", "lim-2", "lim-3" };
	struct buf id;
	pid_t w[4];
	serr e;

	(void)state;
	buf_init(&id, 64);
	cfg_set(&f->cfg, "queue.tag_limits", "limited=2");
	cfg_set(&f->cfg, "queue.max_concurrent_runs", "0");
	/*
	 * Four processes of one slot each compete for two: a peak of two can
	 * only come from two processes at once, and without the limit the
	 * peak would reach four.
	 */
	for (int i = 0; i < 4; i++)
		w[i] = fork_worker(f, names[i], 1);
	wait_count(f, "SELECT count(*) FROM heartbeats WHERE component = 'worker'", NULL, 4);
	assert_int_equal(store_begin(&f->st, &e), 0);
	for (int i = 0; i < 16; i++)
		enqueue(f, "p_limited", NULL, NULL, &id);
	assert_int_equal(store_commit(&f->st, &e), 0);
	wait_count(f, "SELECT count(*) FROM runs WHERE status = 'SUCCESS'", NULL, 16);
	for (int i = 0; i < 4; i++)
		stop_worker(w[i]);
	assert_int_equal(count(f, "SELECT peak FROM q_conc", NULL), 2);
	assert_int_equal(count(f, "SELECT cur FROM q_conc", NULL), 0);
	assert_true(count(f, "SELECT count(DISTINCT worker) FROM run_attempts", NULL) >= 2);
	buf_free(&id);
	fx_free(f);
}

/* `scout worker ARGS` with the test's database and settings; output in a log file. */
static pid_t spawn_scout_worker(struct fx *f, const char *log)
{
	static const char *const drop[] = { "DATABASE_URL=", "SCOUT_" };
	char *argv[] = { scout_bin, "worker", "--concurrency", "2", "--name", "bin-worker", NULL };
	char dburl[4096], home[PATH_MAX + 16], conf[PATH_MAX + 32];
	char **env;
	size_t n = 0, k = 0;
	pid_t pid;
	int fd;

	while (environ[n])
		n++;
	env = calloc(n + 8, sizeof(*env));
	assert_non_null(env);
	for (size_t i = 0; environ[i]; i++) {
		int keep = 1;
		for (size_t d = 0; d < sizeof(drop) / sizeof(drop[0]); d++)
			if (strncmp(environ[i], drop[d], strlen(drop[d])) == 0)
				keep = 0;
		if (keep)
			env[k++] = environ[i];
	}
	snprintf(dburl, sizeof(dburl), "DATABASE_URL=%s", buf_cstr(&f->url));
	snprintf(home, sizeof(home), "SCOUT_HOME=%s", f->home);
	snprintf(conf, sizeof(conf), "SCOUT_CONFIG=%s/scout.conf", f->home);
	env[k++] = dburl;
	env[k++] = home;
	env[k++] = conf;
	env[k++] = "SCOUT_TEST_JOBS=1";
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		execve(scout_bin, argv, env);
		_exit(127);
	}
	close(fd);
	free(env);
	return pid;
}

static void print_file(const char *path)
{
	char line[1024];
	FILE *l = fopen(path, "r");

	if (!l)
		return;
	while (fgets(line, sizeof(line), l))
		print_error("%s", line);
	fclose(l);
}

static void sigterm_drains_the_running_run_and_claims_nothing_more(void **state)
{
	struct fx *f = fx_new("proc_drain");
	struct buf slow, late;
	char log[PATH_MAX + 16];
	pid_t w;
	int rc;

	(void)state;
	buf_init(&slow, 64);
	buf_init(&late, 64);
	snprintf(log, sizeof(log), "%s/worker.log", f->home);
	w = spawn_scout_worker(f, log);
	enqueue(f, TEST_JOB_SLEEP, "recSlow", "{\"sleep_ms\": \"1500\"}", &slow);
	wait_count(f, "SELECT count(*) FROM runs WHERE status = 'STARTED'", NULL, 1);
	wait_count(f, "SELECT count(*) FROM heartbeats WHERE name = 'bin-worker'", NULL, 1);
	kill(w, SIGTERM);
	/* queued after the signal: must stay queued although a slot is free */
	enqueue(f, TEST_JOB_NOOP, "recLate", NULL, &late);
	rc = wait_exit(w);
	if (rc != 0)
		print_file(log);
	assert_int_equal(rc, 0);
	assert_int_equal(count(f, "SELECT count(*) FROM runs WHERE id = $1::uuid"
				  " AND status = 'SUCCESS'",
			       slow.data),
			 1);
	assert_int_equal(count(f, "SELECT count(*) FROM runs WHERE id = $1::uuid"
				  " AND status = 'QUEUED'",
			       late.data),
			 1);
	assert_int_equal(count(f, "SELECT count(*) FROM run_attempts WHERE run_id = $1::uuid",
			       late.data),
			 0);
	assert_int_equal(count(f, "SELECT count(*) FROM heartbeats WHERE name = 'bin-worker'", NULL),
			 0);
	buf_free(&slow);
	buf_free(&late);
	fx_free(f);
}

static void a_second_signal_releases_the_running_run_and_exits(void **state)
{
	struct fx *f = fx_new("proc_stop_now");
	char log[PATH_MAX + 16];
	struct buf id;
	pid_t w;
	int rc;

	(void)state;
	buf_init(&id, 64);
	snprintf(log, sizeof(log), "%s/worker.log", f->home);
	w = spawn_scout_worker(f, log);
	/* far longer than the wait below: exiting proves the step was left behind */
	enqueue(f, TEST_JOB_SLEEP, "recLong", "{\"sleep_ms\": \"600000\"}", &id);
	wait_count(f, "SELECT count(*) FROM runs WHERE status = 'STARTED'", NULL, 1);
	kill(w, SIGTERM);
	sleep_ms(100);
	kill(w, SIGINT);
	rc = wait_exit(w);
	if (rc != 0)
		print_file(log);
	assert_int_equal(rc, 0);
	assert_int_equal(count(f, "SELECT count(*) FROM runs WHERE status = 'QUEUED' AND attempt = 1"
				  " AND lease_owner IS NULL",
			       NULL),
			 1);
	assert_int_equal(count(f, "SELECT count(*) FROM run_attempts WHERE status = 'RELEASED'", NULL),
			 1);
	assert_int_equal(count(f, "SELECT count(*) FROM run_events WHERE type = 'RUN_RELEASED'", NULL),
			 1);
	buf_free(&id);
	fx_free(f);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_killed_worker_loses_no_run_and_another_completes_it_once),
		cmocka_unit_test(a_worker_frozen_past_its_lease_never_records_the_end),
		cmocka_unit_test(a_limit_of_two_per_tag_holds_across_worker_processes),
		cmocka_unit_test(sigterm_drains_the_running_run_and_claims_nothing_more),
		cmocka_unit_test(a_second_signal_releases_the_running_run_and_exits),
	};
	char self[PATH_MAX];
	char *cut;
	serr e;

	(void)argc;
	/* BUILD/tests/integration/test_worker_proc -> BUILD/scout */
	if (!realpath(argv[0], self))
		return 1;
	for (int i = 0; i < 3 && (cut = strrchr(self, '/')); i++)
		*cut = '\0';
	snprintf(scout_bin, sizeof(scout_bin), "%s/scout", self);
	log_set_level(LOG_WARN);
	if (test_jobs_register(&e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	for (size_t i = 0; i < sizeof(p_defs) / sizeof(p_defs[0]); i++) {
		if (job_defs_register(&p_defs[i], &e) < 0) {
			fprintf(stderr, "%s\n", e.msg);
			return 1;
		}
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
