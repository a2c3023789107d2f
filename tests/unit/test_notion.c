/* Unit tests of the Notion client's pure parts: page ids from links and block trees to markdown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "core/buf.h"
#include "notion/markdown.h"
#include "notion/notion.h"

#define PID "0f3c2a9e-4b7d-4e5f-8a1b-2c3d4e5f6a7b"
#define HEX "0f3c2a9e4b7d4e5f8a1b2c3d4e5f6a7b"
#define VIEW "aaaabbbbccccddddeeeeffff00001111"
#define DB "99998888777766665555444433332222"

static void page_ids_come_from_every_link_shape(void **state)
{
	static const char *const ok[] = {
		"https://www.notion.so/acme/Senior-Rust-Engineer-" HEX,
		"https://www.notion.so/" HEX,
		"https://notion.so/Senior-Rust-Engineer-" HEX "?pvs=4",
		"https://acme.notion.site/Senior-Rust-Engineer-" HEX,
		"https://acme.notion.site/" HEX "?pvs=25",
		"https://www.notion.so/acme/" DB "?v=" VIEW "&p=" HEX "&pm=s",
		"https://www.notion.so/acme/Jobs-" DB "?p=" HEX,
		"https://www.notion.so/acme/Title-" HEX "#3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f",
		"https://www.notion.so/" PID,
		"https://www.notion.so/acme/Role-" PID,
		HEX,
		PID,
		"0F3C2A9E4B7D4E5F8A1B2C3D4E5F6A7B",
		"  https://www.notion.so/Title-" HEX "  \n",
		"www.notion.so/Title-" HEX,
		"notion://www.notion.so/Title-" HEX,
		"https://www.notion.so/Title-" HEX "/",
		"https://www.notion.so/Web3-2024-Role-v2-" HEX,
		"HTTPS://WWW.NOTION.SO/Title-" HEX,
		"https://www.notion.so:443/Title-" HEX,
		"https://www.notion.com/acme/Title-" HEX,
	};
	char out[37];
	serr e;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		memset(out, 'x', sizeof(out));
		if (notion_page_id_from_url(ok[i], out, &e) != 0)
			fail_msg("'%s' was refused: %s", ok[i], e.msg);
		assert_string_equal(out, PID);
	}
}

static void database_view_link_without_a_page_gives_the_database_id(void **state)
{
	char out[37];
	serr e;

	(void)state;
	assert_int_equal(notion_page_id_from_url("https://www.notion.so/acme/" DB "?v=" VIEW, out, &e), 0);
	assert_string_equal(out, "99998888-7777-6666-5555-444433332222");
}

static void foreign_and_malformed_links_are_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"   ",
		"https://example.com/Title-" HEX,
		"https://notion.so.evil.com/Title-" HEX,
		"https://evilnotion.so/Title-" HEX,
		"https://www.notion.so@evil.com/Title-" HEX,
		"https://user@www.notion.so/Title-" HEX,
		"https://www.notion.so/acme/Title-abc",
		"https://www.notion.so/",
		"https://www.notion.so",
		"https://www.notion.so/Title-0f3c2a9e4b7d4e5f8a1b2c3d4e5f6a7",
		"https://www.notion.so/Title" HEX,
		"https://www.notion.so/Title-" HEX "zz",
		"0f3c2a9e4b7d4e5f8a1b2c3d4e5f6a7bc",
		"0f3c2a9e-4b7d4e5f-8a1b-2c3d4e5f6a7b",
		"ftp://www.notion.so/Title-" HEX,
		"https://docs.google.com/document/d/" HEX "/edit",
		"https://www.notion.so:8080/Title-" HEX,
		"Senior Rust Engineer, remote, see the call notes",
	};
	char out[37];
	serr e;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e.msg[0] = '\0';
		if (notion_page_id_from_url(bad[i], out, &e) != -1)
			fail_msg("'%s' was accepted as %s", bad[i], out);
		assert_true(strlen(e.msg) > 0);
		assert_null(strchr(e.msg, '\n'));
	}
	assert_int_equal(notion_page_id_from_url(NULL, out, &e), -1);
}

static void refusal_names_the_link_and_overlong_links_are_cut(void **state)
{
	char out[37], *huge;
	serr e;

	(void)state;
	assert_int_equal(notion_page_id_from_url("https://example.com/jd", out, &e), -1);
	assert_non_null(strstr(e.msg, "'https://example.com/jd'"));
	huge = malloc(10000);
	assert_non_null(huge);
	memset(huge, 'a', 9999);
	huge[9999] = '\0';
	assert_int_equal(notion_page_id_from_url(huge, out, &e), -1);
	assert_non_null(strstr(e.msg, "longer than"));
	assert_true(strlen(e.msg) < 300);
	free(huge);
}

/* ---- markdown ---- */

