/*
 * `scout sim` as a command: it prints its URL, serves a generated base
 * behind the API key, refuses bad arguments, and stops cleanly on SIGTERM.
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
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "core/http.h"

#define KEY "simCliKey.0123456789"

static char scout_bin[PATH_MAX];

struct child {
	pid_t pid;
	int out; /* its stdout */
};

static void spawn(struct child *c, char *const argv[])
{
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	c->pid = fork();
	assert_true(c->pid >= 0);
	if (c->pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execv(scout_bin, argv);
		_exit(127);
	}
	close(fds[1]);
	c->out = fds[0];
}

/* The first line the child prints, within 20 s. */
static void read_line(struct child *c, char *line, size_t n)
{
	size_t len = 0;

	while (len + 1 < n) {
		struct pollfd p = { .fd = c->out, .events = POLLIN };
		char ch;
		if (poll(&p, 1, 20000) != 1)
			fail_msg("scout sim printed no url within 20 s");
		if (read(c->out, &ch, 1) != 1 || ch == '\n')
			break;
		line[len++] = ch;
	}
	line[len] = '\0';
}

static int wait_exit(struct child *c)
{
	int status;

	assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
	close(c->out);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static long get(const char *url, const char *bearer, json_t **body)
{
	struct http_client h;
	struct http_request rq = { 0 };
	struct http_response rs;
	json_error_t je;
	long status;
	serr e;

	assert_int_equal(http_client_init(&h, &e), 0);
	http_response_init(&rs);
	rq.url = url;
	rq.bearer = bearer;
	if (http_client_do(&h, &rq, &rs, &e) < 0)
		fail_msg("%s", e.msg);
	status = rs.status;
	if (body)
		*body = json_loads(buf_cstr(&rs.body), 0, &je);
	http_response_free(&rs);
	http_client_free(&h);
	return status;
}

static void scout_sim_serves_a_generated_base_and_stops_on_sigterm(void **state)
{
	char *argv[] = { "scout", "sim", "--port", "0", "--api-key", KEY, "--generate", "5",
			 "--candidates", "7", "--jobs", "2", NULL };
	struct child c;
	char url[256], req[512];
	json_t *body = NULL;

	(void)state;
	spawn(&c, argv);
	read_line(&c, url, sizeof(url));
	assert_true(strncmp(url, "http://127.0.0.1:", 17) == 0);
	snprintf(req, sizeof(req), "%s/v0/appScoutSample01/tblOkLOSo4Zjwp0yF", url);
	assert_int_equal(get(req, KEY, &body), 200);
	assert_non_null(body);
	assert_int_equal(json_array_size(json_object_get(body, "records")), 7);
	json_decref(body);
	assert_int_equal(get(req, NULL, NULL), 401);
	assert_int_equal(get(req, "wrong-key-000000", NULL), 401);
	assert_int_equal(kill(c.pid, SIGTERM), 0);
	assert_int_equal(wait_exit(&c), 0);
}

static void scout_sim_refuses_bad_arguments(void **state)
{
	char *argv[] = { "scout", "sim", "--port", "70000", NULL };
	struct child c;

	(void)state;
	spawn(&c, argv);
	assert_int_equal(wait_exit(&c), 2);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(scout_sim_serves_a_generated_base_and_stops_on_sigterm),
		cmocka_unit_test(scout_sim_refuses_bad_arguments),
	};
	char *cut;
	serr e;

	(void)argc;
	/* BUILD/tests/integration/test_sim_cli -> BUILD/scout */
	if (!realpath(argv[0], scout_bin))
		return 1;
	for (int i = 0; i < 3 && (cut = strrchr(scout_bin, '/')); i++)
		*cut = '\0';
	if (strlen(scout_bin) + 7 >= sizeof(scout_bin))
		return 1;
	memcpy(scout_bin + strlen(scout_bin), "/scout", 7);
	if (http_global_init(&e) < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
