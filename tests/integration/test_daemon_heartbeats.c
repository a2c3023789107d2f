/*
 * Integration tests of the heartbeats table against a real database: a
 * beat creates and refreshes a row, a restarted process gets a fresh
 * start time, old beats read as stale, bad input is refused, a clean
 * shutdown removes the row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <unistd.h>

#include "core/log.h"
#include "store/heartbeats.h"
#include "store/store.h"
#include "support/harness_db.h"

#define DB "daemon_heartbeats"

static int setup(void **state)
{
	struct store *st = calloc(1, sizeof(*st));
	serr e;

	if (!st)
		return -1;
	if (harness_db_open(DB, st, &e) < 0) {
		print_error("%s\n", e.msg);
		free(st);
		return -1;
	}
	*state = st;
	return 0;
}

static int teardown(void **state)
{
	struct store *st = *state;
	serr e;

	store_close(st);
	free(st);
	if (harness_db_drop(DB, &e) < 0)
		print_error("%s\n", e.msg);
	return 0;
}

static void exec_sql(struct store *st, const char *sql)
{
	serr e;

	if (store_exec(st, "run test SQL", sql, 0, NULL, NULL, &e) < 0)
		fail_msg("%s", e.msg);
}

static const struct heartbeat *find(const struct heartbeat_list *l, const char *component,
				    const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i].component, component) == 0 &&
		    strcmp(l->items[i].name, name) == 0)
			return &l->items[i];
	return NULL;
}

static void a_beat_creates_then_refreshes_one_row_with_host_and_pid(void **state)
{
	struct store *st = *state;
	struct heartbeat_list l;
	const struct heartbeat *h;
	char host[256], first_beat[40];
	serr e;

	exec_sql(st, "DELETE FROM heartbeats");
	heartbeat_list_init(&l);
	assert_int_equal(heartbeat_beat(st, "worker", "w1", "{\"running\":1}", &e), 0);
	assert_int_equal(heartbeat_list(st, NULL, &l, &e), 0);
	assert_int_equal(l.n, 1);
	h = find(&l, "worker", "w1");
	assert_non_null(h);
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	host[sizeof(host) - 1] = '\0';
	assert_string_equal(h->host, host);
	assert_int_equal(h->pid, (int)getpid());
	assert_int_equal(h->interval_ms, HEARTBEAT_INTERVAL_MS);
	assert_int_equal(h->stale, 0);
	assert_non_null(strstr(h->info_json, "\"running\": 1"));
	snprintf(first_beat, sizeof(first_beat), "%s", h->beat_at);

	exec_sql(st, "UPDATE heartbeats SET beat_at = now() - interval '1 minute'");
	assert_int_equal(heartbeat_beat(st, "worker", "w1", NULL, &e), 0);
	assert_int_equal(heartbeat_list(st, "worker", &l, &e), 0);
	assert_int_equal(l.n, 1);
	assert_true(strcmp(l.items[0].beat_at, first_beat) >= 0);
	assert_true(l.items[0].age_ms < 60000);
	assert_string_equal(l.items[0].info_json, "{}");
	heartbeat_list_free(&l);
}

static void a_restarted_process_gets_a_fresh_start_time(void **state)
{
	struct store *st = *state;
	struct heartbeat_list l;
	int64_t old_start = 0;
	serr e;

	exec_sql(st, "DELETE FROM heartbeats");
	heartbeat_list_init(&l);
	assert_int_equal(heartbeat_beat(st, "sensors", "s1", NULL, &e), 0);
	/* the row was left by another process an hour ago */
	exec_sql(st, "UPDATE heartbeats SET pid = 1, started_at = now() - interval '1 hour'");
	assert_int_equal(heartbeat_beat(st, "sensors", "s1", NULL, &e), 0);
	assert_int_equal(store_query_i64(st, "read started_at",
					 "SELECT extract(epoch FROM now() - started_at)::bigint"
					 " FROM heartbeats",
					 0, NULL, &old_start, &e),
			 0);
	assert_true(old_start < 60);
	/* the same process beating again keeps its start time */
	exec_sql(st, "UPDATE heartbeats SET started_at = now() - interval '1 hour'");
	assert_int_equal(heartbeat_beat(st, "sensors", "s1", NULL, &e), 0);
	assert_int_equal(store_query_i64(st, "read started_at",
					 "SELECT extract(epoch FROM now() - started_at)::bigint"
					 " FROM heartbeats",
					 0, NULL, &old_start, &e),
			 0);
	assert_true(old_start >= 3599);
	heartbeat_list_free(&l);
}

