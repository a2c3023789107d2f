/* Renders a fetched Notion block tree as markdown (see markdown.h). */
#include "notion/markdown.h"

#include <stdio.h>
#include <string.h>

#include "core/log.h"

#define MD_MAX_DEPTH 32

enum kind { K_NONE, K_LIST, K_OTHER };

static const char *str_at(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "";
}

static int flag_at(const json_t *obj, const char *key)
{
	return json_is_true(json_object_get(obj, key));
}

/* The formatting of one rich-text run; runs with equal formatting are merged. */
struct marks {
	int bold, italic, strike, code;
	const char *href;
	int equation;
};

static int marks_equal(const struct marks *a, const struct marks *b)
{
	return a->bold == b->bold && a->italic == b->italic && a->strike == b->strike &&
	       a->code == b->code && a->equation == b->equation && strcmp(a->href, b->href) == 0;
}

static void marks_of(const json_t *rt, struct marks *m)
{
	const json_t *ann = json_object_get(rt, "annotations");
	const char *href = json_string_value(json_object_get(rt, "href"));

	if (!href)
		href = json_string_value(
			json_object_get(json_object_get(json_object_get(rt, "text"), "link"), "url"));
	m->bold = flag_at(ann, "bold");
	m->italic = flag_at(ann, "italic");
	m->strike = flag_at(ann, "strikethrough");
	m->code = flag_at(ann, "code");
	m->equation = strcmp(str_at(rt, "type"), "equation") == 0;
	m->href = href ? href : "";
}

static const char *run_text(const json_t *rt)
{
	const json_t *pt = json_object_get(rt, "plain_text");

	if (json_is_string(pt))
		return json_string_value(pt);
	if (strcmp(str_at(rt, "type"), "equation") == 0)
		return str_at(json_object_get(rt, "equation"), "expression");
	return str_at(json_object_get(rt, "text"), "content");
}

static size_t longest_backtick_run(const char *s, size_t n)
{
	size_t best = 0, cur = 0;

	for (size_t i = 0; i < n; i++) {
		cur = s[i] == '`' ? cur + 1 : 0;
		if (cur > best)
			best = cur;
	}
	return best;
}

static int put_n(struct buf *b, char c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (buf_putc(b, c) < 0)
			return -1;
	return 0;
}

