/*
 * Reading records: list pages (GET with query parameters, or POST
 * listRecords with a JSON body once the URL would pass AIRTABLE_URL_MAX),
 * the restart of a listing whose offset expired, and single-record reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "airtable/airtable.h"
#include "airtable/request.h"
#include "core/log.h"
#include "core/util.h"

#define LIST_URL_BUF_MAX (1024 * 1024) /* a URL this long goes by POST anyway */

static int check_query(const struct airtable_query *q, serr *e)
{
	if (!q)
		return 0;
	if (q->page_size < 0 || q->page_size > AIRTABLE_PAGE_MAX)
		return serr_set(e, "airtable: page size %d is outside 1..%d", q->page_size,
				AIRTABLE_PAGE_MAX);
	if (q->max_records < 0)
		return serr_set(e, "airtable: max records %ld is negative", q->max_records);
	if (q->fields) {
		for (size_t i = 0; q->fields[i]; i++)
			if (!*q->fields[i])
				return serr_set(e, "airtable: field %zu of the query has an empty name "
						   "(check the field.* names in the config)",
						i + 1);
	}
	if (q->sort_field && !*q->sort_field)
		return serr_set(e, "airtable: the query sorts on an empty field name");
	return 0;
}

static int page_size(const struct airtable_query *q)
{
	return q && q->page_size > 0 ? q->page_size : AIRTABLE_PAGE_MAX;
}

int airtable_list_url(const struct airtable *at, const char *table, const struct airtable_query *q,
		      const char *offset, struct buf *url, serr *e)
{
	char num[32];
	int bad = 0;

	if (check_query(q, e) < 0 || at_table_url(at, table, url, e) < 0)
		return -1;
	snprintf(num, sizeof(num), "%d", page_size(q));
	bad |= at_query_param(url, "pageSize", num);
	if (q && q->max_records > 0) {
		snprintf(num, sizeof(num), "%ld", q->max_records);
		bad |= at_query_param(url, "maxRecords", num);
	}
	if (offset)
		bad |= at_query_param(url, "offset", offset);
	if (q && q->formula && *q->formula)
		bad |= at_query_param(url, "filterByFormula", q->formula);
	if (q && q->fields)
		for (size_t i = 0; q->fields[i]; i++)
			bad |= at_query_param(url, "fields%5B%5D", q->fields[i]);
	if (q && q->sort_field) {
		bad |= at_query_param(url, "sort%5B0%5D%5Bfield%5D", q->sort_field);
		bad |= at_query_param(url, "sort%5B0%5D%5Bdirection%5D", q->sort_desc ? "desc" : "asc");
	}
	if (q && q->view && *q->view)
		bad |= at_query_param(url, "view", q->view);
	if (bad)
		return serr_set(e, "airtable: the list query for '%.100s' is longer than %zu bytes",
				table, url->max);
	return 0;
}

json_t *airtable_list_body(const struct airtable_query *q, const char *offset, serr *e)
{
	json_t *body, *fields, *sort;
	int bad = 0;

	if (check_query(q, e) < 0)
		return NULL;
	if (!(body = json_object()))
		goto oom;
	bad |= json_object_set_new(body, "pageSize", json_integer(page_size(q)));
	if (q && q->max_records > 0)
		bad |= json_object_set_new(body, "maxRecords", json_integer(q->max_records));
	if (offset)
		bad |= json_object_set_new(body, "offset", json_string(offset));
	if (q && q->formula && *q->formula)
		bad |= json_object_set_new(body, "filterByFormula", json_string(q->formula));
	if (q && q->fields) {
		bad |= json_object_set_new(body, "fields", fields = json_array());
		for (size_t i = 0; fields && q->fields[i]; i++)
			bad |= json_array_append_new(fields, json_string(q->fields[i]));
	}
	if (q && q->sort_field) {
		bad |= json_object_set_new(body, "sort", sort = json_array());
		if (sort)
			bad |= json_array_append_new(
				sort, json_pack("{s:s, s:s}", "field", q->sort_field, "direction",
						q->sort_desc ? "desc" : "asc"));
	}
	if (q && q->view && *q->view)
		bad |= json_object_set_new(body, "view", json_string(q->view));
	if (bad) {
		/* a string that is not UTF-8 also lands here: jansson refuses it */
		json_decref(body);
		serr_set(e, "airtable: cannot build the list query (out of memory, or a value that "
			    "is not UTF-8)");
		return NULL;
	}
	return body;
oom:
	serr_set(e, "airtable: out of memory building a list query");
	return NULL;
}

/* One page: GET, or POST listRecords when the GET URL would be too long. */
static int fetch_page(struct airtable *at, const char *table, const struct airtable_query *q,
		      const char *offset, const char *ctx, json_t **page, serr *e)
{
	struct buf url;
	struct at_call c;
	json_t *body = NULL;
	char *text = NULL;
	int rc = -1;

	buf_init(&url, LIST_URL_BUF_MAX);
	memset(&c, 0, sizeof(c));
	c.table = table;
	c.ctx = ctx;
	c.idempotent = 1;
	if (airtable_list_url(at, table, q, offset, &url, NULL) == 0 && url.len <= AIRTABLE_URL_MAX) {
		c.method = "GET";
		c.url = url.data;
	} else {
		if (check_query(q, e) < 0)
			goto out;
		buf_reset(&url);
		if (at_table_url(at, table, &url, e) < 0)
			goto out;
		if (buf_puts(&url, "/listRecords") < 0) {
			serr_set(e, "airtable: url for table '%.100s' is too long", table);
			goto out;
		}
		if (!(body = airtable_list_body(q, offset, e)))
			goto out;
		if (!(text = json_dumps(body, JSON_COMPACT))) {
			serr_set(e, "airtable: out of memory building a list query");
			goto out;
		}
		c.method = "POST";
		c.url = url.data;
		c.body = text;
		c.body_len = strlen(text);
	}
	rc = at_request(at, &c, page, e);
out:
	free(text);
	json_decref(body);
	buf_free(&url);
	return rc;
}