static void a_beat_older_than_three_intervals_is_stale(void **state)
{
	struct store *st = *state;
	struct heartbeat_list l;
	const struct heartbeat *fresh, *old, *slow;
	serr e;

	exec_sql(st, "DELETE FROM heartbeats");
	heartbeat_list_init(&l);
	assert_int_equal(heartbeat_beat(st, "worker", "fresh", NULL, &e), 0);
	assert_int_equal(heartbeat_beat(st, "worker", "old", NULL, &e), 0);
	assert_int_equal(heartbeat_beat_every(st, "web", "slow", 60000, NULL, &e), 0);
	/* 16 s is past 3 x 5 s; for a process beating every minute it is not */
	exec_sql(st, "UPDATE heartbeats SET beat_at = now() - interval '16 seconds'"
		     " WHERE name IN ('old', 'slow')");
	assert_int_equal(heartbeat_list(st, NULL, &l, &e), 0);
	assert_int_equal(l.n, 3);
	fresh = find(&l, "worker", "fresh");
	old = find(&l, "worker", "old");
	slow = find(&l, "web", "slow");
	assert_non_null(fresh);
	assert_non_null(old);
	assert_non_null(slow);
	assert_int_equal(fresh->stale, 0);
	assert_int_equal(old->stale, 1);
	assert_true(old->age_ms >= 16000);
	assert_int_equal(slow->stale, 0);
	heartbeat_list_free(&l);
}

static void bad_components_names_and_intervals_are_refused(void **state)
{
	struct store *st = *state;
	char longname[300];
	serr e;

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(heartbeat_beat(st, "janitor", "j1", NULL, &e), -1);
	assert_non_null(strstr(e.msg, "'janitor' is unknown"));
	assert_int_equal(heartbeat_beat(st, "worker", "", NULL, &e), -1);
	assert_non_null(strstr(e.msg, "empty name"));
	assert_int_equal(heartbeat_beat(st, "worker", longname, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "longer than"));
	assert_int_equal(heartbeat_beat_every(st, "worker", "w", 0, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "must be positive"));
	assert_int_equal(heartbeat_beat(st, "worker", "w", "not json", &e), -1);
	assert_non_null(strstr(e.msg, "heartbeat of worker 'w'"));
}

static void removing_a_heartbeat_forgets_only_that_process(void **state)
{
	struct store *st = *state;
	struct heartbeat_list l;
	serr e;

	exec_sql(st, "DELETE FROM heartbeats");
	heartbeat_list_init(&l);
	assert_int_equal(heartbeat_beat(st, "daemon", "d1", NULL, &e), 0);
	assert_int_equal(heartbeat_beat(st, "worker", "d1", NULL, &e), 0);
	assert_int_equal(heartbeat_remove(st, "daemon", "d1", &e), 0);
	assert_int_equal(heartbeat_remove(st, "daemon", "never-there", &e), 0);
	assert_int_equal(heartbeat_list(st, NULL, &l, &e), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.items[0].component, "worker");
	heartbeat_list_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_beat_creates_then_refreshes_one_row_with_host_and_pid),
		cmocka_unit_test(a_restarted_process_gets_a_fresh_start_time),
		cmocka_unit_test(a_beat_older_than_three_intervals_is_stale),
		cmocka_unit_test(bad_components_names_and_intervals_are_refused),
		cmocka_unit_test(removing_a_heartbeat_forgets_only_that_process),
	};
	log_set_level(LOG_WARN);
	return cmocka_run_group_tests(tests, setup, teardown);
}
