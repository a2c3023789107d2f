/*
 * Integration tests of `scout daemon`, run as the real binary (with the
 * test jobs of SCOUT_TEST_JOBS=1) against a per-test database and the
 * simulator: a drain lets the running run finish and claims nothing more;
 * a second signal stops at once and the run is queued again; a killed
 * worker is restarted; SIGHUP applies a new configuration; two daemons on
 * one database tick a sensor once per interval.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "orchestrator/test_jobs.h"
#include "store/queue.h"
#include "store/runs.h"
#include "store/store.h"
#include "support/harness_db.h"
#include "support/harness_sim.h"

#define WAIT_MS 60000 /* failure guard of every wait; never a measurement */

extern char **environ;

static char scout_bin[PATH_MAX];

struct fx {
	char name[48];
	char home[512];
	char conf[600];
	struct store st;
	struct buf url;
	struct sim *sim;
};

struct daemon_proc {
	pid_t pid;
	char log[640];
};

static void exec_sql(struct fx *f, const char *sql)
{
	serr e;

	if (store_exec(&f->st, "run test SQL", sql, 0, NULL, NULL, &e) < 0)
		fail_msg("%s", e.msg);
}

static void write_conf(struct fx *f, const char *extra)
{
	FILE *c = fopen(f->conf, "w");

	assert_non_null(c);
	fputs("queue.poll_ms = 200\n"
	      "queue.lease_ms = 3000\n"
	      "worker.concurrency = 1\n"
	      "daemon.restart_backoff_ms = 200\n"
	      "daemon.kill_after_ms = 5000\n"
	      "sensor.lease_s = 3\n",
	      c);
	if (extra)
		fputs(extra, c);
	assert_int_equal(fclose(c), 0);
}

static struct fx *fx_new(const char *name)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct harness_sim_opts so;
	const char *root = getenv("SCOUT_TEST_HOME");
	serr e;

	assert_non_null(f);
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(f->home, sizeof(f->home), "%s/%s", root && *root ? root : "/tmp", name);
	mkdir(f->home, 0755);
	snprintf(f->conf, sizeof(f->conf), "%s/scout.conf", f->home);
	write_conf(f, NULL);
	harness_sim_opts_init(&so);
	f->sim = harness_sim_start(&so);
	assert_non_null(f->sim);
	buf_init(&f->url, 0);
	if (harness_db_create(name, &f->url, &e) < 0)
		fail_msg("%s", e.msg);
	store_init(&f->st);
	if (store_open_url(&f->st, buf_cstr(&f->url), &e) < 0)
		fail_msg("%s", e.msg);
	/* only the test sensor may request runs here */
	exec_sql(f, "INSERT INTO sensor_state (name, enabled) VALUES"
		    " ('airtable_candidate_sensor', false), ('airtable_job_sensor', false)"
		    " ON CONFLICT (name) DO UPDATE SET enabled = false");
	return f;
}

static void fx_free(struct fx *f)
{
	serr e;

	store_close(&f->st);
	if (harness_db_drop(f->name, &e) < 0)
		print_error("%s\n", e.msg);
	harness_sim_stop(f->sim);
	buf_free(&f->url);
	free(f);
}

