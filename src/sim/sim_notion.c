/*
 * The simulator's Notion API: pages and block trees loaded from a base's
 * "notion" member and served as Notion page objects, block objects and
 * paginated lists of block children (see sim_notion.h).
 */
#include "sim/sim_notion.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "sim/sim_internal.h"

#define MAX_PAGES 10000
#define MAX_BLOCKS 20000 /* per page */
#define MAX_DEPTH 16
#define RICH_TEXT_CHUNK 2000 /* Notion splits text objects at 2,000 characters */

static const char *const text_types[] = { "paragraph", "heading_1", "heading_2", "heading_3",
					  "bulleted_list_item", "numbered_list_item", "to_do",
					  "toggle", "quote", "callout", "code" };

void sim_notion_init(struct sim_notion *n)
{
	memset(n, 0, sizeof(*n));
}

static void page_free(struct sim_npage *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nblocks; i++) {
		json_decref(p->blocks[i].obj);
		free(p->blocks[i].kids);
	}
	free(p->blocks);
	free(p->top);
	json_decref(p->obj);
	free(p);
}

void sim_notion_free(struct sim_notion *n)
{
	for (size_t i = 0; i < n->npages; i++)
		page_free(n->pages[i]);
	free(n->pages);
	memset(n, 0, sizeof(*n));
}

int sim_notion_id(const char *in, char out[SIM_NOTION_ID])
{
	char hex[33];
	size_t n = 0;

	for (const char *p = in; *p; p++) {
		if (*p == '-')
			continue;
		if (!isxdigit((unsigned char)*p) || n == 32)
			return -1;
		hex[n++] = (char)tolower((unsigned char)*p);
	}
	if (n != 32)
		return -1;
	hex[32] = '\0';
	snprintf(out, SIM_NOTION_ID, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
		 hex + 20);
	return 0;
}