/* Records of one page handed to fn, skipping ids delivered before a restart. */
static int deliver_page(const json_t *page, const char *ctx, json_t *seen, long max_records,
			long *delivered, airtable_record_fn fn, void *ud, serr *e)
{
	const json_t *records = json_object_get(page, "records");
	size_t i;
	json_t *rec;

	if (!json_is_array(records))
		return serr_set(e, "airtable: %s: the answer has no 'records' array", ctx);
	json_array_foreach(records, i, rec)
	{
		const json_t *id = json_object_get(rec, "id");
		const json_t *fields = json_object_get(rec, "fields");

		if (!json_is_object(rec) || !json_is_string(id) || !*json_string_value(id))
			return serr_set(e, "airtable: %s: record %zu of the page has no id", ctx, i + 1);
		if (fields && !json_is_object(fields))
			return serr_set(e, "airtable: %s: record '%.40s' has 'fields' that is not an "
					   "object",
					ctx, json_string_value(id));
		if (json_object_get(seen, json_string_value(id)))
			continue;
		if (json_object_set_new(seen, json_string_value(id), json_true()) < 0)
			return serr_set(e, "airtable: %s: out of memory", ctx);
		if (fn(ud, rec, e) != 0)
			return -1;
		if (max_records > 0 && ++*delivered >= max_records)
			return 1;
	}
	return 0;
}

int airtable_list(struct airtable *at, const char *table, const struct airtable_query *q,
		  airtable_record_fn fn, void *ud, serr *e)
{
	char ctx[160];
	char *offset = NULL;
	json_t *seen = json_object(), *page = NULL;
	long delivered = 0, pages = 0;
	int restarts = 0, rc = -1;

	snprintf(ctx, sizeof(ctx), "cannot list '%.100s'", table ? table : "");
	if (!seen) {
		serr_set(e, "airtable: %s: out of memory", ctx);
		goto out;
	}
	if (!fn) {
		serr_set(e, "airtable: %s: no record callback given", ctx);
		goto out;
	}
	if (check_query(q, e) < 0)
		goto out;
	for (;;) {
		const json_t *next;
		int d;

		json_decref(page);
		page = NULL;
		if (fetch_page(at, table, q, offset, ctx, &page, e) < 0) {
			if (!offset || strcmp(at->last_error_type, "LIST_RECORDS_ITERATOR_NOT_AVAILABLE"))
				goto out;
			if (++restarts > AIRTABLE_MAX_RESTARTS) {
				serr_set(e, "airtable: %s: the listing's offset expired %d times "
					    "(LIST_RECORDS_ITERATOR_NOT_AVAILABLE); giving up, try again "
					    "when the base is less busy",
					 ctx, restarts);
				goto out;
			}
			at->stats.restarts++;
			log_warn("airtable listing restarted after its offset expired",
				 "table=%s pages=%ld delivered=%zu restart=%d", table, pages,
				 json_object_size(seen), restarts);
			free(offset);
			offset = NULL;
			continue;
		}
		pages++;
		d = deliver_page(page, ctx, seen, q ? q->max_records : 0, &delivered, fn, ud, e);
		if (d < 0)
			goto out;
		if (d > 0)
			break;
		next = json_object_get(page, "offset");
		if (!next)
			break;
		if (!json_is_string(next) || !*json_string_value(next)) {
			serr_set(e, "airtable: %s: the answer's 'offset' is not a string", ctx);
			goto out;
		}
		if (offset && strcmp(offset, json_string_value(next)) == 0) {
			serr_set(e, "airtable: %s: the server returned the same offset twice", ctx);
			goto out;
		}
		free(offset);
		if (!(offset = xstrdup(json_string_value(next)))) {
			serr_set(e, "airtable: %s: out of memory", ctx);
			goto out;
		}
	}
	rc = 0;
out:
	free(offset);
	json_decref(page);
	json_decref(seen);
	return rc;
}

int airtable_get(struct airtable *at, const char *table, const char *record_id, json_t **out,
		 serr *e)
{
	struct buf url;
	struct at_call c;
	char ctx[200];
	json_t *rec = NULL;
	int rc = -1;

	*out = NULL;
	buf_init(&url, 8192);
	snprintf(ctx, sizeof(ctx), "cannot read record '%.40s' of '%.100s'",
		 record_id ? record_id : "", table ? table : "");
	if (!record_id || !*record_id) {
		serr_set(e, "airtable: %s: no record id given", ctx);
		goto out;
	}
	if (at_table_url(at, table, &url, e) < 0)
		goto out;
	if (buf_putc(&url, '/') < 0 || http_urlencode(&url, record_id) < 0) {
		serr_set(e, "airtable: %s: record id is too long", ctx);
		goto out;
	}
	memset(&c, 0, sizeof(c));
	c.method = "GET";
	c.table = table;
	c.url = url.data;
	c.ctx = ctx;
	c.idempotent = 1;
	if (at_request(at, &c, &rec, e) < 0)
		goto out;
	if (!json_is_object(rec) || !json_is_string(json_object_get(rec, "id"))) {
		serr_set(e, "airtable: %s: the answer is not a record", ctx);
		goto out;
	}
	*out = rec;
	rec = NULL;
	rc = 0;
out:
	json_decref(rec);
	buf_free(&url);
	return rc;
}