/* The environment minus scout's variables, plus the test's. */
static char **daemon_env(struct fx *f, const char *const *extra, struct buf *store)
{
	static const char *const drop[] = { "DATABASE_URL=", "SCOUT_", "AIRTABLE_", "NOTION_",
					    "OPENROUTER_" };
	size_t n = 0, k = 0, off[8], nset = 0;
	char **env;

	buf_reset(store);
	/* NUL-separated values in one buffer, pointed into once it stops growing */
#define ADD(...)                                                                  \
	do {                                                                      \
		off[nset++] = store->len;                                         \
		assert_int_equal(buf_printf(store, __VA_ARGS__), 0);              \
		assert_int_equal(buf_putc(store, '\0'), 0);                       \
	} while (0)
	ADD("DATABASE_URL=%s", buf_cstr(&f->url));
	ADD("SCOUT_HOME=%s", f->home);
	ADD("SCOUT_CONFIG=%s", f->conf);
	ADD("AIRTABLE_API_URL=%s", sim_url(f->sim));
	ADD("NOTION_API_URL=%s", sim_url(f->sim));
#undef ADD
	while (environ[n])
		n++;
	for (const char *const *x = extra; x && *x; x++)
		n++;
	env = calloc(n + nset + 8, sizeof(*env));
	assert_non_null(env);
	for (size_t i = 0; environ[i]; i++) {
		int keep = 1;

		for (size_t d = 0; d < sizeof(drop) / sizeof(drop[0]); d++)
			if (strncmp(environ[i], drop[d], strlen(drop[d])) == 0)
				keep = 0;
		if (keep)
			env[k++] = environ[i];
	}
	for (size_t i = 0; i < nset; i++)
		env[k++] = store->data + off[i];
	env[k++] = "SCOUT_TEST_JOBS=1";
	env[k++] = "AIRTABLE_API_KEY=" HARNESS_SIM_KEY;
	env[k++] = "AIRTABLE_BASE_ID=" HARNESS_SIM_BASE;
	env[k++] = "NOTION_API_KEY=" HARNESS_SIM_KEY;
	for (const char *const *x = extra; x && *x; x++)
		env[k++] = (char *)*x;
	return env;
}

