/* Integration tests of the Notion client against the simulator: paging, nesting, 429s, faults, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/util.h"
#include "notion/notion.h"
#include "sim/generate.h"
#include "support/harness_sim.h"

struct fixture {
	struct sim *sim;
	struct config cfg;
	char long_page[37]; /* the generated job description with 100+ blocks */
	char long_title[256];
};

/* A small generated base whose first job has the long Notion page. */
static int load_generated(struct fixture *f)
{
	struct sample_opts o;
	json_t *base, *jobs, *link, *pages, *p;
	size_t i;
	serr e;

	sample_opts_init(&o);
	o.seed = 2024;
	o.candidates = 12;
	o.jobs = 2;
	o.with_pdfs = 0;
	o.base_id = "appNotionTest0001";
	base = sample_generate(&o, &e);
	if (!base)
		return -1;
	jobs = json_object_get(json_array_get(json_object_get(base, "tables"), 1), "records");
	link = json_object_get(json_object_get(json_array_get(jobs, 0), "fields"), "Job Description Link");
	if (!json_is_string(link) ||
	    notion_page_id_from_url(json_string_value(link), f->long_page, &e) < 0)
		goto fail;
	pages = json_object_get(json_object_get(base, "notion"), "pages");
	json_array_foreach(pages, i, p) {
		char id[37];
		if (notion_page_id_from_url(json_string_value(json_object_get(p, "id")), id, &e) == 0 &&
		    strcmp(id, f->long_page) == 0)
			snprintf(f->long_title, sizeof(f->long_title), "%s",
				 json_string_value(json_object_get(p, "title")));
	}
	if (sim_load_base(f->sim, base, &e) < 0) {
		fprintf(stderr, "load: %s\n", e.msg);
		goto fail;
	}
	json_decref(base);
	return 0;
fail:
	json_decref(base);
	return -1;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	serr e;

	if (!f)
		return -1;
	f->sim = harness_sim_start(NULL);
	if (!f->sim || config_init(&f->cfg, &e) < 0 ||
	    config_set(&f->cfg, "notion.api_url", sim_url(f->sim), &e) < 0 ||
	    config_set(&f->cfg, "notion.api_key", HARNESS_SIM_KEY, &e) < 0 ||
	    config_set(&f->cfg, "home", "", &e) < 0 ||
	    config_set(&f->cfg, "notion.backoff_ms", "50", &e) < 0 || load_generated(f) < 0) {
		fprintf(stderr, "setup: %s\n", e.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	harness_sim_stop(f->sim);
	config_free(&f->cfg);
	free(f);
	return 0;
}

static char *page_md(struct fixture *f, const char *id, struct notion_stats *stats, serr *e,
		     int *rc)
{
	struct notion n;
	struct buf md;

	buf_init(&md, 0);
	*rc = -1;
	if (notion_init(&n, &f->cfg, e) == 0) {
		*rc = notion_page_markdown(&n, id, &md, e);
		if (stats)
			*stats = n.stats;
	}
	notion_free(&n);
	return buf_detach(&md);
}

/* Notion requests in the simulator's log with this status. */
static size_t notion_requests(struct sim *s, long status, const char *query_key)
{
	json_t *log = sim_requests(s), *r;
	size_t i, n = 0;

	json_array_foreach(log, i, r) {
		const char *api = json_string_value(json_object_get(r, "api"));
		if (!api || strcmp(api, "notion") != 0)
			continue;
		if (status && json_integer_value(json_object_get(r, "status")) != status)
			continue;
		if (query_key && !json_object_get(json_object_get(r, "query"), query_key))
			continue;
		n++;
	}
	json_decref(log);
	return n;
}

static void small_page_renders_title_nesting_and_marks(void **state)
{
	struct fixture *f = *state;
	serr e;
	int rc;
	char *md = page_md(f, "https://www.notion.so/Senior-Rust-Engineer-" HARNESS_PAGE, NULL, &e, &rc);

	if (rc != 0)
		fail_msg("%s", e.msg);
	assert_string_equal(md, "# Senior Rust Engineer\n"
				"\n"
				"### About the role\n"
				"\n"
				"We build databases in Rust.\n"
				"\n"
				"- Rust\n"
				"  five years or more\n"
				"\n"
				"Remote, **EU time zones**\n");
	free(md);
}

static void long_nested_page_is_rendered_across_cursor_pages(void **state)
{
	struct fixture *f = *state;
	struct notion_stats st;
	char line[64], title[300];
	serr e;
	int rc;
	char *md;

	sim_requests_clear(f->sim);
	md = page_md(f, f->long_page, &st, &e, &rc);
	if (rc != 0)
		fail_msg("%s", e.msg);
	snprintf(title, sizeof(title), "# %s\n\n", f->long_title);
	assert_true(str_starts_with(md, title));
	/* every handbook item past the first 100 blocks is there, in order */
	for (int i = 1; i <= 112; i++) {
		snprintf(line, sizeof(line), "%d. ", i);
		assert_non_null(strstr(md, line));
	}
	assert_true(strstr(md, "111. ") < strstr(md, "112. "));
	/* two levels of nesting under the first requirement */
	assert_non_null(strstr(md, "\n  - Production experience, not only side projects\n"
				   "    Open-source work counts as production experience.\n"));
	assert_non_null(strstr(md, "](https://www."));
	assert_non_null(strstr(md, "- [x] Read our public engineering blog\n"));
	assert_non_null(strstr(md, "\n---\n"));
	/* the top level took more than one cursor page */
	assert_true(notion_requests(f->sim, 200, "start_cursor") >= 1);
	assert_int_equal(notion_requests(f->sim, 429, NULL), 0);
	assert_int_equal(st.rate_limited, 0);
	free(md);
}

static void rate_limit_with_retry_after_is_survived(void **state)
{
	struct fixture *f = *state;
	struct sim_fault fault;
	struct notion_stats st;
	json_t *log, *r;
	int64_t limited_end = 0, next_start = 0;
	size_t i;
	serr e;
	int rc;
	char *md;

	sim_fault_init(&fault, SIM_FAULT_429);
	fault.count = 2;
	snprintf(fault.path_contains, sizeof(fault.path_contains), "/v1/blocks/");
	assert_int_equal(sim_add_fault(f->sim, &fault, &e), 0);
	sim_requests_clear(f->sim);
	md = page_md(f, f->long_page, &st, &e, &rc);
	if (rc != 0)
		fail_msg("%s", e.msg);
	assert_non_null(strstr(md, "112. "));
	assert_int_equal(st.rate_limited, 2);
	assert_int_equal(notion_requests(f->sim, 429, NULL), 2);
	/* the retry waited at least the Retry-After the server asked for */
	log = sim_requests(f->sim);
	json_array_foreach(log, i, r) {
		if (json_integer_value(json_object_get(r, "status")) == 429)
			limited_end = json_integer_value(json_object_get(r, "end_ms"));
		else if (limited_end && !next_start)
			next_start = json_integer_value(json_object_get(r, "start_ms"));
	}
	json_decref(log);
	assert_true(next_start - limited_end >= 900);
	free(md);
}

static void server_errors_and_timeouts_are_retried(void **state)
{
	struct fixture *f = *state;
	struct sim_fault fault;
	struct notion_stats st;
	serr e;
	int rc;
	char *md;

	assert_int_equal(config_set(&f->cfg, "notion.timeout_ms", "1000", &e), 0);
	sim_fault_init(&fault, SIM_FAULT_503);
	fault.count = 1;
	snprintf(fault.path_contains, sizeof(fault.path_contains), "/v1/pages/");
	assert_int_equal(sim_add_fault(f->sim, &fault, &e), 0);
	sim_fault_init(&fault, SIM_FAULT_TIMEOUT);
	fault.count = 1;
	fault.timeout_ms = 3000;
	snprintf(fault.path_contains, sizeof(fault.path_contains), "/children");
	assert_int_equal(sim_add_fault(f->sim, &fault, &e), 0);
	md = page_md(f, HARNESS_PAGE, &st, &e, &rc);
	if (rc != 0)
		fail_msg("%s", e.msg);
	assert_true(str_starts_with(md, "# Senior Rust Engineer\n"));
	assert_int_equal(st.server_errors, 1);
	assert_int_equal(st.transport_errors, 1);
	free(md);
}

static void unshared_page_says_to_share_it(void **state)
{
	struct fixture *f = *state;
	serr e;
	int rc;
	char *md = page_md(f, "https://www.notion.so/acme/Gone-11112222333344445555666677778888", NULL, &e, &rc);

	assert_int_equal(rc, -1);
	assert_non_null(strstr(e.msg, "'11112222-3333-4444-5555-666677778888'"));
	assert_non_null(strstr(e.msg, "object_not_found"));
	assert_non_null(strstr(e.msg, "Connections"));
	assert_int_equal(strlen(md), 0);
	free(md);
}

static void wrong_key_is_reported_without_the_key(void **state)
{
	struct fixture *f = *state;
	serr e;
	int rc;
	char *md;

	assert_int_equal(config_set(&f->cfg, "notion.api_key", "secret_wrongWrongWrong123", &e), 0);
	md = page_md(f, HARNESS_PAGE, NULL, &e, &rc);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(e.msg, "401"));
	assert_non_null(strstr(e.msg, "NOTION_API_KEY"));
	assert_null(strstr(e.msg, "wrongWrong"));
	free(md);
}

static void block_budget_stops_a_huge_page(void **state)
{
	struct fixture *f = *state;
	serr e;
	int rc;
	char *md;

	assert_int_equal(config_set(&f->cfg, "notion.max_blocks", "50", &e), 0);
	md = page_md(f, f->long_page, NULL, &e, &rc);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(e.msg, "more than 50 blocks (notion.max_blocks)"));
	free(md);
}

static void depth_limit_leaves_deep_children_out(void **state)
{
	struct fixture *f = *state;
	serr e;
	int rc;
	char *md;

	assert_int_equal(config_set(&f->cfg, "notion.max_depth", "1", &e), 0);
	md = page_md(f, HARNESS_PAGE, NULL, &e, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(md, "- Rust\n"));
	assert_null(strstr(md, "five years or more"));
	free(md);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(small_page_renders_title_nesting_and_marks, setup, teardown),
		cmocka_unit_test_setup_teardown(long_nested_page_is_rendered_across_cursor_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(rate_limit_with_retry_after_is_survived, setup, teardown),
		cmocka_unit_test_setup_teardown(server_errors_and_timeouts_are_retried, setup, teardown),
		cmocka_unit_test_setup_teardown(unshared_page_says_to_share_it, setup, teardown),
		cmocka_unit_test_setup_teardown(wrong_key_is_reported_without_the_key, setup, teardown),
		cmocka_unit_test_setup_teardown(block_budget_stops_a_huge_page, setup, teardown),
		cmocka_unit_test_setup_teardown(depth_limit_leaves_deep_children_out, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
