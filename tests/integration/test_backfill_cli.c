/*
 * Integration tests of `scout backfill`, `scout backfills` and `scout
 * partitions` as processes (BUILD/scout next to the test directory) on a
 * per-test database, with a worker on a thread of this process running
 * the test jobs: exit statuses, what goes to stdout and stderr, plain
 * progress lines when stderr is not a terminal, cancel, resume and status.
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
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/config.h"
#include "core/log.h"
#include "core/util.h"
#include "orchestrator/test_jobs.h"
#include "orchestrator/worker.h"
#include "store/partitions.h"
#include "support/harness_db.h"

extern char **environ;

static char scout_bin[PATH_MAX];

struct fx {
	struct store st;
	struct config cfg;
	struct buf url;
	char name[48];
	char home[512];
	char env_db[1024];
	char env_home[600];
};

struct result {
	int status;
	struct buf out, err;
};

/* A worker on a thread of this process. */
struct wt {
	pthread_t th;
	struct worker_opts o;
	volatile sig_atomic_t stop, stop_now;
	const struct config *cfg;
	int rc;
	serr e;
};

static void cfg_set(struct config *c, const char *k, const char *v)
{
	serr e;

	if (config_set(c, k, v, &e) < 0)
		fail_msg("%s", e.msg);
}

static struct fx *fx_new(const char *name, int partitions)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *root = getenv("SCOUT_TEST_HOME");
	const char *keys[16];
	char names[16][8];
	serr e;

	assert_non_null(f);
	assert_true(partitions <= 16);
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(f->home, sizeof(f->home), "%s/%s", root ? root : "/tmp", name);
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
	snprintf(f->env_db, sizeof(f->env_db), "DATABASE_URL=%s", buf_cstr(&f->url));
	snprintf(f->env_home, sizeof(f->env_home), "SCOUT_HOME=%s", f->home);
	for (int i = 0; i < partitions; i++) {
		snprintf(names[i], sizeof(names[i]), "rec%03d", i);
		keys[i] = names[i];
	}
	if (partitions_add(&f->st, "candidates", keys, (size_t)partitions, NULL, &e) < 0)
		fail_msg("%s", e.msg);
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

static void *wt_main(void *p)
{
	struct wt *w = p;

	w->rc = worker_main(w->cfg, &w->o, &w->e);
	return NULL;
}

static void wt_start(struct fx *f, struct wt *w)
{
	memset(w, 0, sizeof(*w));
	worker_opts_init(&w->o);
	w->o.name = "cli-test-worker";
	w->o.concurrency = 2;
	w->o.stop = &w->stop;
	w->o.stop_now = &w->stop_now;
	w->cfg = &f->cfg;
	assert_int_equal(pthread_create(&w->th, NULL, wt_main, w), 0);
}

static void wt_stop(struct wt *w)
{
	w->stop = 1;
	pthread_join(w->th, NULL);
	if (w->rc != 0)
		fail_msg("worker: %s", w->e.msg);
}

/* The environment minus scout's variables, plus the test database and home. */
static char **child_env(struct fx *f)
{
	static const char *const drop[] = { "DATABASE_URL=", "SCOUT_", "AIRTABLE_", "NOTION_",
					    "OPENROUTER_" };
	size_t n = 0, k = 0;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 5, sizeof(*env));
	assert_non_null(env);
	for (size_t i = 0; environ[i]; i++) {
		int keep = 1;

		for (size_t d = 0; d < sizeof(drop) / sizeof(drop[0]); d++)
			if (strncmp(environ[i], drop[d], strlen(drop[d])) == 0)
				keep = 0;
		if (keep)
			env[k++] = environ[i];
	}
	env[k++] = f->env_db;
	env[k++] = f->env_home;
	env[k++] = "SCOUT_TEST_JOBS=1";
	env[k++] = "SCOUT_LOG_LEVEL=warn";
	return env;
}

static void read_all(FILE *fp, struct buf *b)
{
	char chunk[4096];
	size_t n;

	rewind(fp);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		assert_int_equal(buf_append(b, chunk, n), 0);
}

