/*
 * Integration tests of `scout doctor`, run as the real binary against a
 * per-test database and the simulator: stale heartbeats, runs stuck with
 * an expired lease and late sensors fail it with the culprit named; a
 * healthy setup passes; an unreachable database fails; no secret is ever
 * printed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "sim/generate.h"
#include "store/heartbeats.h"
#include "store/runs.h"
#include "store/store.h"
#include "support/harness_db.h"
#include "support/harness_sim.h"

#define DB "doctor"
#define BASE_ID "appDoctorTest0001"
#define SECRET_NOTION "secret_notion_Zq81xKf0aa"
#define SECRET_OPENROUTER "sk-or-v1-secretTq5555"

extern char **environ;

static char scout_bin[PATH_MAX];

struct fx {
	struct store st;
	struct buf url;
	char home[512];
};

struct result {
	int status; /* exit status, -1 when it did not exit normally */
	struct buf out, err;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *root = getenv("SCOUT_TEST_HOME");
	serr e;

	if (!f)
		return -1;
	buf_init(&f->url, 0);
	snprintf(f->home, sizeof(f->home), "%s/doctor", root && *root ? root : "/tmp");
	mkdir(f->home, 0755);
	if (harness_db_create(DB, &f->url, &e) < 0) {
		print_error("%s\n", e.msg);
		return -1;
	}
	store_init(&f->st);
	if (store_open_url(&f->st, buf_cstr(&f->url), &e) < 0) {
		print_error("%s\n", e.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	serr e;

	store_close(&f->st);
	if (harness_db_drop(DB, &e) < 0)
		print_error("%s\n", e.msg);
	buf_free(&f->url);
	free(f);
	return 0;
}

static void exec_sql(struct fx *f, const char *sql)
{
	serr e;

	if (store_exec(&f->st, "run test SQL", sql, 0, NULL, NULL, &e) < 0)
		fail_msg("%s", e.msg);
}

/* The environment minus scout's variables, plus `set` ("NAME=value", NULL-terminated). */
static char **child_env(const char *const *set)
{
	static const char *const drop[] = { "DATABASE_URL=", "SCOUT_", "AIRTABLE_", "NOTION_",
					    "OPENROUTER_" };
	size_t n = 0, k = 0;
	char **env;

	while (environ[n])
		n++;
	for (const char *const *s = set; *s; s++)
		n++;
	env = calloc(n + 1, sizeof(*env));
	assert_non_null(env);
	for (size_t i = 0; environ[i]; i++) {
		int keep = 1;

		for (size_t d = 0; d < sizeof(drop) / sizeof(drop[0]); d++)
			if (strncmp(environ[i], drop[d], strlen(drop[d])) == 0)
				keep = 0;
		if (keep)
			env[k++] = environ[i];
	}
	for (const char *const *s = set; *s; s++)
		env[k++] = (char *)*s;
	return env;
}

static void read_all(int fd, struct buf *b)
{
	char chunk[4096];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		assert_int_equal(buf_append(b, chunk, (size_t)n), 0);
}

/* Run `scout doctor ARGS` with this environment; output captured in files. */
static void run_doctor(struct fx *f, const char *arg, const char *const *set, struct result *r)
{
	char outp[600], errp[600];
	char *argv[] = { scout_bin, "doctor", (char *)arg, NULL };
	char **env = child_env(set);
	FILE *o, *er;
	pid_t pid;
	int st;

	snprintf(outp, sizeof(outp), "%s/doctor.out", f->home);
	snprintf(errp, sizeof(errp), "%s/doctor.err", f->home);
	buf_init(&r->out, 0);
	buf_init(&r->err, 0);
	o = fopen(outp, "w+");
	er = fopen(errp, "w+");
	assert_non_null(o);
	assert_non_null(er);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fileno(o), 1);
		dup2(fileno(er), 2);
		execve(scout_bin, argv, env);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	rewind(o);
	rewind(er);
	read_all(fileno(o), &r->out);
	read_all(fileno(er), &r->err);
	fclose(o);
	fclose(er);
	free(env);
}

static void result_free(struct result *r)
{
	buf_free(&r->out);
	buf_free(&r->err);
}

static void expect_line(const struct result *r, const char *text)
{
	if (!strstr(buf_cstr(&r->out), text))
		fail_msg("doctor printed no '%s'; stdout:\n%s\nstderr:\n%s", text,
			 buf_cstr(&r->out), buf_cstr(&r->err));
}