/* A stable block id derived from the page and the block's place in the tree. */
static void derived_id(const char *seed, char out[SIM_NOTION_ID])
{
	char h[65];

	sha256_hex(seed, strlen(seed), h);
	h[12] = '4'; /* version 4 layout, like Notion's ids */
	h[16] = "89ab"[h[16] % 4];
	snprintf(out, SIM_NOTION_ID, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

static json_t *user(void)
{
	return json_pack("{s:s, s:s}", "object", "user", "id", "4e1f2c3d-5b6a-4c7d-8e9f-0a1b2c3d4e5f");
}

/* One rich text object; long text is split at Notion's 2,000-character limit by the caller. */
static json_t *text_object(const char *content, size_t len, const json_t *seg)
{
	const char *link = json_string_value(json_object_get(seg, "link"));
	const char *color = json_string_value(json_object_get(seg, "color"));
	json_t *o;

	o = json_pack("{s:s, s:{s:s%, s:o}, s:{s:b, s:b, s:b, s:b, s:b, s:s}, s:s%, s:o}", "type",
		      "text", "text", "content", content, len, "link",
		      link ? json_pack("{s:s}", "url", link) : json_null(), "annotations", "bold",
		      json_is_true(json_object_get(seg, "bold")), "italic",
		      json_is_true(json_object_get(seg, "italic")), "strikethrough",
		      json_is_true(json_object_get(seg, "strikethrough")), "underline",
		      json_is_true(json_object_get(seg, "underline")), "code",
		      json_is_true(json_object_get(seg, "code")), "color", color ? color : "default",
		      "plain_text", content, len, "href", link ? json_string(link) : json_null());
	return o;
}

/* Append text as one or more rich text objects, splitting on character boundaries. */
static int append_text(json_t *arr, const char *s, const json_t *seg)
{
	size_t len = strlen(s);

	while (len > 0) {
		size_t take = 0, chars = 0;
		json_t *o;
		while (take < len && chars < RICH_TEXT_CHUNK) {
			take++;
			while (take < len && ((unsigned char)s[take] & 0xc0) == 0x80)
				take++;
			chars++;
		}
		o = text_object(s, take, seg);
		if (!o || json_array_append_new(arr, o) < 0)
			return -1;
		s += take;
		len -= take;
	}
	return 0;
}

/* "text": "..." or "rich_text": [{"text", "bold", "italic", "code", "link", ...}]. */
static json_t *rich_text(const json_t *b, serr *e)
{
	json_t *arr = json_array(), *rt = json_object_get(b, "rich_text"), *seg;
	const char *text = json_string_value(json_object_get(b, "text"));
	size_t i;
	int ok = 0;

	if (!arr || (text && append_text(arr, text, NULL) < 0)) {
		serr_set(e, "out of memory");
		goto out;
	}
	if (rt && !json_is_array(rt)) {
		serr_set(e, "'rich_text' must be an array");
		goto out;
	}
	json_array_foreach(rt, i, seg) {
		const char *t = json_string_value(json_object_get(seg, "text"));
		if (!t) {
			serr_set(e, "rich_text segment %zu has no 'text'", i);
			goto out;
		}
		if (append_text(arr, t, seg) < 0) {
			serr_set(e, "out of memory");
			goto out;
		}
	}
	ok = 1;
out:
	if (!ok) {
		json_decref(arr);
		arr = NULL;
	}
	return arr;
}

static int is_text_type(const char *type)
{
	for (size_t i = 0; i < sizeof(text_types) / sizeof(text_types[0]); i++)
		if (strcmp(text_types[i], type) == 0)
			return 1;
	return 0;
}

/* The type-specific member of a block object. */
static json_t *block_body(const char *type, const json_t *b, serr *e)
{
	json_t *rt, *o;

	if (strcmp(type, "divider") == 0)
		return json_object();
	if (strcmp(type, "child_page") == 0) {
		const char *title = json_string_value(json_object_get(b, "title"));
		return json_pack("{s:s}", "title", title ? title : "");
	}
	if (!is_text_type(type)) {
		serr_set(e, "unknown block type '%s'", type);
		return NULL;
	}
	rt = rich_text(b, e);
	if (!rt)
		return NULL;
	if (strncmp(type, "heading_", 8) == 0) {
		o = json_pack("{s:o, s:s, s:b}", "rich_text", rt, "color", "default", "is_toggleable", 0);
	} else if (strcmp(type, "to_do") == 0) {
		o = json_pack("{s:o, s:s, s:b}", "rich_text", rt, "color", "default", "checked",
			      json_is_true(json_object_get(b, "checked")));
	} else if (strcmp(type, "code") == 0) {
		const char *lang = json_string_value(json_object_get(b, "language"));
		o = json_pack("{s:o, s:[], s:s}", "rich_text", rt, "caption", "language",
			      lang ? lang : "plain text");
	} else if (strcmp(type, "callout") == 0) {
		o = json_pack("{s:o, s:{s:s, s:s}, s:s}", "rich_text", rt, "icon", "type", "emoji",
			      "emoji", "\xf0\x9f\x92\xa1", "color", "default");
	} else {
		o = json_pack("{s:o, s:s}", "rich_text", rt, "color", "default");
	}
	if (!o)
		serr_set(e, "out of memory");
	return o;
}

struct builder {
	struct sim_npage *p;
	size_t cap;
	char created[32];
};

static int add_blocks(struct builder *bd, const json_t *list, const char *parent, int parent_page,
		      int depth, size_t **out, size_t *nout, serr *e);

static int add_block(struct builder *bd, const json_t *b, const char *parent, int parent_page,
		     int depth, size_t *index, serr *e)
{
	struct sim_npage *p = bd->p;
	const char *type = json_string_value(json_object_get(b, "type"));
	const char *given = json_string_value(json_object_get(b, "id"));
	json_t *kids = json_object_get(b, "children"), *body, *obj;
	struct sim_nblock *blk;
	char seed[128];
	size_t me;

	if (!json_is_object(b) || !type)
		return serr_set(e, "a block needs a 'type'");
	if (p->nblocks == MAX_BLOCKS)
		return serr_set(e, "more than %d blocks", MAX_BLOCKS);
	if (p->nblocks == bd->cap) {
		size_t ncap = bd->cap ? bd->cap * 2 : 64, bytes;
		struct sim_nblock *nb;
		if (size_mul(ncap, sizeof(*nb), &bytes) < 0 || !(nb = realloc(p->blocks, bytes)))
			return serr_set(e, "out of memory");
		p->blocks = nb;
		bd->cap = ncap;
	}
	me = p->nblocks++;
	blk = &p->blocks[me];
	memset(blk, 0, sizeof(*blk));
	if (given) {
		if (sim_notion_id(given, blk->id) < 0)
			return serr_set(e, "block id '%s' is not a UUID", given);
	} else {
		snprintf(seed, sizeof(seed), "%s/%zu", p->id, me);
		derived_id(seed, blk->id);
	}
	body = block_body(type, b, e);
	if (!body)
		return serr_wrap(e, "block %zu", me);
	obj = json_pack("{s:s, s:s, s:{s:s, s:s}, s:s, s:s, s:o, s:o, s:b, s:b, s:b, s:s, s:o}",
			"object", "block", "id", blk->id, "parent", "type",
			parent_page ? "page_id" : "block_id", parent_page ? "page_id" : "block_id",
			parent, "created_time", bd->created, "last_edited_time", bd->created,
			"created_by", user(), "last_edited_by", user(), "has_children",
			json_array_size(kids) > 0, "archived", 0, "in_trash", 0, "type", type, type,
			body);
	if (!obj)
		return serr_set(e, "out of memory");
	blk->obj = obj;
	*index = me;
	if (kids) {
		char id[SIM_NOTION_ID];
		size_t *ks = NULL, nks = 0;
		if (depth >= MAX_DEPTH)
			return serr_set(e, "blocks nest deeper than %d levels", MAX_DEPTH);
		memcpy(id, blk->id, sizeof(id));
		if (add_blocks(bd, kids, id, 0, depth + 1, &ks, &nks, e) < 0) {
			free(ks);
			return -1;
		}
		/* the array may have moved while the children were added */
		p->blocks[me].kids = ks;
		p->blocks[me].nkids = nks;
	}
	return 0;
}

static int add_blocks(struct builder *bd, const json_t *list, const char *parent, int parent_page,
		      int depth, size_t **out, size_t *nout, serr *e)
{
	size_t i, n = json_array_size(list);
	json_t *b;

	*out = NULL;
	*nout = 0;
	if (!json_is_array(list))
		return serr_set(e, "'blocks' and 'children' must be arrays");
	if (n == 0)
		return 0;
	*out = calloc(n, sizeof(**out));
	if (!*out)
		return serr_set(e, "out of memory");
	json_array_foreach(list, i, b) {
		if (add_block(bd, b, parent, parent_page, depth, &(*out)[i], e) < 0)
			return -1;
		*nout = i + 1;
	}
	return 0;
}

/* The page object; its URL is the slug of the title plus the id, as Notion's are. */
static json_t *page_object(const char *id, const char *title, const char *title_prop,
			   const char *created, serr *e)
{
	char url[512], slug[200];
	size_t n = 0;
	json_t *rt = json_array(), *o;

	for (const char *p = title; *p && n < sizeof(slug) - 2; p++) {
		unsigned char c = (unsigned char)*p;
		if (isalnum(c))
			slug[n++] = (char)c;
		else if (n && slug[n - 1] != '-')
			slug[n++] = '-';
	}
	while (n && slug[n - 1] == '-')
		n--;
	slug[n] = '\0';
	snprintf(url, sizeof(url), "https://www.notion.so/%s%s%.8s%.4s%.4s%.4s%.12s", slug,
		 n ? "-" : "", id, id + 9, id + 14, id + 19, id + 24);
	if (!rt || append_text(rt, title, NULL) < 0) {
		json_decref(rt);
		serr_set(e, "out of memory");
		return NULL;
	}
	o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:n, s:n, s:{s:s, s:b}, s:b, s:b, "
		      "s:{s:{s:s, s:s, s:o}}, s:s, s:n}",
		      "object", "page", "id", id, "created_time", created, "last_edited_time", created,
		      "created_by", user(), "last_edited_by", user(), "cover", "icon", "parent",
		      "type", "workspace", "workspace", 1, "archived", 0, "in_trash", 0, "properties",
		      title_prop, "id", "title", "type", "title", "title", rt, "url", url,
		      "public_url");
	if (!o)
		serr_set(e, "out of memory");
	return o;
}

static struct sim_npage *parse_page(const json_t *j, serr *e)
{
	struct sim_npage *p = calloc(1, sizeof(*p));
	const char *id = json_string_value(json_object_get(j, "id"));
	const char *title = json_string_value(json_object_get(j, "title"));
	const char *prop = json_string_value(json_object_get(j, "title_property"));
	const char *ct = json_string_value(json_object_get(j, "createdTime"));
	json_t *blocks = json_object_get(j, "blocks");
	struct builder bd;
	int64_t ms = now_ms();
	int ok = 0;

	if (!p) {
		serr_set(e, "out of memory");
		return NULL;
	}
	if (!id || sim_notion_id(id, p->id) < 0) {
		serr_set(e, "a page needs an 'id' of 32 hex digits (dashes allowed)");
		goto out;
	}
	if (ct && iso8601_parse(ct, &ms) < 0) {
		serr_set(e, "page '%s': invalid 'createdTime'", id);
		goto out;
	}
	memset(&bd, 0, sizeof(bd));
	bd.p = p;
	iso8601_ms(ms, bd.created);
	p->obj = page_object(p->id, title ? title : "", prop ? prop : "title", bd.created, e);
	if (!p->obj)
		goto out;
	if (blocks && add_blocks(&bd, blocks, p->id, 1, 0, &p->top, &p->ntop, e) < 0) {
		serr_wrap(e, "page '%s'", id);
		goto out;
	}
	ok = 1;
out:
	if (!ok) {
		page_free(p);
		p = NULL;
	}
	return p;
}

int sim_notion_parse(const json_t *j, struct sim_notion *out, serr *e)
{
	json_t *pages = json_object_get(j, "pages"), *pj;
	size_t i;

	sim_notion_init(out);
	if (!json_is_object(j) || !json_is_array(pages) || json_array_size(pages) > MAX_PAGES)
		return serr_set(e, "'notion' must be {\"pages\": [...]} with at most %d pages",
				MAX_PAGES);
	out->pages = calloc(json_array_size(pages) + 1, sizeof(*out->pages));
	if (!out->pages)
		return serr_set(e, "out of memory");
	json_array_foreach(pages, i, pj) {
		struct sim_npage *p = parse_page(pj, e);
		if (!p) {
			sim_notion_free(out);
			return -1;
		}
		out->pages[out->npages++] = p;
	}
	return 0;
}

int sim_notion_merge(struct sim_notion *n, struct sim_notion *src, serr *e)
{
	size_t extra = 0, bytes;
	struct sim_npage **np;

	for (size_t i = 0; i < src->npages; i++)
		if (!sim_notion_page(n, src->pages[i]->id))
			extra++;
	if (n->npages + extra > MAX_PAGES)
		return serr_set(e, "more than %d Notion pages", MAX_PAGES);
	if (size_mul(n->npages + extra + 1, sizeof(*np), &bytes) < 0 ||
	    !(np = realloc(n->pages, bytes)))
		return serr_set(e, "out of memory");
	n->pages = np;
	for (size_t i = 0; i < src->npages; i++) {
		struct sim_npage *p = src->pages[i];
		size_t k;
		for (k = 0; k < n->npages; k++)
			if (strcmp(n->pages[k]->id, p->id) == 0)
				break;
		if (k < n->npages)
			page_free(n->pages[k]);
		else
			n->npages++;
		n->pages[k] = p;
		src->pages[i] = NULL;
	}
	src->npages = 0;
	return 0;
}

struct sim_npage *sim_notion_page(struct sim_notion *n, const char *dashed)
{
	for (size_t i = 0; i < n->npages; i++)
		if (strcmp(n->pages[i]->id, dashed) == 0)
			return n->pages[i];
	return NULL;
}

struct sim_nblock *sim_notion_block(struct sim_notion *n, const char *dashed,
				    struct sim_npage **page)
{
	for (size_t i = 0; i < n->npages; i++)
		for (size_t k = 0; k < n->pages[i]->nblocks; k++)
			if (strcmp(n->pages[i]->blocks[k].id, dashed) == 0) {
				*page = n->pages[i];
				return &n->pages[i]->blocks[k];
			}
	return NULL;
}

/* ---- HTTP ---- */

static void children(struct sim *s, struct sim_req *rq, struct sim_resp *rs, const char *id)
{
	struct sim_npage *p = sim_notion_page(&s->notion, id);
	struct sim_nblock *blk = NULL;
	const size_t *kids;
	size_t nkids, start = 0, i;
	const char *ps = sim_q_get(rq, "page_size"), *cur = sim_q_get(rq, "start_cursor");
	int page_size = 100;
	json_t *results, *pair;

	json_array_foreach(rq->query, i, pair) {
		const char *k = json_string_value(json_array_get(pair, 0));
		if (strcmp(k, "page_size") != 0 && strcmp(k, "start_cursor") != 0) {
			sim_resp_notion(rs, 400, "validation_error",
					"query failed validation: unknown parameter `%s`.", k);
			return;
		}
	}
	if (ps && parse_int(ps, 1, 100, &page_size) < 0) {
		sim_resp_notion(rs, 400, "validation_error",
				"query failed validation: query.page_size should be a number "
				"between 1 and 100, instead was `\"%.40s\"`.",
				ps);
		return;
	}
	if (!p)
		blk = sim_notion_block(&s->notion, id, &p);
	if (!p) {
		sim_resp_notion(rs, 404, "object_not_found",
				"Could not find block with ID: %s. Make sure the relevant pages "
				"and databases are shared with your integration.",
				id);
		return;
	}
	kids = blk ? blk->kids : p->top;
	nkids = blk ? blk->nkids : p->ntop;
	if (cur) {
		char want[SIM_NOTION_ID];
		if (sim_notion_id(cur, want) == 0)
			for (start = 0; start < nkids; start++)
				if (strcmp(p->blocks[kids[start]].id, want) == 0)
					break;
		if (sim_notion_id(cur, want) < 0 || start == nkids) {
			sim_resp_notion(rs, 400, "validation_error",
					"The start_cursor provided is invalid: %.60s", cur);
			return;
		}
	}
	results = json_array();
	for (i = start; results && i < nkids && i < start + (size_t)page_size; i++)
		json_array_append(results, p->blocks[kids[i]].obj);
	sim_resp_json(rs, 200,
		      results ? json_pack("{s:s, s:o, s:o, s:b, s:s, s:{}}", "object", "list",
					  "results", results, "next_cursor",
					  i < nkids ? json_string(p->blocks[kids[i]].id) : json_null(),
					  "has_more", i < nkids, "type", "block", "block")
			      : NULL);
}

void sim_notion_handle(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	char id[SIM_NOTION_ID];
	const char *kind = rq->nsegs >= 2 ? rq->segs[1] : "";

	if (strcmp(rq->method, "GET") != 0 || rq->nsegs < 3 || rq->nsegs > 4 ||
	    (strcmp(kind, "pages") != 0 && strcmp(kind, "blocks") != 0) ||
	    (rq->nsegs == 4 && (strcmp(kind, "blocks") != 0 || strcmp(rq->segs[3], "children") != 0))) {
		sim_resp_notion(rs, 400, "invalid_request_url", "Invalid request URL.");
		return;
	}
	if (sim_notion_id(rq->segs[2], id) < 0) {
		sim_resp_notion(rs, 400, "validation_error",
				"path failed validation: path.%s_id should be a valid uuid, "
				"instead was `\"%.60s\"`.",
				strcmp(kind, "pages") == 0 ? "page" : "block", rq->segs[2]);
		return;
	}
	if (strcmp(kind, "pages") == 0) {
		struct sim_npage *p = sim_notion_page(&s->notion, id);
		if (!p) {
			sim_resp_notion(rs, 404, "object_not_found",
					"Could not find page with ID: %s. Make sure the relevant "
					"pages and databases are shared with your integration.",
					id);
			return;
		}
		sim_resp_json(rs, 200, json_incref(p->obj));
		return;
	}
	if (rq->nsegs == 4) {
		children(s, rq, rs, id);
		return;
	}
	{
		struct sim_npage *p;
		struct sim_nblock *b = sim_notion_block(&s->notion, id, &p);
		if (!b) {
			sim_resp_notion(rs, 404, "object_not_found",
					"Could not find block with ID: %s. Make sure the relevant "
					"pages and databases are shared with your integration.",
					id);
			return;
		}
		sim_resp_json(rs, 200, json_incref(b->obj));
	}
}