/* Run `scout ARGS...` (NULL-terminated) with stdout and stderr in files (not terminals). */
static void run_scout(struct fx *f, struct result *r, ...)
{
	char *argv[16];
	char **env = child_env(f);
	FILE *o = tmpfile(), *er = tmpfile();
	va_list ap;
	int argc = 1, st;
	pid_t pid;

	assert_non_null(o);
	assert_non_null(er);
	argv[0] = scout_bin;
	va_start(ap, r);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	buf_init(&r->out, 0);
	buf_init(&r->err, 0);
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
	read_all(o, &r->out);
	read_all(er, &r->err);
	fclose(o);
	fclose(er);
	free(env);
}

static void result_free(struct result *r)
{
	buf_free(&r->out);
	buf_free(&r->err);
}

static void expect(const struct result *r, int status, const char *out_has, const char *err_has)
{
	if (r->status != status || (out_has && !strstr(buf_cstr(&r->out), out_has)) ||
	    (err_has && !strstr(buf_cstr(&r->err), err_has)))
		fail_msg("expected status %d, stdout with '%s', stderr with '%s'; got %d\n"
			 "stdout:\n%s\nstderr:\n%s",
			 status, out_has ? out_has : "", err_has ? err_has : "", r->status,
			 buf_cstr(&r->out), buf_cstr(&r->err));
}

/* The backfill id: the first line of stdout. */
static void first_line(const struct result *r, char *id, size_t n)
{
	const char *s = buf_cstr(&r->out);
	size_t len = strcspn(s, "\n");

	assert_int_equal(len, 36);
	snprintf(id, n, "%.*s", (int)len, s);
}

static void backfill_wait_exits_0_only_when_every_run_succeeded(void **state)
{
	struct fx *f = fx_new("bfcli_wait", 10);
	struct result r;
	struct wt w;
	char id[40], line[96];

	(void)state;
	wt_start(f, &w);
	run_scout(f, &r, "backfill", TEST_JOB_NOOP, "--all", "--wait", NULL);
	expect(&r, 0, "COMPLETED 10/10 done: 10 succeeded, 0 failed", "10 run(s) queued");
	first_line(&r, id, sizeof(id));
	/* not a terminal: plain lines naming the backfill, no redrawn line */
	snprintf(line, sizeof(line), "backfill %s: ", id);
	assert_non_null(strstr(buf_cstr(&r.err), line));
	assert_null(strchr(buf_cstr(&r.err), '\r'));
	result_free(&r);

	run_scout(f, &r, "backfill", TEST_JOB_FAIL, "--partitions", "rec001, rec002", "--wait",
		  NULL);
	expect(&r, 1, "FAILED 2/2 done: 0 succeeded, 2 failed", "2 partition(s) selected");
	result_free(&r);

	/* --failed selects the two that failed; they fail again */
	run_scout(f, &r, "backfill", TEST_JOB_FAIL, "--failed", "--wait", NULL);
	expect(&r, 1, "FAILED 2/2", NULL);
	result_free(&r);
	wt_stop(&w);

	run_scout(f, &r, "backfills", NULL);
	expect(&r, 0, "COMPLETED", NULL);
	assert_non_null(strstr(buf_cstr(&r.out), id));
	assert_non_null(strstr(buf_cstr(&r.out), "10/10"));
	result_free(&r);

	run_scout(f, &r, "partitions", TEST_JOB_FAIL, "--status", "failed", NULL);
	expect(&r, 0,
	       "test_fail: 10 partitions: 8 missing, 0 queued, 0 running, 0 succeeded, 2 failed, "
	       "0 stale",
	       NULL);
	assert_non_null(strstr(buf_cstr(&r.out), "rec001"));
	assert_null(strstr(buf_cstr(&r.out), "rec003"));
	result_free(&r);
	run_scout(f, &r, "partitions", TEST_JOB_NOOP, "--limit", "3", NULL);
	expect(&r, 0, "10 succeeded", "showing 3 of 10");
	result_free(&r);
	fx_free(f);
}