static void doctor_names_a_stale_heartbeat_and_a_run_stuck_with_an_expired_lease(void **state)
{
	struct fx *f = *state;
	struct run_new rn = { "sync_airtable_candidates_job", NULL, NULL, NULL, "STARTED", 0 };
	struct buf id, dburl, line;
	struct result r;
	const char *p[1];
	serr e;

	buf_init(&id, 128);
	buf_init(&dburl, 0);
	buf_init(&line, 0);
	exec_sql(f, "DELETE FROM heartbeats");
	assert_int_equal(heartbeat_beat(&f->st, "worker", "live-worker", NULL, &e), 0);
	exec_sql(f, "INSERT INTO heartbeats (component, name, host, pid, beat_at)"
		    " VALUES ('worker', 'old-worker', 'build-host-7', 4242,"
		    " now() - interval '10 minutes 5 seconds')");
	assert_int_equal(runs_create_ex(&f->st, &rn, &id, NULL, &e), 0);
	p[0] = buf_cstr(&id);
	assert_int_equal(store_exec(&f->st, "expire the lease",
				    "UPDATE runs SET worker = 'gone-worker',"
				    " lease_expires_at = now() - interval '5 minutes 3 seconds'"
				    " WHERE id = $1::uuid",
				    1, p, NULL, &e),
			 0);
	assert_int_equal(buf_printf(&dburl, "DATABASE_URL=%s", buf_cstr(&f->url)), 0);
	{
		const char *set[] = { buf_cstr(&dburl), NULL };

		run_doctor(f, NULL, set, &r);
		assert_int_equal(r.status, 1);
		expect_line(&r, "fail  processes   worker 'old-worker' (host build-host-7, pid 4242) "
				"last beat 10m05s ago");
		expect_line(&r, "ok    processes   1 live: 0 daemon, 1 worker");
		assert_int_equal(buf_printf(&line, "fail  runs        run %s of "
						   "'sync_airtable_candidates_job' is STARTED but its "
						   "lease expired 5m03s ago (worker 'gone-worker')",
					    buf_cstr(&id)),
				 0);
		expect_line(&r, buf_cstr(&line));
		result_free(&r);

		/* --forget-stale drops the row; the next check no longer fails on it */
		run_doctor(f, "--forget-stale", set, &r);
		expect_line(&r, "'old-worker' (host build-host-7, pid 4242)");
		expect_line(&r, "row removed");
		result_free(&r);
		run_doctor(f, NULL, set, &r);
		assert_null(strstr(buf_cstr(&r.out), "old-worker"));
		expect_line(&r, "fail  runs");
		result_free(&r);
	}
	buf_free(&id);
	buf_free(&dburl);
	buf_free(&line);
}

static void doctor_fails_a_sensor_that_missed_two_intervals(void **state)
{
	struct fx *f = *state;
	struct buf dburl;
	struct result r;

	buf_init(&dburl, 0);
	exec_sql(f, "DELETE FROM sensor_state");
	exec_sql(f, "INSERT INTO sensor_state (name, enabled, last_tick_at, next_tick_at) VALUES"
		    " ('late_sensor', true, now() - interval '10 minutes',"
		    "  now() - interval '9 minutes'),"
		    " ('fresh_sensor', true, now() - interval '30 seconds',"
		    "  now() + interval '30 seconds'),"
		    " ('off_sensor', false, now() - interval '1 day', now() - interval '23 hours')");
	assert_int_equal(buf_printf(&dburl, "DATABASE_URL=%s", buf_cstr(&f->url)), 0);
	{
		const char *set[] = { buf_cstr(&dburl), NULL };

		run_doctor(f, NULL, set, &r);
	}
	assert_int_equal(r.status, 1);
	expect_line(&r, "fail  sensors     'late_sensor' is enabled but last ticked 10m00s ago "
			"(interval 60s)");
	assert_null(strstr(buf_cstr(&r.out), "fresh_sensor"));
	assert_null(strstr(buf_cstr(&r.out), "off_sensor"));
	result_free(&r);
	exec_sql(f, "DELETE FROM sensor_state");
	buf_free(&dburl);
}

