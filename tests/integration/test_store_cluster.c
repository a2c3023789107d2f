/*
 * Integration tests of the private PostgreSQL cluster on fresh temporary
 * homes: initdb, start, reuse, stop, restart, concurrent starts, the /tmp
 * socket fallback and the checks that refuse unusable homes. As root (CI)
 * they also show the server runs as an unprivileged user.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <ftw.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/util.h"
#include "store/cluster.h"
#include "store/store.h"

struct fixture {
	char base[512]; /* temporary directory, removed at the end */
	char home[1024];
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *root = getenv("SCOUT_TEST_HOME");

	if (!f)
		return -1;
	snprintf(f->base, sizeof(f->base), "%s/scout-cluster-XXXXXX", root && *root ? root : "/tmp");
	if (!mkdtemp(f->base) || chmod(f->base, 0755) < 0) {
		free(f);
		return -1;
	}
	snprintf(f->home, sizeof(f->home), "%s/home", f->base);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	serr e;

	if (cluster_stop(f->home, &e) < 0)
		print_error("cannot stop the test cluster: %s\n", e.msg);
	nftw(f->base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* Connect to conninfo and return current_user || '@' || current_database(). */
static void who_am_i(const char *conninfo, char *out, size_t outsz)
{
	struct store s;
	PGresult *r = NULL;
	serr e;

	if (store_open_url(&s, conninfo, &e) < 0)
		fail_msg("%s", e.msg);
	if (store_exec(&s, "ask who I am", "SELECT current_user || '@' || current_database()", 0,
		       NULL, &r, &e) < 0)
		fail_msg("%s", e.msg);
	snprintf(out, outsz, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	store_close(&s);
}

static long postmaster_pid(const char *home)
{
	char path[1200], line[32] = "";
	int64_t pid = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/pg/data/postmaster.pid", home);
	fp = fopen(path, "r");
	if (!fp)
		return -1;
	if (fgets(line, sizeof(line), fp))
		line[strcspn(line, "\n")] = '\0';
	fclose(fp);
	if (parse_i64(line, 1, INT32_MAX, &pid) < 0)
		return -1;
	return (long)pid;
}

static void cluster_starts_fresh_is_reused_stops_and_restarts(void **state)
{
	struct fixture *f = *state;
	struct buf ci, ci2;
	char who[256], data[1100];
	struct stat st;
	int running = -1;
	long pid;
	serr e;

	buf_init(&ci, 0);
	buf_init(&ci2, 0);
	assert_int_equal(cluster_status(f->home, &running, NULL, &e), 0);
	assert_int_equal(running, 0);

	if (cluster_start(f->home, &ci, &e) < 0)
		fail_msg("%s", e.msg);
	who_am_i(ci.data, who, sizeof(who));
	assert_string_equal(who, "scout@scout");
	snprintf(data, sizeof(data), "%s/pg/data", f->home);
	assert_int_equal(stat(data, &st), 0);
	if (geteuid() == 0)
		assert_int_not_equal(st.st_uid, 0); /* the server does not run as root */
	assert_int_equal(cluster_status(f->home, &running, &ci2, &e), 0);
	assert_int_equal(running, 1);
	assert_string_equal(ci.data, ci2.data);

	/* a second start reuses the running server */
	pid = postmaster_pid(f->home);
	assert_true(pid > 0);
	assert_int_equal(cluster_start(f->home, &ci2, &e), 0);
	assert_string_equal(ci.data, ci2.data);
	assert_int_equal(postmaster_pid(f->home), pid);

	assert_int_equal(cluster_stop(f->home, &e), 0);
	assert_int_equal(cluster_status(f->home, &running, NULL, &e), 0);
	assert_int_equal(running, 0);
	assert_int_equal(postmaster_pid(f->home), -1);
	assert_int_equal(cluster_stop(f->home, &e), 0); /* stopping twice is fine */

	/* the existing cluster starts again, data kept */
	if (cluster_start(f->home, &ci2, &e) < 0)
		fail_msg("%s", e.msg);
	assert_string_equal(ci.data, ci2.data);
	who_am_i(ci2.data, who, sizeof(who));
	assert_string_equal(who, "scout@scout");
	buf_free(&ci);
	buf_free(&ci2);
}

/* A server killed outright (and maybe never reaped) does not block the next start. */
static void killed_server_is_started_again(void **state)
{
	struct fixture *f = *state;
	struct buf ci;
	char who[256];
	int running = 1;
	long pid;
	serr e;

	buf_init(&ci, 0);
	if (cluster_start(f->home, &ci, &e) < 0)
		fail_msg("%s", e.msg);
	pid = postmaster_pid(f->home);
	assert_true(pid > 0);
	assert_int_equal(kill((pid_t)pid, SIGKILL), 0);
	for (int i = 0; i < 100 && running; i++) {
		assert_int_equal(cluster_status(f->home, &running, NULL, &e), 0);
		if (running)
			usleep(50 * 1000);
	}
	assert_int_equal(running, 0);
	if (cluster_start(f->home, &ci, &e) < 0)
		fail_msg("%s", e.msg);
	who_am_i(ci.data, who, sizeof(who));
	assert_string_equal(who, "scout@scout");
	assert_int_not_equal(postmaster_pid(f->home), pid);
	buf_free(&ci);
}

static void concurrent_starts_share_one_cluster(void **state)
{
	struct fixture *f = *state;
	struct buf ci;
	pid_t pids[3];
	char who[256];
	int running = 0;
	serr e;

	buf_init(&ci, 0);
	for (int i = 0; i < 3; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct buf c;

			buf_init(&c, 0);
			if (cluster_start(f->home, &c, &e) < 0) {
				fprintf(stderr, "child %d: %s\n", i, e.msg);
				_exit(1);
			}
			_exit(0);
		}
	}
	for (int i = 0; i < 3; i++) {
		int st = 0;

		assert_int_equal(waitpid(pids[i], &st, 0), pids[i]);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	assert_int_equal(cluster_status(f->home, &running, &ci, &e), 0);
	assert_int_equal(running, 1);
	who_am_i(ci.data, who, sizeof(who));
	assert_string_equal(who, "scout@scout");
	buf_free(&ci);
}

static void long_home_puts_the_socket_under_tmp(void **state)
{
	struct fixture *f = *state;
	struct buf ci, sock;
	char who[256];
	struct stat st;
	serr e;
	int fb = 0;
	size_t n = strlen(f->home);

	buf_init(&ci, 0);
	buf_init(&sock, 0);
	/* grow the home past the socket path limit */
	snprintf(f->home + n, sizeof(f->home) - n, "/%s",
		 "a-directory-name-long-enough-to-pass-the-unix-socket-path-limit-of-107-bytes");
	if (cluster_start(f->home, &ci, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(cluster_socket_dir(f->home, &sock, &fb, &e), 0);
	assert_int_equal(fb, 1);
	assert_non_null(strstr(ci.data, "host=%2Ftmp%2Fscout-pg-"));
	who_am_i(ci.data, who, sizeof(who));
	assert_string_equal(who, "scout@scout");
	assert_int_equal(cluster_stop(f->home, &e), 0);
	assert_int_equal(stat(sock.data, &st), -1); /* removed at stop */
	buf_free(&ci);
	buf_free(&sock);
}

static void home_the_server_user_cannot_reach_is_refused(void **state)
{
	struct fixture *f = *state;
	struct buf ci;
	serr e;

	if (geteuid() != 0)
		skip();
	buf_init(&ci, 0);
	assert_int_equal(chmod(f->base, 0700), 0);
	assert_int_equal(cluster_start(f->home, &ci, &e), -1);
	assert_non_null(strstr(e.msg, "cannot reach"));
	assert_non_null(strstr(e.msg, "chmod o+x"));
	assert_int_equal(chmod(f->base, 0755), 0);
	buf_free(&ci);
}

static void foreign_data_directory_is_not_overwritten(void **state)
{
	struct fixture *f = *state;
	char path[1200];
	struct buf ci;
	serr e;

	buf_init(&ci, 0);
	assert_int_equal(mkdir(f->home, 0755), 0);
	snprintf(path, sizeof(path), "%s/pg", f->home);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/pg/data", f->home);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(cluster_start(f->home, &ci, &e), -1);
	assert_non_null(strstr(e.msg, "is not a PostgreSQL data directory"));
	buf_free(&ci);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(cluster_starts_fresh_is_reused_stops_and_restarts,
						setup, teardown),
		cmocka_unit_test_setup_teardown(killed_server_is_started_again, setup, teardown),
		cmocka_unit_test_setup_teardown(concurrent_starts_share_one_cluster, setup, teardown),
		cmocka_unit_test_setup_teardown(long_home_puts_the_socket_under_tmp, setup, teardown),
		cmocka_unit_test_setup_teardown(home_the_server_user_cannot_reach_is_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(foreign_data_directory_is_not_overwritten, setup,
						teardown),
	};

	setenv("SCOUT_PG_FAST", "1", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
