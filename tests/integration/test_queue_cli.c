/*
 * Integration tests of the run commands as the real binary against a real
 * PostgreSQL database: `scout runs`, `scout logs [--follow]`, `scout logs
 * --job --partition`, `scout run cancel` and `scout run retry
 * [--from-failure] [--foreground]`, their output and exit statuses.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/config.h"
#include "core/log.h"
#include "core/util.h"
#include "orchestrator/run.h"
#include "orchestrator/test_jobs.h"
#include "store/queue.h"
#include "support/harness_db.h"

#define OUT_MAX (256 * 1024)

extern char **environ;

static char scout_bin[PATH_MAX];

struct fx {
	struct store st;
	struct config cfg;
	struct buf url;
	char name[48];
	char home[PATH_MAX];
	struct buf out, err;
};

static struct fx *fx_new(const char *name)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *root = getenv("SCOUT_TEST_HOME");
	serr e;

	assert_non_null(f);
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(f->home, sizeof(f->home), "%s/%s", root && *root ? root : "/tmp", name);
	mkdir(f->home, 0755);
	buf_init(&f->url, 0);
	buf_init(&f->out, OUT_MAX);
	buf_init(&f->err, OUT_MAX);
	if (harness_db_create(name, &f->url, &e) < 0)
		fail_msg("%s", e.msg);
	store_init(&f->st);
	if (store_open_url(&f->st, buf_cstr(&f->url), &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(config_init(&f->cfg, &e), 0);
	if (config_set(&f->cfg, "home", f->home, &e) < 0)
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
	buf_free(&f->out);
	buf_free(&f->err);
	free(f);
}

static void slurp(const char *path, struct buf *b)
{
	char chunk[4096];
	size_t n;
	FILE *in = fopen(path, "r");

	buf_reset(b);
	assert_non_null(in);
	while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
		assert_int_equal(buf_append(b, chunk, n), 0);
	fclose(in);
}

/* Run `scout ARGS...` (NULL-terminated) with the test's database; its exit status. */
static int scout(struct fx *f, ...)
{
	static const char *const drop[] = { "DATABASE_URL=", "SCOUT_" };
	char *argv[16], dburl[4096], home[PATH_MAX + 16], outp[PATH_MAX + 16], errp[PATH_MAX + 16];
	char **env;
	size_t n = 0, k = 0;
	int argc = 1, st, fo, fe;
	va_list ap;
	pid_t pid;

	argv[0] = scout_bin;
	va_start(ap, f);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
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
	env[k++] = dburl;
	env[k++] = home;
	env[k++] = "SCOUT_TEST_JOBS=1";
	env[k++] = "SCOUT_LOG_LEVEL=warn";
	snprintf(outp, sizeof(outp), "%s/out.txt", f->home);
	snprintf(errp, sizeof(errp), "%s/err.txt", f->home);
	fo = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	fe = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fo >= 0 && fe >= 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fo, 1);
		dup2(fe, 2);
		execve(scout_bin, argv, env);
		_exit(127);
	}
	close(fo);
	close(fe);
	free(env);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	slurp(outp, &f->out);
	slurp(errp, &f->err);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void has(const struct buf *b, const char *what)
{
	if (!strstr(buf_cstr(b), what))
		fail_msg("'%s' not in:\n%s", what, buf_cstr(b));
}