static json_t *rt_run(const char *text, int bold, int italic, int code, const char *href)
{
	return json_pack("{s:s, s:{s:s, s:o}, s:{s:b, s:b, s:b, s:b, s:b, s:s}, s:s, s:o}", "type",
			 "text", "text", "content", text, "link",
			 href ? json_pack("{s:s}", "url", href) : json_null(), "annotations", "bold",
			 bold, "italic", italic, "strikethrough", 0, "underline", 0, "code", code,
			 "color", "default", "plain_text", text, "href",
			 href ? json_string(href) : json_null());
}

static json_t *rt(const char *text)
{
	return json_pack("[o]", rt_run(text, 0, 0, 0, NULL));
}

static json_t *block_with(const char *type, json_t *body, json_t *children)
{
	json_t *b = json_pack("{s:s, s:s, s:s, s:b, s:o}", "object", "block", "id",
			      "11111111-2222-3333-4444-555555555555", "type", type, "has_children",
			      children != NULL, type, body);
	if (children)
		json_object_set_new(b, "children", children);
	return b;
}

static json_t *text_block(const char *type, const char *text, json_t *children)
{
	return block_with(type, json_pack("{s:o, s:s}", "rich_text", rt(text), "color", "default"),
			  children);
}

static char *render(json_t *blocks)
{
	struct buf md;
	serr e;

	buf_init(&md, 0);
	if (notion_blocks_md(blocks, &md, &e) != 0)
		fail_msg("render failed: %s", e.msg);
	json_decref(blocks);
	return buf_detach(&md);
}

