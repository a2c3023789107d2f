/*
 * Unit tests of the store module that need no server: socket path limits,
 * finding the PostgreSQL programs, running them, array literals, URLs and
 * the embedded migrations.
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
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/util.h"
#include "store/cluster.h"
#include "store/migrate.h"
#include "store/pgtool.h"
#include "store/store.h"

/* "/h" followed by 'x' up to total length n. */
static void home_of_len(char *out, size_t n)
{
	out[0] = '/';
	for (size_t i = 1; i < n; i++)
		out[i] = 'x';
	out[n] = '\0';
}

static void socket_dir_stays_in_home_when_it_fits(void **state)
{
	struct buf d;
	serr e;
	int fb = -1;

	(void)state;
	buf_init(&d, 0);
	assert_int_equal(cluster_socket_dir("/srv/scout/var", &d, &fb, &e), 0);
	assert_string_equal(d.data, "/srv/scout/var/pg/run");
	assert_int_equal(fb, 0);
	buf_free(&d);
}

static void socket_dir_falls_back_at_the_unix_path_limit(void **state)
{
	char home[200];
	struct buf d, d2;
	serr e;
	int fb = -1;
	/* "<home>/pg/run/.s.PGSQL.5432" is strlen(home) + 21 bytes */
	size_t longest = CLUSTER_SOCKET_PATH_MAX - strlen("/pg/run/.s.PGSQL.5432");

	(void)state;
	buf_init(&d, 0);
	buf_init(&d2, 0);
	home_of_len(home, longest);
	assert_int_equal(cluster_socket_dir(home, &d, &fb, &e), 0);
	assert_int_equal(fb, 0);
	assert_int_equal(d.len + strlen("/.s.PGSQL.5432"), CLUSTER_SOCKET_PATH_MAX);

	home_of_len(home, longest + 1);
	assert_int_equal(cluster_socket_dir(home, &d, &fb, &e), 0);
	assert_int_equal(fb, 1);
	assert_true(str_starts_with(d.data, "/tmp/scout-pg-"));
	assert_true(d.len + strlen("/.s.PGSQL.5432") <= CLUSTER_SOCKET_PATH_MAX);
	/* stable for one home, distinct for another */
	assert_int_equal(cluster_socket_dir(home, &d2, &fb, &e), 0);
	assert_string_equal(d.data, d2.data);
	home[5] = 'y';
	assert_int_equal(cluster_socket_dir(home, &d2, &fb, &e), 0);
	assert_string_not_equal(d.data, d2.data);
	buf_free(&d);
	buf_free(&d2);
}

static void socket_dir_needs_an_absolute_home(void **state)
{
	struct buf d;
	serr e;

	(void)state;
	buf_init(&d, 0);
	assert_int_equal(cluster_socket_dir("var", &d, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "not an absolute path"));
	buf_free(&d);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void make_program(const char *root, const char *version, const char *prog)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, version);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/bin", root, version);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/bin/%s", root, version, prog);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\n", f);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
}

static void make_server(const char *root, const char *version)
{
	make_program(root, version, "initdb");
	make_program(root, version, "pg_ctl");
	make_program(root, version, "postgres");
}