static void enqueue(struct fx *f, const char *job, const char *part, struct buf *id)
{
	struct run_request r = { .job = job, .partition_key = part };
	int created = 0;
	serr e;

	if (queue_enqueue(&f->st, &r, id, &created, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(created, 1);
}

/* The first line of out (a run id printed by a command). */
static void first_line(const struct buf *out, char *id, size_t n)
{
	const char *s = buf_cstr(out);
	size_t len = strcspn(s, "\n");

	assert_true(len > 0 && len < n);
	memcpy(id, s, len);
	id[len] = '\0';
}

static void runs_cancel_and_logs_from_the_command_line(void **state)
{
	struct fx *f = fx_new("queue_cli_cancel");
	struct buf id;
	char line[128];

	(void)state;
	buf_init(&id, 64);
	enqueue(f, TEST_JOB_NOOP, "recA", &id);
	assert_int_equal(scout(f, "runs", "--status", "QUEUED", NULL), 0);
	has(&f->out, id.data);
	has(&f->out, "recA");
	assert_int_equal(scout(f, "run", "cancel", id.data, NULL), 0);
	snprintf(line, sizeof(line), "%s CANCELED", id.data);
	has(&f->out, line);
	assert_int_equal(scout(f, "runs", "--status", "QUEUED", NULL), 0);
	assert_null(strstr(buf_cstr(&f->out), id.data));
	assert_int_equal(scout(f, "logs", id.data, NULL), 0);
	has(&f->out, "RUN_ENQUEUED");
	has(&f->out, "RUN_CANCELED");
	has(&f->out, "canceled from the command line");
	/* errors say what is wrong, with exit 1; usage errors exit 2 */
	assert_int_equal(scout(f, "run", "cancel", "not-a-run", NULL), 1);
	has(&f->err, "not a run id");
	assert_int_equal(scout(f, "logs", "00000000-0000-0000-0000-000000000000", NULL), 1);
	has(&f->err, "no run");
	assert_int_equal(scout(f, "logs", NULL), 2);
	assert_int_equal(scout(f, "logs", "--job", TEST_JOB_NOOP, NULL), 2);
	assert_int_equal(scout(f, "run", "pause", id.data, NULL), 2);
	assert_int_equal(scout(f, "runs", "--status", "DONE", NULL), 2);
	buf_free(&id);
	fx_free(f);
}

static void retry_from_the_command_line_and_follow_the_new_run(void **state)
{
	struct fx *f = fx_new("queue_cli_retry");
	struct buf failed;
	char again[64], parent[128];
	serr e;

	(void)state;
	buf_init(&failed, 64);
	assert_int_equal(run_foreground(&f->cfg, &f->st, TEST_JOB_FAIL, "recB", &failed, &e), -1);
	/* following a run that ended FAILURE exits 1 */
	assert_int_equal(scout(f, "logs", failed.data, "--follow", NULL), 1);
	has(&f->out, "ended: FAILURE");
	has(&f->out, "attempt 1  FAILURE");
	/* a one-step job resumes from its first step, and says so */
	assert_int_equal(scout(f, "run", "retry", failed.data, "--from-failure", NULL), 0);
	first_line(&f->out, again, sizeof(again));
	has(&f->err, "from the first step");
	assert_int_equal(scout(f, "logs", again, NULL), 0);
	snprintf(parent, sizeof(parent), "parent %s", failed.data);
	has(&f->out, parent);
	has(&f->out, "status QUEUED");
	/* the partition is busy now: a second retry is refused and names the run */
	assert_int_equal(scout(f, "run", "retry", failed.data, NULL), 1);
	has(&f->err, again);
	assert_int_equal(scout(f, "run", "cancel", again, NULL), 0);
	/* retried in the foreground: it runs here and fails again */
	assert_int_equal(scout(f, "run", "retry", failed.data, "--foreground", NULL), 1);
	first_line(&f->out, again, sizeof(again));
	has(&f->err, "fails on purpose");
	assert_int_equal(scout(f, "logs", again, "--follow", NULL), 1);
	has(&f->out, "RUN_FAILURE");
	/* every run of the partition, oldest first */
	assert_int_equal(scout(f, "logs", "--job", TEST_JOB_FAIL, "--partition", "recB", NULL), 0);
	has(&f->out, "job test_fail  partition recB");
	{
		char prefix[16];
		snprintf(prefix, sizeof(prefix), "%.8s  ", failed.data);
		has(&f->out, prefix);
		snprintf(prefix, sizeof(prefix), "%.8s  ", again);
		has(&f->out, prefix);
	}
	buf_free(&failed);
	fx_free(f);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(runs_cancel_and_logs_from_the_command_line),
		cmocka_unit_test(retry_from_the_command_line_and_follow_the_new_run),
	};
	char self[PATH_MAX];
	char *cut;
	serr e;

	(void)argc;
	/* BUILD/tests/integration/test_queue_cli -> BUILD/scout */
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
