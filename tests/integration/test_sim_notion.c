/* The Notion side of the simulator over HTTP: pages, block children with cursor paging, nesting, rich text, and Notion's errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/buf.h"
#include "support/harness_sim.h"

#define BIG_PAGE "1a2b3c4d5e6f40718293a4b5c6d7e8f9"
#define BIG_PAGE_DASHED "1a2b3c4d-5e6f-4071-8293-a4b5c6d7e8f9"

static struct sim *sim;

/* A page of 250 paragraphs, a to-do, a code block, a nested toggle and one 4,500-character paragraph. */
static json_t *big_page(void)
{
	json_t *blocks = json_array();
	char text[32];
	char *long_text = malloc(4501);

	for (int i = 0; i < 250; i++) {
		snprintf(text, sizeof(text), "Line %03d", i);
		json_array_append_new(blocks, json_pack("{s:s, s:s}", "type", "paragraph", "text", text));
	}
	json_array_append_new(blocks, json_pack("{s:s, s:s, s:b}", "type", "to_do", "text", "Ship it",
						"checked", 1));
	json_array_append_new(blocks, json_pack("{s:s, s:s, s:s}", "type", "code", "text", "fn main() {}",
						"language", "rust"));
	json_array_append_new(blocks, json_pack("{s:s, s:s, s:[{s:s, s:s, s:[{s:s, s:s}]}]}", "type",
						"toggle", "text", "Details", "children", "type",
						"bulleted_list_item", "text", "level two", "children",
						"type", "paragraph", "text", "level three"));
	memset(long_text, 'x', 4500);
	long_text[4500] = '\0';
	json_array_append_new(blocks, json_pack("{s:s, s:s}", "type", "paragraph", "text", long_text));
	free(long_text);
	return json_pack("{s:s, s:[], s:{s:[{s:s, s:s, s:o}]}}", "id", "appNotionOnly0001", "tables",
			 "notion", "pages", "id", BIG_PAGE_DASHED, "title", "Data Engineer (Remote)",
			 "blocks", blocks);
}