static void cancel_resume_and_status_commands(void **state)
{
	struct fx *f = fx_new("bfcli_cancel", 6);
	struct result r;
	struct wt w;
	char id[40];

	(void)state;
	/* no worker yet: every run stays queued */
	run_scout(f, &r, "backfill", TEST_JOB_NOOP, "--all", NULL);
	expect(&r, 0, NULL, "6 run(s) queued, 0 already pending");
	first_line(&r, id, sizeof(id));
	result_free(&r);

	run_scout(f, &r, "backfill", "cancel", id, NULL);
	expect(&r, 0, "6 queued run(s) canceled", NULL);
	result_free(&r);
	run_scout(f, &r, "backfill", "status", id, NULL);
	expect(&r, 0, "status     CANCELED", NULL);
	assert_non_null(strstr(buf_cstr(&r.out), "0 succeeded, 0 failed, 6 canceled"));
	result_free(&r);

	run_scout(f, &r, "backfill", "resume", id, NULL);
	expect(&r, 0, "6 run(s) queued", NULL);
	result_free(&r);
	wt_start(f, &w);
	run_scout(f, &r, "backfill", "status", id, "--wait", NULL);
	expect(&r, 0, "COMPLETED 6/6 done: 6 succeeded", NULL);
	result_free(&r);
	wt_stop(&w);
	/* nothing to cancel in a completed backfill */
	run_scout(f, &r, "backfill", "cancel", id, NULL);
	expect(&r, 1, NULL, "it already ended (COMPLETED)");
	result_free(&r);
	fx_free(f);
}

static void bad_commands_say_what_is_wrong(void **state)
{
	struct fx *f = fx_new("bfcli_errors", 2);
	struct result r;

	(void)state;
	run_scout(f, &r, "backfill", TEST_JOB_NOOP, NULL);
	expect(&r, 2, NULL, "give exactly one of --all, --partitions K1,K2,... or --failed");
	result_free(&r);
	run_scout(f, &r, "backfill", TEST_JOB_NOOP, "--all", "--failed", NULL);
	expect(&r, 2, NULL, "give exactly one of");
	result_free(&r);
	run_scout(f, &r, "backfill", TEST_JOB_NOOP, "--partitions", " , ", NULL);
	expect(&r, 2, NULL, "--partitions names no partition");
	result_free(&r);
	run_scout(f, &r, "backfill", "sync_airtable_candidates_job", "--all", NULL);
	expect(&r, 1, NULL, "it is not partitioned");
	result_free(&r);
	run_scout(f, &r, "backfill", TEST_JOB_NOOP, "--partitions", "rec000,recMissing", NULL);
	expect(&r, 1, NULL, "1 partition(s) of 'candidates' are not registered or are deleted "
			    "('recMissing')");
	assert_int_equal(r.out.len, 0);
	result_free(&r);
	run_scout(f, &r, "backfill", "status", "not-an-id", NULL);
	expect(&r, 1, NULL, "'not-an-id' is not a backfill id");
	result_free(&r);
	run_scout(f, &r, "partitions", TEST_JOB_NOOP, "--status", "bogus", NULL);
	expect(&r, 2, NULL, "unknown partition status 'bogus'");
	result_free(&r);
	run_scout(f, &r, "partitions", "sync_airtable_candidates_job", NULL);
	expect(&r, 1, NULL, "is not partitioned");
	result_free(&r);
	fx_free(f);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(backfill_wait_exits_0_only_when_every_run_succeeded),
		cmocka_unit_test(cancel_resume_and_status_commands),
		cmocka_unit_test(bad_commands_say_what_is_wrong),
	};
	char self[PATH_MAX];
	char *cut;
	serr e;

	(void)argc;
	/* BUILD/tests/integration/test_backfill_cli -> BUILD/scout */
	if (!realpath(argv[0], self))
		return 1;
	for (int i = 0; i < 3 && (cut = strrchr(self, '/')); i++)
		*cut = '\0';
	snprintf(scout_bin, sizeof(scout_bin), "%s/scout", self);
	log_set_level(LOG_ERROR);
	if (test_jobs_register(&e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