static void scan_bindir_picks_the_highest_complete_version(void **state)
{
	char root[] = "/tmp/scout-bindir-XXXXXX";
	char want[600];
	struct buf d;
	serr e;

	(void)state;
	assert_non_null(mkdtemp(root));
	buf_init(&d, 0);
	make_server(root, "9.6");
	make_server(root, "13");
	make_server(root, "15");
	/* 16 has no server (client-only install); "tools" is not a version */
	make_program(root, "16", "psql");
	make_program(root, "16", "pg_ctl");
	make_server(root, "tools");
	assert_int_equal(pgtool_scan_bindir(root, &d, &e), 0);
	snprintf(want, sizeof(want), "%s/15/bin", root);
	assert_string_equal(d.data, want);
	buf_free(&d);
	nftw(root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void scan_bindir_orders_versions_numerically(void **state)
{
	char root[] = "/tmp/scout-bindir-XXXXXX";
	char want[600];
	struct buf d;
	serr e;

	(void)state;
	assert_non_null(mkdtemp(root));
	buf_init(&d, 0);
	make_server(root, "9.6");
	make_server(root, "10");
	assert_int_equal(pgtool_scan_bindir(root, &d, &e), 0);
	snprintf(want, sizeof(want), "%s/10/bin", root);
	assert_string_equal(d.data, want);
	buf_free(&d);
	nftw(root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void scan_bindir_reports_a_tree_without_servers(void **state)
{
	char root[] = "/tmp/scout-bindir-XXXXXX";
	struct buf d;
	serr e;

	(void)state;
	assert_non_null(mkdtemp(root));
	buf_init(&d, 0);
	make_program(root, "15", "psql");
	assert_int_equal(pgtool_scan_bindir(root, &d, &e), -1);
	assert_non_null(strstr(e.msg, "no PostgreSQL server programs"));
	buf_free(&d);
	nftw(root, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* PostgreSQL is a build dependency (scripts/deps.sh), so it is found here. */
static void find_bindir_finds_the_installed_server(void **state)
{
	struct buf d;
	serr e;

	(void)state;
	buf_init(&d, 0);
	assert_int_equal(pgtool_find_bindir(&d, &e), 0);
	assert_true(pgtool_bindir_ok(d.data));
	buf_free(&d);
}

static void tool_run_captures_output_and_exit_status(void **state)
{
	const char *argv[] = { "/bin/sh", "-c", "echo out; echo err >&2; exit 3", NULL };
	struct buf out;
	serr e;
	int status = -1;

	(void)state;
	buf_init(&out, 0);
	assert_int_equal(pgtool_run(argv, NULL, NULL, &out, &status, &e), 0);
	assert_int_equal(status, 3);
	assert_non_null(strstr(out.data, "out"));
	assert_non_null(strstr(out.data, "err"));
	buf_free(&out);
}

static void tool_run_hides_secrets_and_libpq_settings(void **state)
{
	const char *argv[] = { "env", NULL };
	struct buf out;
	serr e;
	int status = -1;

	(void)state;
	buf_init(&out, 0);
	setenv("DATABASE_URL", "postgresql://u:hunter2secret@db/x", 1);
	setenv("PGPORT", "7777", 1);
	setenv("SCOUT_VISIBLE", "yes", 1);
	assert_int_equal(pgtool_run(argv, NULL, NULL, &out, &status, &e), 0);
	assert_int_equal(status, 0);
	assert_null(strstr(out.data, "hunter2secret"));
	assert_null(strstr(out.data, "PGPORT"));
	assert_non_null(strstr(out.data, "SCOUT_VISIBLE=yes"));
	unsetenv("DATABASE_URL");
	unsetenv("PGPORT");
	buf_free(&out);
}

static void tool_run_keeps_output_to_its_cap(void **state)
{
	const char *argv[] = { "/bin/sh", "-c", "head -c 100000 /dev/zero | tr '\\0' a", NULL };
	struct buf out;
	serr e;
	int status = -1;

	(void)state;
	buf_init(&out, 1000);
	assert_int_equal(pgtool_run(argv, NULL, NULL, &out, &status, &e), 0);
	assert_int_equal(status, 0);
	assert_true(out.len <= 1000);
	assert_int_equal(out.overflow, 1);
	buf_free(&out);
}

static void text_array_quotes_every_element(void **state)
{
	const char *items[] = { "recA", "a\"b", "c\\d", "e,f", "{g}" };
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	assert_int_equal(store_text_array(&b, items, 5), 0);
	assert_string_equal(b.data, "{\"recA\",\"a\\\"b\",\"c\\\\d\",\"e,f\",\"{g}\"}");
	buf_reset(&b);
	assert_int_equal(store_text_array(&b, NULL, 0), 0);
	assert_string_equal(b.data, "{}");
	buf_free(&b);
}

static void url_with_dbname_keeps_server_and_swaps_database(void **state)
{
	struct buf u;
	serr e;

	(void)state;
	buf_init(&u, 0);
	assert_int_equal(store_url_with_dbname("postgresql:///scout?host=%2Ftmp%2Fa%20b&port=5432"
					       "&user=scout",
					       "t_x", &u, &e),
			 0);
	assert_true(str_starts_with(u.data, "postgresql:///t_x?"));
	assert_non_null(strstr(u.data, "host=%2Ftmp%2Fa%20b"));
	assert_non_null(strstr(u.data, "port=5432"));
	assert_non_null(strstr(u.data, "user=scout"));
	assert_null(strstr(u.data, "scout?"));
	assert_int_equal(store_url_with_dbname("host=/run/pg dbname=main user=me", "t_y", &u, &e),
			 0);
	assert_true(str_starts_with(u.data, "postgresql:///t_y?"));
	assert_non_null(strstr(u.data, "host=%2Frun%2Fpg"));
	assert_null(strstr(u.data, "main"));
	assert_int_equal(store_url_with_dbname("host='unterminated", "t", &u, &e), -1);
	assert_non_null(strstr(e.msg, "cannot parse"));
	buf_free(&u);
}

static void migrations_are_ordered_named_and_checksummed(void **state)
{
	struct migration *m = NULL;
	size_t n = 0;
	char sum[65];
	serr e;

	(void)state;
	assert_int_equal(migrations_list(&m, &n, &e), 0);
	assert_true(n >= 1);
	assert_int_equal(m[0].version, 1);
	assert_string_equal(m[0].name, "foundation");
	for (size_t i = 1; i < n; i++)
		assert_true(m[i].version > m[i - 1].version);
	sha256_hex(m[0].sql, m[0].len, sum);
	assert_string_equal(m[0].checksum, sum);
	assert_non_null(strstr(m[0].sql, "CREATE TABLE raw_candidates"));
	free(m);
}

static void tail_keeps_the_end_on_one_line(void **state)
{
	const char text[] = "first line\nsecond line\nFATAL: the reason\n";
	char out[64];

	(void)state;
	pgtool_tail(text, strlen(text), 1000, out, sizeof(out));
	assert_string_equal(out, "first line; second line; FATAL: the reason");
	pgtool_tail(text, strlen(text), 25, out, sizeof(out));
	assert_string_equal(out, "FATAL: the reason");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(socket_dir_stays_in_home_when_it_fits),
		cmocka_unit_test(socket_dir_falls_back_at_the_unix_path_limit),
		cmocka_unit_test(socket_dir_needs_an_absolute_home),
		cmocka_unit_test(scan_bindir_picks_the_highest_complete_version),
		cmocka_unit_test(scan_bindir_orders_versions_numerically),
		cmocka_unit_test(scan_bindir_reports_a_tree_without_servers),
		cmocka_unit_test(find_bindir_finds_the_installed_server),
		cmocka_unit_test(tool_run_captures_output_and_exit_status),
		cmocka_unit_test(tool_run_hides_secrets_and_libpq_settings),
		cmocka_unit_test(tool_run_keeps_output_to_its_cap),
		cmocka_unit_test(text_array_quotes_every_element),
		cmocka_unit_test(url_with_dbname_keeps_server_and_swaps_database),
		cmocka_unit_test(migrations_are_ordered_named_and_checksummed),
		cmocka_unit_test(tail_keeps_the_end_on_one_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