static int setup(void **state)
{
	struct harness_sim_opts o;
	json_t *b;
	serr e;

	(void)state;
	harness_sim_opts_init(&o);
	o.notion_rate = 10000;
	sim = harness_sim_start(&o);
	if (!sim)
		return -1;
	b = big_page();
	if (sim_load_base(sim, b, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		json_decref(b);
		return -1;
	}
	json_decref(b);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	harness_sim_stop(sim);
	return 0;
}

static json_t *notion_get(const char *path)
{
	struct harness_sim_reply r;
	json_t *j;

	assert_int_equal(harness_sim_notion(sim, path, &r), 0);
	if (r.status != 200)
		fail_msg("GET %s: %ld %s", path, r.status, r.body ? r.body : "");
	j = json_incref(r.json);
	harness_sim_reply_free(&r);
	return j;
}

static void expect_notion_error(const char *path, const char *bearer, const char *header,
				long status, const char *code)
{
	struct harness_sim_reply r;

	assert_int_equal(harness_sim_call(sim, "GET", path, NULL, bearer, header, 0, &r), 0);
	assert_int_equal(r.status, status);
	assert_string_equal(json_string_value(json_object_get(r.json, "object")), "error");
	assert_int_equal(json_integer_value(json_object_get(r.json, "status")), status);
	assert_string_equal(json_string_value(json_object_get(r.json, "code")), code);
	assert_non_null(json_string_value(json_object_get(r.json, "message")));
	harness_sim_reply_free(&r);
}

static const char *plain(const json_t *block)
{
	const char *type = json_string_value(json_object_get(block, "type"));
	json_t *rt = json_object_get(json_object_get(block, type), "rich_text");

	return json_string_value(json_object_get(json_array_get(rt, 0), "plain_text"));
}

static void a_page_comes_with_its_title_with_or_without_dashes(void **state)
{
	json_t *p1 = notion_get("/v1/pages/" BIG_PAGE), *p2 = notion_get("/v1/pages/" BIG_PAGE_DASHED);
	json_t *title;

	(void)state;
	assert_string_equal(json_string_value(json_object_get(p1, "object")), "page");
	assert_string_equal(json_string_value(json_object_get(p1, "id")), BIG_PAGE_DASHED);
	assert_true(json_equal(p1, p2));
	title = json_object_get(json_object_get(json_object_get(p1, "properties"), "title"), "title");
	assert_string_equal(json_string_value(json_object_get(json_array_get(title, 0), "plain_text")),
			    "Data Engineer (Remote)");
	assert_non_null(strstr(json_string_value(json_object_get(p1, "url")), BIG_PAGE));
	json_decref(p1);
	json_decref(p2);
}

static void block_children_come_in_pages_linked_by_cursors(void **state)
{
	struct buf path;
	const char *cursor = NULL;
	json_t *page = NULL;
	size_t total = 0, pages = 0;

	(void)state;
	buf_init(&path, 1024);
	do {
		json_t *results;
		buf_reset(&path);
		assert_int_equal(buf_puts(&path, "/v1/blocks/" BIG_PAGE "/children?page_size=100"), 0);
		if (cursor)
			assert_int_equal(buf_printf(&path, "&start_cursor=%s", cursor), 0);
		json_decref(page);
		page = notion_get(path.data);
		results = json_object_get(page, "results");
		assert_string_equal(json_string_value(json_object_get(page, "object")), "list");
		if (pages == 0) {
			assert_string_equal(plain(json_array_get(results, 0)), "Line 000");
		}
		total += json_array_size(results);
		pages++;
		assert_true(json_is_true(json_object_get(page, "has_more")) ==
			    (json_string_value(json_object_get(page, "next_cursor")) != NULL));
		cursor = json_string_value(json_object_get(page, "next_cursor"));
	} while (cursor);
	assert_int_equal(total, 254);
	assert_int_equal(pages, 3);
	json_decref(page);
	buf_free(&path);
	/* without page_size Notion's default of 100 applies */
	page = notion_get("/v1/blocks/" BIG_PAGE "/children");
	assert_int_equal(json_array_size(json_object_get(page, "results")), 100);
	json_decref(page);
}

/* The last four top-level blocks of the big page (to-do, code, toggle, long paragraph). */
static json_t *last_blocks(void)
{
	json_t *page = notion_get("/v1/blocks/" BIG_PAGE "/children?page_size=100"), *r;

	for (int i = 0; i < 2; i++) {
		char path[256];
		snprintf(path, sizeof(path), "/v1/blocks/" BIG_PAGE "/children?page_size=100&start_cursor=%s",
			 json_string_value(json_object_get(page, "next_cursor")));
		json_decref(page);
		page = notion_get(path);
	}
	assert_int_equal(json_array_size(json_object_get(page, "results")), 54);
	r = json_array();
	for (size_t i = 50; i < 54; i++)
		json_array_append(r, json_array_get(json_object_get(page, "results"), i));
	json_decref(page);
	return r;
}

static void nested_blocks_have_children_reachable_by_their_own_id(void **state)
{
	json_t *last = last_blocks(), *toggle = json_array_get(last, 2), *lvl2, *lvl3;
	char path[256];

	(void)state;
	assert_string_equal(json_string_value(json_object_get(toggle, "type")), "toggle");
	assert_true(json_is_true(json_object_get(toggle, "has_children")));
	snprintf(path, sizeof(path), "/v1/blocks/%s/children", json_string_value(json_object_get(toggle, "id")));
	lvl2 = notion_get(path);
	assert_int_equal(json_array_size(json_object_get(lvl2, "results")), 1);
	assert_string_equal(plain(json_array_get(json_object_get(lvl2, "results"), 0)), "level two");
	snprintf(path, sizeof(path), "/v1/blocks/%s/children",
		 json_string_value(json_object_get(json_array_get(json_object_get(lvl2, "results"), 0), "id")));
	lvl3 = notion_get(path);
	assert_string_equal(plain(json_array_get(json_object_get(lvl3, "results"), 0)), "level three");
	assert_false(json_is_true(json_object_get(json_array_get(json_object_get(lvl3, "results"), 0), "has_children")));
	json_decref(lvl2);
	json_decref(lvl3);
	json_decref(last);
}

static void blocks_carry_their_type_specific_content(void **state)
{
	json_t *last = last_blocks(), *todo = json_array_get(last, 0), *code = json_array_get(last, 1);
	json_t *lng = json_array_get(last, 3), *rt;
	json_t *small = notion_get("/v1/blocks/" HARNESS_PAGE "/children"), *bold;

	(void)state;
	assert_true(json_is_true(json_object_get(json_object_get(todo, "to_do"), "checked")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(code, "code"), "language")), "rust");
	/* text is split into rich text objects of at most 2,000 characters */
	rt = json_object_get(json_object_get(lng, "paragraph"), "rich_text");
	assert_int_equal(json_array_size(rt), 3);
	assert_int_equal(strlen(json_string_value(json_object_get(json_array_get(rt, 0), "plain_text"))), 2000);
	assert_int_equal(strlen(json_string_value(json_object_get(json_array_get(rt, 2), "plain_text"))), 500);
	/* annotations of the small base's last paragraph */
	rt = json_object_get(json_object_get(json_array_get(json_object_get(small, "results"), 3), "paragraph"), "rich_text");
	bold = json_object_get(json_array_get(rt, 1), "annotations");
	assert_true(json_is_true(json_object_get(bold, "bold")));
	assert_false(json_is_true(json_object_get(json_object_get(json_array_get(rt, 0), "annotations"), "bold")));
	json_decref(small);
	json_decref(last);
}