/* Start `scout daemon ARGS...` (NULL-terminated), its stderr in a log file. */
static void daemon_spawn(struct fx *f, struct daemon_proc *d, const char *tag,
			 const char *const *extra_env, const char *a1, const char *a2)
{
	char *argv[] = { scout_bin, "daemon", (char *)a1, (char *)a2, NULL };
	struct buf store;
	char **env;
	int fd;

	buf_init(&store, 0);
	env = daemon_env(f, extra_env, &store);
	snprintf(d->log, sizeof(d->log), "%s/daemon-%s.log", f->home, tag);
	fd = open(d->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	d->pid = fork();
	assert_true(d->pid >= 0);
	if (d->pid == 0) {
		dup2(fd, 1);
		dup2(fd, 2);
		execve(scout_bin, argv, env);
		_exit(127);
	}
	close(fd);
	free(env);
	buf_free(&store);
}

static void print_log(const struct daemon_proc *d)
{
	char line[1024];
	FILE *l = fopen(d->log, "r");

	if (!l)
		return;
	print_error("--- %s\n", d->log);
	while (fgets(line, sizeof(line), l))
		print_error("%s", line);
	fclose(l);
}

/* Exit status of the daemon, or -1 when it did not end within WAIT_MS (it is then killed). */
static int daemon_wait(struct daemon_proc *d)
{
	int64_t until = mono_ms() + WAIT_MS;
	int st;

	while (mono_ms() < until) {
		pid_t r = waitpid(d->pid, &st, WNOHANG);

		if (r == d->pid) {
			d->pid = 0;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
		sleep_ms(50);
	}
	kill(d->pid, SIGKILL);
	waitpid(d->pid, &st, 0);
	d->pid = 0;
	print_log(d);
	return -1;
}

static void daemon_stop(struct daemon_proc *d)
{
	if (d->pid <= 0)
		return;
	kill(d->pid, SIGTERM);
	if (daemon_wait(d) != 0)
		print_log(d);
}

static void enqueue(struct fx *f, const char *job, const char *tags, struct buf *id)
{
	struct run_request r = { job, NULL, NULL, tags, 0, NULL, 0 };
	int created = 0;
	serr e;

	if (queue_enqueue(&f->st, &r, id, &created, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(created, 1);
}

static void run_status(struct fx *f, const char *id, char *out, size_t n)
{
	struct run_list l;
	serr e;

	run_list_init(&l);
	if (runs_get(&f->st, id, &l, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(l.n, 1);
	snprintf(out, n, "%s", l.items[0].status);
	run_list_free(&l);
}

static void wait_status(struct fx *f, const struct daemon_proc *d, const char *id,
			const char *status)
{
	int64_t until = mono_ms() + WAIT_MS;
	char now[32] = "";

	while (mono_ms() < until) {
		run_status(f, id, now, sizeof(now));
		if (strcmp(now, status) == 0)
			return;
		sleep_ms(50);
	}
	print_log(d);
	fail_msg("run %s is %s, never %s", id, now, status);
}

static int64_t executions(struct fx *f, const char *id)
{
	const char *p[2] = { id, TEST_JOB_EXECUTED };
	int64_t n = -1;
	serr e;

	if (store_query_i64(&f->st, "count executions",
			    "SELECT count(*) FROM run_events WHERE run_id = $1::uuid"
			    " AND type = 'LOG' AND message = $2",
			    2, p, &n, &e) < 0)
		fail_msg("%s", e.msg);
	return n;
}

/* The daemon's children (component and pid) from its heartbeat, once it lists n. */
static json_t *wait_children(struct fx *f, const struct daemon_proc *d, size_t n,
			     pid_t not_this_worker)
{
	int64_t until = mono_ms() + WAIT_MS;
	PGresult *r = NULL;
	serr e;

	while (mono_ms() < until) {
		json_t *info = NULL, *kids;
		int ok = 1;
		size_t i;
		json_t *k;

		if (store_exec(&f->st, "read the daemon heartbeat",
			       "SELECT info::text FROM heartbeats WHERE component = 'daemon'", 0,
			       NULL, &r, &e) < 0)
			fail_msg("%s", e.msg);
		if (PQntuples(r) == 1)
			info = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
		PQclear(r);
		kids = json_object_get(info, "children");
		if (json_array_size(kids) != n)
			ok = 0;
		json_array_foreach(kids, i, k)
		{
			json_int_t pid = json_integer_value(json_object_get(k, "pid"));

			if (pid <= 0 ||
			    (not_this_worker && pid == not_this_worker))
				ok = 0;
		}
		if (ok) {
			json_t *ret = json_incref(kids);
			json_decref(info);
			return ret;
		}
		json_decref(info);
		sleep_ms(100);
	}
	print_log(d);
	fail_msg("the daemon never listed %zu running children", n);
	return NULL;
}

static pid_t child_pid(json_t *kids, const char *component)
{
	size_t i;
	json_t *k;

	json_array_foreach(kids, i, k)
		if (strcmp(json_string_value(json_object_get(k, "component")), component) == 0)
			return (pid_t)json_integer_value(json_object_get(k, "pid"));
	return 0;
}

static int log_has(const struct daemon_proc *d, const char *text)
{
	char line[2048];
	FILE *l = fopen(d->log, "r");
	int found = 0;

	if (!l)
		return 0;
	while (!found && fgets(line, sizeof(line), l))
		found = strstr(line, text) != NULL;
	fclose(l);
	return found;
}

static void sigterm_lets_the_running_run_finish_and_claims_nothing_more(void **state)
{
	struct fx *f = fx_new("daemon_drain");
	struct daemon_proc d;
	struct buf slow, late;
	char status[32];
	json_t *kids;
	size_t i;
	json_t *k;
	int64_t left = -1;
	serr e;

	(void)state;
	buf_init(&slow, 128);
	buf_init(&late, 128);
	daemon_spawn(f, &d, "drain", NULL, "--workers", "1");
	kids = wait_children(f, &d, 2, 0);
	enqueue(f, TEST_JOB_SLEEP, "{\"sleep_ms\": 3000}", &slow);
	wait_status(f, &d, buf_cstr(&slow), "STARTED");
	assert_int_equal(kill(d.pid, SIGTERM), 0);
	/* queued after the drain began: nobody may claim it */
	enqueue(f, TEST_JOB_NOOP, NULL, &late);
	assert_int_equal(daemon_wait(&d), 0);

	run_status(f, buf_cstr(&slow), status, sizeof(status));
	assert_string_equal(status, "SUCCESS");
	assert_int_equal(executions(f, buf_cstr(&slow)), 1);
	run_status(f, buf_cstr(&late), status, sizeof(status));
	assert_string_equal(status, "QUEUED");
	/* every child is gone, and so are the heartbeats of the clean exits */
	json_array_foreach(kids, i, k)
	{
		pid_t pid = (pid_t)json_integer_value(json_object_get(k, "pid"));

		assert_int_equal(kill(pid, 0), -1);
		assert_int_equal(errno, ESRCH);
	}
	if (store_query_i64(&f->st, "count heartbeats", "SELECT count(*) FROM heartbeats", 0,
			    NULL, &left, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(left, 0);
	json_decref(kids);
	buf_free(&slow);
	buf_free(&late);
	fx_free(f);
}

static void a_second_sigterm_stops_at_once_and_the_run_is_queued_again(void **state)
{
	struct fx *f = fx_new("daemon_stop_now");
	struct daemon_proc d, d2;
	struct buf id;
	char status[32];
	const char *p[1];
	json_t *kids;
	serr e;

	(void)state;
	buf_init(&id, 128);
	daemon_spawn(f, &d, "first", NULL, "--workers", "1");
	kids = wait_children(f, &d, 2, 0);
	json_decref(kids);
	/* far longer than the wait guard: only a stop at once ends the daemon in time */
	enqueue(f, TEST_JOB_SLEEP, "{\"sleep_ms\": 600000}", &id);
	wait_status(f, &d, buf_cstr(&id), "STARTED");
	assert_int_equal(kill(d.pid, SIGTERM), 0);
	sleep_ms(500);
	assert_int_equal(kill(d.pid, SIGTERM), 0);
	assert_int_equal(daemon_wait(&d), 0);
	run_status(f, buf_cstr(&id), status, sizeof(status));
	assert_string_equal(status, "QUEUED");
	assert_int_equal(executions(f, buf_cstr(&id)), 0);

	/* another daemon picks the released run up and completes it once */
	p[0] = buf_cstr(&id);
	if (store_exec(&f->st, "shorten the sleep",
		       "UPDATE runs SET tags = '{\"sleep_ms\": 100}', not_before = now()"
		       " WHERE id = $1::uuid",
		       1, p, NULL, &e) < 0)
		fail_msg("%s", e.msg);
	daemon_spawn(f, &d2, "second", NULL, "--workers", "1");
	wait_status(f, &d2, buf_cstr(&id), "SUCCESS");
	daemon_stop(&d2);
	assert_int_equal(executions(f, buf_cstr(&id)), 1);
	buf_free(&id);
	fx_free(f);
}

static void a_killed_worker_is_restarted_and_runs_again(void **state)
{
	struct fx *f = fx_new("daemon_restart");
	struct daemon_proc d;
	struct buf id;
	json_t *kids;
	pid_t worker;

	(void)state;
	buf_init(&id, 128);
	daemon_spawn(f, &d, "restart", NULL, "--workers", "1");
	kids = wait_children(f, &d, 2, 0);
	worker = child_pid(kids, "worker");
	json_decref(kids);
	assert_true(worker > 0);
	assert_int_equal(kill(worker, SIGKILL), 0);
	kids = wait_children(f, &d, 2, worker);
	assert_true(child_pid(kids, "worker") != worker);
	json_decref(kids);
	assert_true(log_has(&d, "child exited unexpectedly; restarting it"));
	assert_true(log_has(&d, "signal 9"));

	enqueue(f, TEST_JOB_NOOP, NULL, &id);
	wait_status(f, &d, buf_cstr(&id), "SUCCESS");
	kill(d.pid, SIGTERM);
	assert_int_equal(daemon_wait(&d), 0);
	buf_free(&id);
	fx_free(f);
}

static void sighup_applies_a_new_worker_count_and_survives_a_bad_file(void **state)
{
	struct fx *f = fx_new("daemon_reload");
	struct daemon_proc d;
	json_t *kids;

	(void)state;
	write_conf(f, "daemon.workers = 1\n");
	daemon_spawn(f, &d, "reload", NULL, NULL, NULL);
	kids = wait_children(f, &d, 2, 0);
	json_decref(kids);

	write_conf(f, "daemon.workers = 3\n");
	assert_int_equal(kill(d.pid, SIGHUP), 0);
	kids = wait_children(f, &d, 4, 0);
	json_decref(kids);
	assert_true(log_has(&d, "configuration reloaded"));

	write_conf(f, "daemon.workers = many\n");
	assert_int_equal(kill(d.pid, SIGHUP), 0);
	{
		int64_t until = mono_ms() + WAIT_MS;

		while (!log_has(&d, "keeping the current one") && mono_ms() < until)
			sleep_ms(50);
	}
	assert_true(log_has(&d, "keeping the current one"));
	kids = wait_children(f, &d, 4, 0);
	json_decref(kids);
	kill(d.pid, SIGTERM);
	assert_int_equal(daemon_wait(&d), 0);
	fx_free(f);
}

static void two_daemons_tick_a_sensor_once_per_interval(void **state)
{
	static const char *const env[] = { "SCOUT_TEST_SENSORS=1",
					   "SCOUT_TEST_SENSOR_INTERVAL_S=1", NULL };
	struct fx *f = fx_new("daemon_two");
	struct daemon_proc a, b;
	int64_t until = mono_ms() + WAIT_MS, ticks = 0, too_close = -1, loops = 0;
	serr e;

	(void)state;
	daemon_spawn(f, &a, "a", env, "--workers", "0");
	daemon_spawn(f, &b, "b", env, "--workers", "0");
	while (mono_ms() < until && loops < 2) {
		if (store_query_i64(&f->st, "count sensor loops",
				    "SELECT count(*) FROM heartbeats WHERE component = 'sensors'", 0,
				    NULL, &loops, &e) < 0)
			fail_msg("%s", e.msg);
		sleep_ms(100);
	}
	assert_int_equal(loops, 2);
	while (mono_ms() < until && ticks < 6) {
		if (store_query_i64(&f->st, "count ticks",
				    "SELECT count(*) FROM sensor_ticks WHERE sensor = 'test_tick_sensor'",
				    0, NULL, &ticks, &e) < 0)
			fail_msg("%s", e.msg);
		sleep_ms(200);
	}
	daemon_stop(&a);
	daemon_stop(&b);
	if (ticks < 6) {
		print_log(&a);
		print_log(&b);
	}
	assert_true(ticks >= 6);
	/* by the database clock, no two ticks of the sensor are less than an interval apart */
	if (store_query_i64(&f->st, "find ticks too close",
			    "SELECT count(*) FROM (SELECT started_at - lag(started_at) OVER"
			    " (ORDER BY started_at) AS gap FROM sensor_ticks"
			    " WHERE sensor = 'test_tick_sensor') g WHERE gap < interval '1 second'",
			    0, NULL, &too_close, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(too_close, 0);
	fx_free(f);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sigterm_lets_the_running_run_finish_and_claims_nothing_more),
		cmocka_unit_test(a_second_sigterm_stops_at_once_and_the_run_is_queued_again),
		cmocka_unit_test(a_killed_worker_is_restarted_and_runs_again),
		cmocka_unit_test(sighup_applies_a_new_worker_count_and_survives_a_bad_file),
		cmocka_unit_test(two_daemons_tick_a_sensor_once_per_interval),
	};
	char self[PATH_MAX];
	char *cut;
	serr e;

	(void)argc;
	/* BUILD/tests/integration/test_daemon -> BUILD/scout */
	if (!realpath(argv[0], self))
		return 1;
	for (int i = 0; i < 3 && (cut = strrchr(self, '/')); i++)
		*cut = '\0';
	snprintf(scout_bin, sizeof(scout_bin), "%s/scout", self);
	if (test_jobs_register(&e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	log_add_secret(HARNESS_SIM_KEY);
	log_set_level(LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