static void block_tree_renders_as_markdown(void **state)
{
	json_t *blocks = json_array(), *para, *table;
	char *md;

	(void)state;
	json_array_append_new(blocks, text_block("heading_1", "Senior Rust Engineer", NULL));
	para = json_pack("[o,o,o,o,o,o,o,o]", rt_run("We build ", 0, 0, 0, NULL),
			 rt_run("zero-knowledge", 1, 0, 0, NULL), rt_run(" rollups. ", 0, 0, 0, NULL),
			 rt_run("Remote", 0, 1, 0, NULL), rt_run(" first, ", 0, 0, 0, NULL),
			 rt_run("cargo test", 0, 0, 1, NULL), rt_run(", see ", 0, 0, 0, NULL),
			 rt_run("our site", 0, 0, 0, "https://acme.example/about us"));
	json_array_append_new(blocks, block_with("paragraph", json_pack("{s:o}", "rich_text", para), NULL));
	json_array_append_new(
		blocks,
		text_block("bulleted_list_item", "Rust",
			   json_pack("[o,o]", text_block("bulleted_list_item", "Tokio", NULL),
				     text_block("bulleted_list_item", "Serde",
						json_pack("[o,o]",
							  text_block("numbered_list_item", "one", NULL),
							  text_block("numbered_list_item", "two", NULL))))));
	json_array_append_new(blocks, text_block("numbered_list_item", "First", NULL));
	json_array_append_new(blocks, text_block("numbered_list_item", "Second", NULL));
	json_array_append_new(blocks, text_block("paragraph", "Para", NULL));
	json_array_append_new(blocks, text_block("numbered_list_item", "Again", NULL));
	json_array_append_new(blocks, block_with("to_do", json_pack("{s:o, s:b}", "rich_text", rt("Send CV"), "checked", 0), NULL));
	json_array_append_new(blocks, block_with("to_do", json_pack("{s:o, s:b}", "rich_text", rt("Intro call"), "checked", 1), NULL));
	json_array_append_new(blocks, text_block("toggle", "Benefits", json_pack("[o]", text_block("paragraph", "Equity", NULL))));
	json_array_append_new(blocks, text_block("quote", "Ship it\nthen iterate", NULL));
	json_array_append_new(blocks, block_with("callout", json_pack("{s:o, s:{s:s, s:s}}", "rich_text", rt("Tip"), "icon", "type", "emoji", "emoji", "\xf0\x9f\x92\xa1"), NULL));
	json_array_append_new(blocks, block_with("code", json_pack("{s:o, s:s, s:[]}", "rich_text", rt("fn main() {}\n"), "language", "rust", "caption"), NULL));
	json_array_append_new(blocks, block_with("divider", json_object(), NULL));
	table = json_pack("[o,o]",
			  block_with("table_row", json_pack("{s:[o,o]}", "cells", rt("Skill"), rt("Level")), NULL),
			  block_with("table_row", json_pack("{s:[o,o]}", "cells", rt("Rust"), rt("Expert | 5y")), NULL));
	json_array_append_new(blocks, block_with("table", json_pack("{s:i, s:b, s:b}", "table_width", 2, "has_column_header", 1, "has_row_header", 0), table));
	json_array_append_new(blocks, block_with("bookmark", json_pack("{s:s, s:[]}", "url", "https://acme.example/jobs", "caption"), NULL));
	json_array_append_new(blocks, block_with("image", json_pack("{s:s, s:{s:s}, s:o}", "type", "external", "external", "url", "https://img.example/team.png", "caption", rt("Team")), NULL));
	json_array_append_new(blocks, block_with("child_page", json_pack("{s:s}", "title", "Interview process"), NULL));
	json_array_append_new(blocks, block_with("ai_block", json_object(), NULL));
	json_array_append_new(blocks, block_with("paragraph", json_pack("{s:[]}", "rich_text"), NULL));
	json_array_append_new(blocks, block_with("heading_3", json_pack("{s:[o,o]}", "rich_text", rt_run("bold ", 1, 0, 0, NULL), rt_run("end", 0, 0, 0, NULL)), NULL));

	md = render(blocks);
	assert_string_equal(md,
			    "## Senior Rust Engineer\n"
			    "\n"
			    "We build **zero-knowledge** rollups. *Remote* first, `cargo test`, see [our site](https://acme.example/about%20us)\n"
			    "\n"
			    "- Rust\n"
			    "  - Tokio\n"
			    "  - Serde\n"
			    "    1. one\n"
			    "    2. two\n"
			    "1. First\n"
			    "2. Second\n"
			    "\n"
			    "Para\n"
			    "\n"
			    "1. Again\n"
			    "- [ ] Send CV\n"
			    "- [x] Intro call\n"
			    "- Benefits\n"
			    "  Equity\n"
			    "\n"
			    "> Ship it\n"
			    "> then iterate\n"
			    "\n"
			    "> \xf0\x9f\x92\xa1 Tip\n"
			    "\n"
			    "```rust\n"
			    "fn main() {}\n"
			    "```\n"
			    "\n"
			    "---\n"
			    "\n"
			    "| Skill | Level |\n"
			    "| --- | --- |\n"
			    "| Rust | Expert \\| 5y |\n"
			    "\n"
			    "[https://acme.example/jobs](https://acme.example/jobs)\n"
			    "\n"
			    "![Team](https://img.example/team.png)\n"
			    "\n"
			    "## Interview process\n"
			    "\n"
			    "#### **bold** end\n");
	free(md);
}