static void notion_errors_have_notion_shapes(void **state)
{
	(void)state;
	expect_notion_error("/v1/pages/" BIG_PAGE, HARNESS_SIM_KEY, NULL, 400, "missing_version");
	expect_notion_error("/v1/pages/" BIG_PAGE, NULL, "Notion-Version: 2022-06-28", 401, "unauthorized");
	expect_notion_error("/v1/pages/" BIG_PAGE, "secret_wrong", "Notion-Version: 2022-06-28", 401,
			    "unauthorized");
	expect_notion_error("/v1/pages/00000000000040008000000000000000", HARNESS_SIM_KEY,
			    "Notion-Version: 2022-06-28", 404, "object_not_found");
	expect_notion_error("/v1/blocks/00000000000040008000000000000000/children", HARNESS_SIM_KEY,
			    "Notion-Version: 2022-06-28", 404, "object_not_found");
	expect_notion_error("/v1/pages/not-a-uuid", HARNESS_SIM_KEY, "Notion-Version: 2022-06-28", 400,
			    "validation_error");
	expect_notion_error("/v1/blocks/" BIG_PAGE "/children?page_size=101", HARNESS_SIM_KEY,
			    "Notion-Version: 2022-06-28", 400, "validation_error");
	expect_notion_error("/v1/blocks/" BIG_PAGE "/children?start_cursor=" HARNESS_PAGE,
			    HARNESS_SIM_KEY, "Notion-Version: 2022-06-28", 400, "validation_error");
	expect_notion_error("/v1/databases/" BIG_PAGE, HARNESS_SIM_KEY, "Notion-Version: 2022-06-28",
			    400, "invalid_request_url");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_page_comes_with_its_title_with_or_without_dashes),
		cmocka_unit_test(block_children_come_in_pages_linked_by_cursors),
		cmocka_unit_test(nested_blocks_have_children_reachable_by_their_own_id),
		cmocka_unit_test(blocks_carry_their_type_specific_content),
		cmocka_unit_test(notion_errors_have_notion_shapes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
