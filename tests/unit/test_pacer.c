/* Unit tests of the cross-process request pacer (core/pacer.h): slot spacing across processes and threads, holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pthread.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/pacer.h"

#define SLOTS_PER_PROC 8
#define RATE 20.0 /* 50 ms between slots: short test, clear spacing */

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct tmpdir {
	char path[256];
};

static void tmpdir_make(struct tmpdir *t)
{
	const char *base = getenv("SCOUT_TEST_HOME");

	snprintf(t->path, sizeof(t->path), "%s/pacer-XXXXXX", base && *base ? base : "/tmp");
	assert_non_null(mkdtemp(t->path));
}

static void tmpdir_remove(struct tmpdir *t, const char *key)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/pace/%s", t->path, key);
	unlink(p);
	snprintf(p, sizeof(p), "%s/pace", t->path);
	rmdir(p);
	rmdir(t->path);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/*
 * Child body: reserve n slots through the shared file, send each slot to
 * the parent, exit 2 when a wait returned before its slot.
 */
static void child_reserve(const char *home, const char *key, int fd, int n)
{
	struct pacer p;
	serr e;
	int early = 0;

	if (pacer_init(&p, home, key, RATE, 1.0, &e) < 0)
		_exit(3);
	for (int i = 0; i < n; i++) {
		int64_t slot;
		if (pacer_wait_slot(&p, &slot, &e) < 0)
			_exit(4);
		if (now_us() < slot)
			early = 1;
		if (write(fd, &slot, sizeof(slot)) != (ssize_t)sizeof(slot))
			_exit(5);
	}
	pacer_free(&p);
	_exit(early ? 2 : 0);
}

static void read_slots(int fd, int64_t *out, int n)
{
	for (int i = 0; i < n; i++)
		assert_int_equal(read(fd, &out[i], sizeof(out[i])), sizeof(out[i]));
}

static void two_processes_never_get_slots_closer_than_the_interval(void **state)
{
	struct tmpdir t;
	int64_t slots[2 * SLOTS_PER_PROC];
	int64_t interval = (int64_t)(1000000.0 / RATE);
	int pipes[2][2];
	pid_t pid[2];

	(void)state;
	tmpdir_make(&t);
	for (int c = 0; c < 2; c++) {
		assert_int_equal(pipe(pipes[c]), 0);
		pid[c] = fork();
		assert_true(pid[c] >= 0);
		if (pid[c] == 0) {
			close(pipes[c][0]);
			child_reserve(t.path, "airtable-appTest", pipes[c][1], SLOTS_PER_PROC);
		}
		close(pipes[c][1]);
	}
	for (int c = 0; c < 2; c++) {
		int status;
		read_slots(pipes[c][0], slots + c * SLOTS_PER_PROC, SLOTS_PER_PROC);
		close(pipes[c][0]);
		assert_int_equal(waitpid(pid[c], &status, 0), pid[c]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0); /* 2 = a wait ended before its slot */
	}
	qsort(slots, 2 * SLOTS_PER_PROC, sizeof(slots[0]), cmp_i64);
	for (int i = 1; i < 2 * SLOTS_PER_PROC; i++)
		assert_true(slots[i] - slots[i - 1] >= interval);
	tmpdir_remove(&t, "airtable-appTest");
}

static void hold_pushes_every_process_back(void **state)
{
	struct tmpdir t;
	struct pacer p;
	serr e;
	int64_t before, mine, theirs;
	int fds[2], status;
	pid_t pid;

	(void)state;
	tmpdir_make(&t);
	assert_int_equal(pacer_init(&p, t.path, "airtable-appHold", RATE, 1.0, &e), 0);
	before = now_us();
	assert_int_equal(pacer_hold(&p, 300, &e), 0);
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		child_reserve(t.path, "airtable-appHold", fds[1], 1);
	}
	close(fds[1]);
	read_slots(fds[0], &theirs, 1);
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(theirs >= before + 300000);
	assert_int_equal(pacer_wait_slot(&p, &mine, &e), 0);
	assert_true(mine >= before + 300000);
	assert_true(mine != theirs);
	pacer_free(&p);
	tmpdir_remove(&t, "airtable-appHold");
}

struct thread_arg {
	struct pacer *p;
	int64_t slots[SLOTS_PER_PROC];
	int rc;
};

static void *thread_reserve(void *ud)
{
	struct thread_arg *a = ud;
	serr e;

	for (int i = 0; i < SLOTS_PER_PROC; i++)
		if (pacer_wait_slot(a->p, &a->slots[i], &e) < 0)
			a->rc = -1;
	return NULL;
}

static void threads_sharing_one_in_process_pacer_are_spaced(void **state)
{
	struct pacer p;
	struct thread_arg a[2];
	pthread_t th[2];
	int64_t all[2 * SLOTS_PER_PROC];
	serr e;

	(void)state;
	assert_int_equal(pacer_init(&p, NULL, "local", RATE, 1.0, &e), 0);
	assert_int_equal(p.fd, -1);
	for (int i = 0; i < 2; i++) {
		memset(&a[i], 0, sizeof(a[i]));
		a[i].p = &p;
		assert_int_equal(pthread_create(&th[i], NULL, thread_reserve, &a[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(a[i].rc, 0);
		memcpy(all + i * SLOTS_PER_PROC, a[i].slots, sizeof(a[i].slots));
	}
	qsort(all, 2 * SLOTS_PER_PROC, sizeof(all[0]), cmp_i64);
	for (int i = 1; i < 2 * SLOTS_PER_PROC; i++)
		assert_true(all[i] - all[i - 1] >= p.interval_us);
	pacer_free(&p);
}

static void margin_widens_the_interval(void **state)
{
	struct pacer p;
	serr e;

	(void)state;
	assert_int_equal(pacer_init(&p, NULL, "m", 5.0, 0.5, &e), 0);
	assert_int_equal(p.interval_us, 400000);
	pacer_free(&p);
}

static void bad_rate_or_margin_is_refused_with_a_message(void **state)
{
	struct pacer p;
	serr e;

	(void)state;
	assert_int_equal(pacer_init(&p, NULL, "airtable-x", 0, 0.9, &e), -1);
	assert_non_null(strstr(e.msg, "airtable-x"));
	assert_int_equal(pacer_init(&p, NULL, "airtable-x", 5, 1.5, &e), -1);
	assert_int_equal(pacer_init(&p, NULL, "airtable-x", 5, 0, &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(two_processes_never_get_slots_closer_than_the_interval),
		cmocka_unit_test(hold_pushes_every_process_back),
		cmocka_unit_test(threads_sharing_one_in_process_pacer_are_spaced),
		cmocka_unit_test(margin_widens_the_interval),
		cmocka_unit_test(bad_rate_or_margin_is_refused_with_a_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