static void runs_with_equal_marks_merge_and_code_escapes_backticks(void **state)
{
	struct buf out;
	json_t *r = json_pack("[o,o,o,o]", rt_run("a", 1, 0, 0, NULL), rt_run("b", 1, 0, 0, NULL),
			      rt_run(" and ", 0, 0, 0, NULL), rt_run("x`y", 0, 0, 1, NULL));
	serr e;

	(void)state;
	buf_init(&out, 0);
	assert_int_equal(notion_rich_text_md(r, &out, &e), 0);
	assert_string_equal(out.data, "**ab** and ``x`y``");
	json_decref(r);
	buf_free(&out);
}

static void table_without_header_gets_an_empty_one(void **state)
{
	json_t *rows = json_pack("[o]", block_with("table_row", json_pack("{s:[o,o]}", "cells", rt("a"), rt("b\nc")), NULL));
	json_t *blocks = json_pack("[o]", block_with("table", json_pack("{s:i, s:b}", "table_width", 2, "has_column_header", 0), rows));
	char *md = render(blocks);

	(void)state;
	assert_string_equal(md, "|  |  |\n| --- | --- |\n| a | b<br>c |\n");
	free(md);
}

static void notion_hosted_files_keep_no_signed_url(void **state)
{
	json_t *blocks = json_pack("[o,o]",
				   block_with("file", json_pack("{s:s, s:{s:s}, s:[], s:s}", "type", "file", "file", "url", "https://s3.example/secret?X-Amz-Signature=abc", "caption", "name", "brief.pdf"), NULL),
				   block_with("link_to_page", json_pack("{s:s, s:s}", "type", "page_id", "page_id", PID), NULL));
	char *md = render(blocks);

	(void)state;
	assert_null(strstr(md, "Signature"));
	assert_string_equal(md, "[file: brief.pdf]\n\n[linked page](https://www.notion.so/" PID ")\n");
	free(md);
}

static void absurd_nesting_is_refused_not_recursed_forever(void **state)
{
	json_t *b = text_block("bulleted_list_item", "leaf", NULL), *blocks;
	struct buf md;
	serr e;

	(void)state;
	for (int i = 0; i < 40; i++)
		b = text_block("bulleted_list_item", "level", json_pack("[o]", b));
	blocks = json_pack("[o]", b);
	buf_init(&md, 0);
	assert_int_equal(notion_blocks_md(blocks, &md, &e), -1);
	assert_non_null(strstr(e.msg, "deeper than"));
	json_decref(blocks);
	buf_free(&md);
}

static void markdown_over_the_cap_is_an_error(void **state)
{
	json_t *blocks = json_array();
	struct buf md;
	serr e;

	(void)state;
	for (int i = 0; i < 100; i++)
		json_array_append_new(blocks, text_block("paragraph", "a paragraph of some length", NULL));
	buf_init(&md, 512);
	assert_int_equal(notion_blocks_md(blocks, &md, &e), -1);
	assert_non_null(strstr(e.msg, "does not fit"));
	json_decref(blocks);
	buf_free(&md);
}

static void init_refuses_a_missing_api_key(void **state)
{
	struct config cfg;
	struct notion n;
	serr e;

	(void)state;
	assert_int_equal(config_init(&cfg, &e), 0);
	assert_int_equal(notion_init(&n, &cfg, &e), -1);
	assert_non_null(strstr(e.msg, "NOTION_API_KEY"));
	notion_free(&n);
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(page_ids_come_from_every_link_shape),
		cmocka_unit_test(database_view_link_without_a_page_gives_the_database_id),
		cmocka_unit_test(foreign_and_malformed_links_are_refused),
		cmocka_unit_test(refusal_names_the_link_and_overlong_links_are_cut),
		cmocka_unit_test(block_tree_renders_as_markdown),
		cmocka_unit_test(runs_with_equal_marks_merge_and_code_escapes_backticks),
		cmocka_unit_test(table_without_header_gets_an_empty_one),
		cmocka_unit_test(notion_hosted_files_keep_no_signed_url),
		cmocka_unit_test(absurd_nesting_is_refused_not_recursed_forever),
		cmocka_unit_test(markdown_over_the_cap_is_an_error),
		cmocka_unit_test(init_refuses_a_missing_api_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