static void doctor_passes_a_healthy_setup_and_prints_no_secret(void **state)
{
	struct fx *f = *state;
	struct harness_sim_opts so;
	struct sample_opts go;
	struct sim *sim;
	json_t *base = NULL;
	struct buf dburl, apiurl, nurl;
	struct result r;
	serr e;

	exec_sql(f, "DELETE FROM heartbeats");
	exec_sql(f, "DELETE FROM sensor_state");
	exec_sql(f, "UPDATE runs SET status = 'FAILURE' WHERE status = 'STARTED'");
	harness_sim_opts_init(&so);
	so.load_small_base = 0;
	sim = harness_sim_start(&so);
	assert_non_null(sim);
	/* a generated base carries every field the default mapping names */
	sample_opts_init(&go);
	go.seed = 3;
	go.candidates = 4;
	go.jobs = 2;
	go.base_id = BASE_ID;
	go.with_pdfs = 0;
	go.oversized_bytes = 0;
	if (!(base = sample_generate(&go, &e)) || sim_load_base(sim, base, &e) < 0)
		fail_msg("%s", e.msg);
	buf_init(&dburl, 0);
	buf_init(&apiurl, 0);
	buf_init(&nurl, 0);
	assert_int_equal(buf_printf(&dburl, "DATABASE_URL=%s", buf_cstr(&f->url)), 0);
	assert_int_equal(buf_printf(&apiurl, "AIRTABLE_API_URL=%s", sim_url(sim)), 0);
	assert_int_equal(buf_printf(&nurl, "NOTION_API_URL=%s", sim_url(sim)), 0);
	{
		const char *set[] = { buf_cstr(&dburl),
				      buf_cstr(&apiurl),
				      buf_cstr(&nurl),
				      "AIRTABLE_API_KEY=" HARNESS_SIM_KEY,
				      "AIRTABLE_BASE_ID=" BASE_ID,
				      "NOTION_API_KEY=" SECRET_NOTION,
				      "OPENROUTER_API_KEY=" SECRET_OPENROUTER,
				      "SCOUT_LOG_LEVEL=debug",
				      NULL };

		run_doctor(f, NULL, set, &r);
	}
	if (r.status != 0)
		fail_msg("doctor failed:\n%s\n%s", buf_cstr(&r.out), buf_cstr(&r.err));
	expect_line(&r, "ok    database    reachable");
	expect_line(&r, "ok    migrations  all");
	expect_line(&r, "warn  processes   no scout process is running");
	expect_line(&r, "ok    runs");
	expect_line(&r, "ok    airtable    base " BASE_ID " reachable");
	expect_line(&r, "skip  cluster     DATABASE_URL is set");
	expect_line(&r, "0 failed");
	for (const char *const *s = (const char *const[]){ HARNESS_SIM_KEY, SECRET_NOTION,
							   SECRET_OPENROUTER, NULL };
	     *s; s++) {
		assert_null(strstr(buf_cstr(&r.out), *s));
		assert_null(strstr(buf_cstr(&r.err), *s));
	}
	result_free(&r);
	harness_sim_stop(sim);
	json_decref(base);
	buf_free(&dburl);
	buf_free(&apiurl);
	buf_free(&nurl);
}

static void doctor_fails_an_unreachable_database_without_printing_its_password(void **state)
{
	struct fx *f = *state;
	const char *set[] = { "DATABASE_URL=postgresql://scout:hunter2pw77@127.0.0.1:1/scout"
			      "?connect_timeout=3",
			      NULL };
	struct result r;

	run_doctor(f, NULL, set, &r);
	assert_int_equal(r.status, 1);
	expect_line(&r, "fail  database");
	expect_line(&r, "ok    pdftotext");
	expect_line(&r, "skip  airtable    skipped");
	assert_null(strstr(buf_cstr(&r.out), "hunter2pw77"));
	assert_null(strstr(buf_cstr(&r.err), "hunter2pw77"));
	result_free(&r);
}

static void doctor_fails_a_missing_pdftotext(void **state)
{
	struct fx *f = *state;
	struct buf dburl;
	struct result r;

	buf_init(&dburl, 0);
	assert_int_equal(buf_printf(&dburl, "DATABASE_URL=%s", buf_cstr(&f->url)), 0);
	{
		char cfgpath[600];
		FILE *c;
		struct buf cfgenv;

		buf_init(&cfgenv, 0);
		snprintf(cfgpath, sizeof(cfgpath), "%s/nopdf.conf", f->home);
		c = fopen(cfgpath, "w");
		assert_non_null(c);
		fputs("pdf.pdftotext = /nonexistent/pdftotext\n", c);
		fclose(c);
		assert_int_equal(buf_printf(&cfgenv, "SCOUT_CONFIG=%s", cfgpath), 0);
		{
			const char *set[] = { buf_cstr(&dburl), buf_cstr(&cfgenv), NULL };

			run_doctor(f, NULL, set, &r);
		}
		buf_free(&cfgenv);
	}
	assert_int_equal(r.status, 1);
	expect_line(&r, "fail  pdftotext   '/nonexistent/pdftotext' not found");
	result_free(&r);
	buf_free(&dburl);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(doctor_names_a_stale_heartbeat_and_a_run_stuck_with_an_expired_lease),
		cmocka_unit_test(doctor_fails_a_sensor_that_missed_two_intervals),
		cmocka_unit_test(doctor_passes_a_healthy_setup_and_prints_no_secret),
		cmocka_unit_test(doctor_fails_an_unreachable_database_without_printing_its_password),
		cmocka_unit_test(doctor_fails_a_missing_pdftotext),
	};
	char self[PATH_MAX];
	char *cut;

	(void)argc;
	/* BUILD/tests/integration/test_doctor -> BUILD/scout */
	if (!realpath(argv[0], self))
		return 1;
	for (int i = 0; i < 3 && (cut = strrchr(self, '/')); i++)
		*cut = '\0';
	snprintf(scout_bin, sizeof(scout_bin), "%s/scout", self);
	log_set_level(LOG_WARN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