/* URLs go inside (...): spaces and parentheses are percent-encoded. */
static int put_href(struct buf *b, const char *u)
{
	for (; *u; u++) {
		int rc;
		if (*u == ' ')
			rc = buf_puts(b, "%20");
		else if (*u == '(')
			rc = buf_puts(b, "%28");
		else if (*u == ')')
			rc = buf_puts(b, "%29");
		else if ((unsigned char)*u < 0x20)
			rc = 0;
		else
			rc = buf_putc(b, *u);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/*
 * One formatted run. Emphasis markers must touch text, so surrounding
 * whitespace is moved outside them ("** x **" would not be bold).
 */
static int put_run(struct buf *b, const char *s, size_t n, const struct marks *m)
{
	size_t lead = 0, trail = 0, core;
	const char *emph = m->bold && m->italic ? "***" : m->bold ? "**" : m->italic ? "*" : "";

	while (lead < n && (s[lead] == ' ' || s[lead] == '\n' || s[lead] == '\t'))
		lead++;
	while (trail < n - lead &&
	       (s[n - 1 - trail] == ' ' || s[n - 1 - trail] == '\n' || s[n - 1 - trail] == '\t'))
		trail++;
	core = n - lead - trail;
	if (buf_append(b, s, lead) < 0)
		return -1;
	if (core) {
		if (*m->href && buf_putc(b, '[') < 0)
			return -1;
		if (m->strike && buf_puts(b, "~~") < 0)
			return -1;
		if (buf_puts(b, emph) < 0)
			return -1;
		if (m->equation) {
			if (buf_putc(b, '$') < 0 || buf_append(b, s + lead, core) < 0 ||
			    buf_putc(b, '$') < 0)
				return -1;
		} else if (m->code) {
			size_t ticks = longest_backtick_run(s + lead, core) + 1;
			int pad = s[lead] == '`' || s[lead + core - 1] == '`';
			if (put_n(b, '`', ticks) < 0 || (pad && buf_putc(b, ' ') < 0) ||
			    buf_append(b, s + lead, core) < 0 || (pad && buf_putc(b, ' ') < 0) ||
			    put_n(b, '`', ticks) < 0)
				return -1;
		} else if (buf_append(b, s + lead, core) < 0) {
			return -1;
		}
		if (buf_puts(b, emph) < 0)
			return -1;
		if (m->strike && buf_puts(b, "~~") < 0)
			return -1;
		if (*m->href && (buf_puts(b, "](") < 0 || put_href(b, m->href) < 0 || buf_putc(b, ')') < 0))
			return -1;
	}
	return buf_append(b, s + lead + core, trail);
}

int notion_rich_text_md(const json_t *rich_text, struct buf *out, serr *e)
{
	struct buf run;
	struct marks cur = { 0, 0, 0, 0, "", 0 }, m;
	size_t i;
	const json_t *rt;
	int rc = -1, have = 0;

	buf_init(&run, out->max);
	if (!json_is_array(rich_text)) {
		rc = 0;
		goto out;
	}
	json_array_foreach(rich_text, i, rt) {
		const char *t = run_text(rt);
		marks_of(rt, &m);
		if (have && !marks_equal(&m, &cur)) {
			if (put_run(out, run.data, run.len, &cur) < 0)
				goto full;
			buf_reset(&run);
		}
		cur = m;
		have = 1;
		if (buf_puts(&run, t) < 0)
			goto full;
	}
	if (have && run.len && put_run(out, run.data, run.len, &cur) < 0)
		goto full;
	rc = 0;
	goto out;
full:
	serr_set(e, "notion text does not fit in %zu bytes", out->max);
out:
	buf_free(&run);
	return rc;
}

int notion_plain_text(const json_t *rich_text, struct buf *out, serr *e)
{
	size_t i;
	const json_t *rt;

	json_array_foreach(rich_text, i, rt) {
		if (buf_puts(out, run_text(rt)) < 0)
			return serr_set(e, "notion text does not fit in %zu bytes", out->max);
	}
	return 0;
}

/* ---- blocks ---- */

struct md {
	struct buf *out;
	serr *e;
};

static int full(struct md *m)
{
	return serr_set(m->e, "notion page markdown does not fit in %zu bytes", m->out->max);
}

/* The prefix without trailing spaces, for blank lines inside quotes and lists. */
static int put_prefix_trimmed(struct buf *b, const char *prefix)
{
	size_t n = strlen(prefix);

	while (n && prefix[n - 1] == ' ')
		n--;
	return buf_append(b, prefix, n);
}

/* Lines of text: the first after first_prefix, the others after cont_prefix. */
static int put_lines(struct md *m, const char *first_prefix, const char *cont_prefix,
		     const char *text)
{
	const char *s = text;
	int first = 1;

	do {
		size_t n = strcspn(s, "\n");
		const char *pre = first ? first_prefix : cont_prefix;
		if ((n ? buf_puts(m->out, pre) : put_prefix_trimmed(m->out, pre)) < 0 ||
		    buf_append(m->out, s, n) < 0 || buf_putc(m->out, '\n') < 0)
			return full(m);
		s += n;
		if (*s == '\n')
			s++;
		first = 0;
	} while (*s);
	return 0;
}

/* Inline markdown of the block's rich_text, with newlines allowed. */
static int block_text(struct md *m, const json_t *body, struct buf *t)
{
	return notion_rich_text_md(json_object_get(body, "rich_text"), t, m->e);
}

static int render_blocks(struct md *m, const json_t *blocks, const char *prefix, int depth);

static int render_children(struct md *m, const json_t *block, const char *prefix, int depth)
{
	const json_t *ch = json_object_get(block, "children");

	if (!json_is_array(ch) || json_array_size(ch) == 0)
		return 0;
	return render_blocks(m, ch, prefix, depth + 1);
}

/* A list-like item: marker line, continuation and children indented under it. */
static int render_item(struct md *m, const json_t *block, const json_t *body, const char *prefix,
		       const char *marker, int depth)
{
	struct buf first, cont, t;
	int rc = -1;

	buf_init(&first, 0);
	buf_init(&cont, 0);
	buf_init(&t, m->out->max);
	if (buf_printf(&first, "%s%s", prefix, marker) < 0 ||
	    buf_printf(&cont, "%s%*s", prefix, (int)strlen(marker), "") < 0) {
		full(m);
		goto out;
	}
	if (block_text(m, body, &t) < 0 || put_lines(m, first.data, cont.data, buf_cstr(&t)) < 0 ||
	    render_children(m, block, cont.data, depth) < 0)
		goto out;
	rc = 0;
out:
	buf_free(&first);
	buf_free(&cont);
	buf_free(&t);
	return rc;
}

/* Quote and callout: every line, children included, behind "> ". */
static int render_quoted(struct md *m, const json_t *block, const json_t *body, const char *prefix,
			 int callout, int depth)
{
	struct buf q, t;
	const json_t *icon = json_object_get(body, "icon");
	int rc = -1;

	buf_init(&q, 0);
	buf_init(&t, m->out->max);
	if (buf_printf(&q, "%s> ", prefix) < 0) {
		full(m);
		goto out;
	}
	if (callout && strcmp(str_at(icon, "type"), "emoji") == 0 && *str_at(icon, "emoji") &&
	    buf_printf(&t, "%s ", str_at(icon, "emoji")) < 0) {
		full(m);
		goto out;
	}
	if (block_text(m, body, &t) < 0 || put_lines(m, q.data, q.data, buf_cstr(&t)) < 0)
		goto out;
	if (json_array_size(json_object_get(block, "children"))) {
		if (put_prefix_trimmed(m->out, q.data) < 0 || buf_putc(m->out, '\n') < 0) {
			full(m);
			goto out;
		}
		if (render_children(m, block, q.data, depth) < 0)
			goto out;
	}
	rc = 0;
out:
	buf_free(&q);
	buf_free(&t);
	return rc;
}

static int render_code(struct md *m, const json_t *body, const char *prefix)
{
	struct buf t, fence;
	const char *lang = str_at(body, "language");
	size_t ticks;
	int rc = -1;

	buf_init(&t, m->out->max);
	buf_init(&fence, 0);
	if (notion_plain_text(json_object_get(body, "rich_text"), &t, m->e) < 0)
		goto out;
	ticks = longest_backtick_run(buf_cstr(&t), t.len) + 1;
	if (put_n(&fence, '`', ticks < 3 ? 3 : ticks) < 0)
		goto oom;
	if (buf_puts(m->out, prefix) < 0 || buf_puts(m->out, fence.data) < 0)
		goto oom;
	if (strcmp(lang, "plain text") != 0)
		for (const char *l = lang; *l; l++)
			if (*l != ' ' && *l != '`' && buf_putc(m->out, *l) < 0)
				goto oom;
	if (buf_putc(m->out, '\n') < 0)
		goto oom;
	if (t.len && put_lines(m, prefix, prefix, t.data) < 0)
		goto out;
	if (buf_puts(m->out, prefix) < 0 || buf_puts(m->out, fence.data) < 0 ||
	    buf_putc(m->out, '\n') < 0)
		goto oom;
	rc = 0;
	goto out;
oom:
	full(m);
out:
	buf_free(&t);
	buf_free(&fence);
	return rc;
}

/* One table cell: inline markdown on one line, pipes escaped. */
static int put_cell(struct md *m, const json_t *cell)
{
	struct buf t;
	int rc = -1;

	buf_init(&t, m->out->max);
	if (notion_rich_text_md(cell, &t, m->e) < 0)
		goto out;
	if (buf_puts(m->out, " ") < 0)
		goto oom;
	for (size_t i = 0; i < t.len; i++) {
		char c = t.data[i];
		int r = c == '|' ? buf_puts(m->out, "\\|") : c == '\n' ? buf_puts(m->out, "<br>")
								      : buf_putc(m->out, c);
		if (r < 0)
			goto oom;
	}
	if (buf_puts(m->out, " |") < 0)
		goto oom;
	rc = 0;
	goto out;
oom:
	full(m);
out:
	buf_free(&t);
	return rc;
}

static int put_row(struct md *m, const json_t *cells, size_t width, const char *prefix)
{
	if (buf_puts(m->out, prefix) < 0 || buf_putc(m->out, '|') < 0)
		return full(m);
	for (size_t c = 0; c < width; c++)
		if (put_cell(m, json_array_get(cells, c)) < 0)
			return -1;
	if (buf_putc(m->out, '\n') < 0)
		return full(m);
	return 0;
}

static int put_separator(struct md *m, size_t width, const char *prefix)
{
	if (buf_puts(m->out, prefix) < 0 || buf_putc(m->out, '|') < 0)
		return full(m);
	for (size_t c = 0; c < width; c++)
		if (buf_puts(m->out, " --- |") < 0)
			return full(m);
	if (buf_putc(m->out, '\n') < 0)
		return full(m);
	return 0;
}

/* GFM needs a header row: a table without one gets an empty header. */
static int render_table(struct md *m, const json_t *block, const json_t *body, const char *prefix)
{
	const json_t *rows = json_object_get(block, "children"), *row;
	size_t width = (size_t)json_integer_value(json_object_get(body, "table_width")), i;
	int header = flag_at(body, "has_column_header");

	json_array_foreach(rows, i, row) {
		size_t w = json_array_size(json_object_get(json_object_get(row, "table_row"), "cells"));
		if (w > width)
			width = w;
	}
	if (width == 0 || width > 256)
		return 0;
	json_array_foreach(rows, i, row) {
		const json_t *cells = json_object_get(json_object_get(row, "table_row"), "cells");
		if (i == 0 && !header && (put_row(m, NULL, width, prefix) < 0 ||
					  put_separator(m, width, prefix) < 0))
			return -1;
		if (put_row(m, cells, width, prefix) < 0)
			return -1;
		if (i == 0 && header && put_separator(m, width, prefix) < 0)
			return -1;
	}
	return 0;
}

/* bookmark, embed, link_preview, image, file, pdf, video, audio. */
static int render_link_block(struct md *m, const char *type, const json_t *body, const char *prefix)
{
	struct buf cap, line;
	const char *ftype = str_at(body, "type");
	const char *url = str_at(body, "url");
	int image = strcmp(type, "image") == 0, rc = -1;

	buf_init(&cap, m->out->max);
	buf_init(&line, m->out->max);
	if (!*url && strcmp(ftype, "external") == 0)
		url = str_at(json_object_get(body, "external"), "url");
	if (notion_plain_text(json_object_get(body, "caption"), &cap, m->e) < 0)
		goto out;
	if (!cap.len && *str_at(body, "name") && buf_puts(&cap, str_at(body, "name")) < 0)
		goto oom;
	if (!*url) {
		/* Notion-hosted files have signed URLs that expire within the hour: keep the caption only */
		if (buf_printf(&line, "[%s%s%s]", type, cap.len ? ": " : "", buf_cstr(&cap)) < 0)
			goto oom;
	} else {
		if (buf_printf(&line, "%s[%s](", image ? "!" : "", cap.len ? cap.data : url) < 0 ||
		    put_href(&line, url) < 0 || buf_putc(&line, ')') < 0)
			goto oom;
	}
	rc = put_lines(m, prefix, prefix, line.data);
	goto out;
oom:
	full(m);
out:
	buf_free(&cap);
	buf_free(&line);
	return rc;
}

static int render_heading(struct md *m, const json_t *block, const json_t *body, int level,
			  const char *prefix, int depth)
{
	struct buf t;
	int rc = -1;

	buf_init(&t, m->out->max);
	if (put_n(&t, '#', (size_t)level) < 0 || buf_putc(&t, ' ') < 0) {
		full(m);
		goto out;
	}
	if (block_text(m, body, &t) < 0)
		goto out;
	for (size_t i = 0; i < t.len; i++)
		if (t.data[i] == '\n')
			t.data[i] = ' ';
	if (put_lines(m, prefix, prefix, t.data) < 0)
		goto out;
	/* toggleable headings hold their content as children */
	if (json_array_size(json_object_get(block, "children"))) {
		if (put_prefix_trimmed(m->out, prefix) < 0 || buf_putc(m->out, '\n') < 0) {
			full(m);
			goto out;
		}
		if (render_children(m, block, prefix, depth) < 0)
			goto out;
	}
	rc = 0;
out:
	buf_free(&t);
	return rc;
}

static int render_paragraph(struct md *m, const json_t *block, const json_t *body,
			    const char *prefix, int depth)
{
	struct buf t;
	int rc = -1;

	buf_init(&t, m->out->max);
	if (block_text(m, body, &t) < 0 || (t.len && put_lines(m, prefix, prefix, t.data) < 0))
		goto out;
	if (json_array_size(json_object_get(block, "children"))) {
		if (t.len && (put_prefix_trimmed(m->out, prefix) < 0 || buf_putc(m->out, '\n') < 0)) {
			full(m);
			goto out;
		}
		if (render_children(m, block, prefix, depth) < 0)
			goto out;
	}
	rc = 0;
out:
	buf_free(&t);
	return rc;
}

/* before + title + after on one line (titles may not break the line). */
static int render_title_line(struct md *m, const char *before, const char *title,
			     const char *after, const char *prefix)
{
	struct buf t;
	int rc;

	buf_init(&t, m->out->max);
	rc = buf_puts(&t, before) < 0 || buf_puts(&t, title) < 0 || buf_puts(&t, after) < 0 ? -1 : 0;
	for (size_t i = 0; rc == 0 && i < t.len; i++)
		if (t.data[i] == '\n')
			t.data[i] = ' ';
	rc = rc < 0 ? full(m) : put_lines(m, prefix, prefix, t.data);
	buf_free(&t);
	return rc;
}

/* An empty paragraph renders nothing and must not add a blank line either. */
static int renders_nothing(const json_t *block, const char *type)
{
	if (strcmp(type, "paragraph") != 0)
		return 0;
	return json_array_size(json_object_get(json_object_get(block, type), "rich_text")) == 0 &&
	       json_array_size(json_object_get(block, "children")) == 0;
}

static enum kind kind_of(const char *type)
{
	if (!strcmp(type, "bulleted_list_item") || !strcmp(type, "numbered_list_item") ||
	    !strcmp(type, "to_do") || !strcmp(type, "toggle"))
		return K_LIST;
	return K_OTHER;
}

static int known_type(const char *t)
{
	static const char *const known[] = {
		"paragraph", "heading_1", "heading_2", "heading_3", "bulleted_list_item",
		"numbered_list_item", "to_do", "toggle", "quote", "callout", "code", "divider",
		"table", "bookmark", "embed", "link_preview", "image", "video", "file", "pdf",
		"audio", "child_page", "child_database", "equation", "column_list", "column",
		"synced_block", "link_to_page",
	};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(known[i], t) == 0)
			return 1;
	return 0;
}

static int render_one(struct md *m, const json_t *block, const char *type, const char *prefix,
		      int number, int depth)
{
	const json_t *body = json_object_get(block, type);
	char marker[32];

	if (!strcmp(type, "paragraph"))
		return render_paragraph(m, block, body, prefix, depth);
	if (!strncmp(type, "heading_", 8) && type[8] >= '1' && type[8] <= '3' && !type[9])
		return render_heading(m, block, body, type[8] - '0' + 1, prefix, depth);
	if (!strcmp(type, "bulleted_list_item") || !strcmp(type, "toggle"))
		return render_item(m, block, body, prefix, "- ", depth);
	if (!strcmp(type, "numbered_list_item")) {
		snprintf(marker, sizeof(marker), "%d. ", number);
		return render_item(m, block, body, prefix, marker, depth);
	}
	if (!strcmp(type, "to_do"))
		return render_item(m, block, body, prefix, flag_at(body, "checked") ? "- [x] " : "- [ ] ",
				   depth);
	if (!strcmp(type, "quote") || !strcmp(type, "callout"))
		return render_quoted(m, block, body, prefix, type[0] == 'c', depth);
	if (!strcmp(type, "code"))
		return render_code(m, body, prefix);
	if (!strcmp(type, "divider"))
		return put_lines(m, prefix, prefix, "---");
	if (!strcmp(type, "table"))
		return render_table(m, block, body, prefix);
	if (!strcmp(type, "child_page"))
		return render_title_line(m, "## ", str_at(body, "title"), "", prefix);
	if (!strcmp(type, "child_database"))
		return render_title_line(m, "## ", str_at(body, "title"), " (database)", prefix);
	if (!strcmp(type, "equation"))
		return render_title_line(m, "$$ ", str_at(body, "expression"), " $$", prefix);
	if (!strcmp(type, "link_to_page")) {
		const char *id = str_at(body, str_at(body, "type"));
		return *id ? render_title_line(m, "[linked page](https://www.notion.so/", id, ")",
					       prefix)
			   : 0;
	}
	if (!strcmp(type, "column_list") || !strcmp(type, "column") || !strcmp(type, "synced_block"))
		return render_children(m, block, prefix, depth);
	return render_link_block(m, type, body, prefix);
}

static int render_blocks(struct md *m, const json_t *blocks, const char *prefix, int depth)
{
	enum kind prev = K_NONE;
	int number = 0;
	int prev_numbered = 0;
	size_t i;
	const json_t *b;

	if (depth > MD_MAX_DEPTH)
		return serr_set(m->e, "notion block tree is nested deeper than %d levels", MD_MAX_DEPTH);
	json_array_foreach(blocks, i, b) {
		const char *type = str_at(b, "type");
		enum kind k;
		int numbered;

		if (!known_type(type)) {
			log_debug("notion block type skipped", "type=%s", type);
			continue;
		}
		if (renders_nothing(b, type))
			continue;
		k = kind_of(type);
		numbered = strcmp(type, "numbered_list_item") == 0;
		number = numbered && prev_numbered ? number + 1 : 1;
		/* list items sit together; everything else is its own paragraph */
		if (prev != K_NONE && !(prev == K_LIST && k == K_LIST)) {
			if (put_prefix_trimmed(m->out, prefix) < 0 || buf_putc(m->out, '\n') < 0)
				return full(m);
		}
		if (render_one(m, b, type, prefix, number, depth) < 0)
			return -1;
		prev = k;
		prev_numbered = numbered;
	}
	return 0;
}

int notion_blocks_md(const json_t *blocks, struct buf *md, serr *e)
{
	struct md m = { md, e };

	if (!json_is_array(blocks))
		return serr_set(e, "notion blocks are not an array");
	return render_blocks(&m, blocks, "", 0);
}
