/*
 * Writing records: create, update (PATCH), upsert (PATCH with
 * performUpsert) and delete, each cut into batches of AIRTABLE_BATCH
 * records, one request per batch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "airtable/airtable.h"
#include "airtable/request.h"
#include "core/util.h"

enum write_kind { W_CREATE, W_UPDATE, W_UPSERT };

static const char *kind_verb(enum write_kind k)
{
	return k == W_CREATE ? "create" : k == W_UPDATE ? "update" : "upsert";
}

/* Each record checked before anything is sent, so a bad one cannot leave half a write. */
static int check_records(enum write_kind kind, const char *table, const json_t *records,
			 const char *const *merge_on, serr *e)
{
	size_t i;
	const json_t *rec;

	if (!json_is_array(records))
		return serr_set(e, "airtable: cannot %s records in '%.100s': records must be a "
				   "JSON array",
				kind_verb(kind), table);
	json_array_foreach(records, i, rec)
	{
		const json_t *fields = json_object_get(rec, "fields");
		const json_t *id = json_object_get(rec, "id");

		if (!json_is_object(rec) || !json_is_object(fields))
			return serr_set(e, "airtable: cannot %s records in '%.100s': record %zu has "
					   "no 'fields' object",
					kind_verb(kind), table, i + 1);
		if (kind == W_UPDATE && (!json_is_string(id) || !*json_string_value(id)))
			return serr_set(e, "airtable: cannot update records in '%.100s': record %zu "
					   "has no 'id'",
					table, i + 1);
		if (kind == W_CREATE && id)
			return serr_set(e, "airtable: cannot create records in '%.100s': record %zu "
					   "already has an id (use airtable_update)",
					table, i + 1);
		/* an upsert record with an id updates that record; others are matched on merge fields */
		for (size_t m = 0; kind == W_UPSERT && !id && merge_on[m]; m++)
			if (!json_object_get(fields, merge_on[m]))
				return serr_set(e, "airtable: cannot upsert records in '%.100s': record "
						   "%zu has no value for merge field '%.100s'",
						table, i + 1, merge_on[m]);
	}
	return 0;
}

static json_t *batch_body(enum write_kind kind, const json_t *records, size_t from, size_t n,
			  const char *const *merge_on, int typecast)
{
	json_t *body = json_object(), *arr = json_array(), *merge;
	int bad = !body || !arr;

	/* only id and fields: other keys (createdTime from a listing) would be refused */
	for (size_t i = 0; !bad && i < n; i++) {
		const json_t *rec = json_array_get(records, from + i);
		json_t *id = json_object_get(rec, "id"), *one = json_object();

		bad |= !one;
		if (one && id && kind != W_CREATE)
			bad |= json_object_set(one, "id", id);
		if (one)
			bad |= json_object_set(one, "fields", json_object_get(rec, "fields"));
		bad |= json_array_append_new(arr, one);
	}
	if (!bad) {
		bad |= json_object_set_new(body, "records", arr);
		arr = NULL;
		bad |= json_object_set_new(body, "typecast", json_boolean(typecast));
	}
	if (!bad && kind == W_UPSERT) {
		merge = json_array();
		bad |= !merge;
		for (size_t m = 0; merge && merge_on[m]; m++)
			bad |= json_array_append_new(merge, json_string(merge_on[m]));
		bad |= json_object_set_new(body, "performUpsert",
					   json_pack("{s:o*}", "fieldsToMergeOn", merge));
	}
	json_decref(arr);
	if (bad) {
		json_decref(body);
		return NULL;
	}
	return body;
}

/* "record 'recX' (batch 2 of 3)" or "records 11-20 (batch 2 of 3)", for messages. */
static void batch_ctx(char *ctx, size_t ctxsz, enum write_kind kind, const char *table,
		      const json_t *records, size_t from, size_t n, size_t batch, size_t nbatches)
{
	const json_t *id = json_object_get(json_array_get(records, from), "id");

	if (json_is_string(id))
		snprintf(ctx, ctxsz, "cannot %s '%.100s' record '%.40s' (batch %zu of %zu)",
			 kind_verb(kind), table, json_string_value(id), batch, nbatches);
	else
		snprintf(ctx, ctxsz, "cannot %s '%.100s' records %zu-%zu (batch %zu of %zu)",
			 kind_verb(kind), table, from + 1, from + n, batch, nbatches);
}

static int write_records(struct airtable *at, enum write_kind kind, const char *table,
			 const json_t *records, const char *const *merge_on, int typecast,
			 json_t **out, serr *e)
{
	struct buf url;
	json_t *all = NULL, *body = NULL, *ans = NULL;
	char *text = NULL, ctx[256];
	size_t total, nbatches;
	int rc = -1;

	if (out)
		*out = NULL;
	buf_init(&url, 8192);
	if (check_records(kind, table ? table : "", records, merge_on, e) < 0 ||
	    at_table_url(at, table, &url, e) < 0)
		goto out;
	if (!(all = json_array())) {
		serr_set(e, "airtable: out of memory");
		goto out;
	}
	total = json_array_size(records);
	nbatches = (total + AIRTABLE_BATCH - 1) / AIRTABLE_BATCH;
	for (size_t from = 0, b = 1; from < total; from += AIRTABLE_BATCH, b++) {
		size_t n = total - from < AIRTABLE_BATCH ? total - from : AIRTABLE_BATCH;
		const json_t *got;
		struct at_call c;
		size_t i;
		json_t *r;

		batch_ctx(ctx, sizeof(ctx), kind, table, records, from, n, b, nbatches);
		json_decref(body);
		free(text);
		text = NULL;
		if (!(body = batch_body(kind, records, from, n, merge_on, typecast)) ||
		    !(text = json_dumps(body, JSON_COMPACT))) {
			serr_set(e, "airtable: %s: cannot encode the records (out of memory, or text "
				    "that is not UTF-8)",
				 ctx);
			goto fail;
		}
		memset(&c, 0, sizeof(c));
		c.method = kind == W_CREATE ? "POST" : "PATCH";
		c.table = table;
		c.url = url.data;
		c.body = text;
		c.body_len = strlen(text);
		c.ctx = ctx;
		c.idempotent = kind != W_CREATE;
		json_decref(ans);
		ans = NULL;
		if (at_request(at, &c, &ans, e) < 0)
			goto fail;
		got = json_object_get(ans, "records");
		if (!json_is_array(got) || json_array_size(got) != n) {
			serr_set(e, "airtable: %s: the answer holds %zu records for %zu sent", ctx,
				 json_is_array(got) ? json_array_size(got) : 0, n);
			goto fail;
		}
		json_array_foreach(got, i, r)
		{
			if (json_array_append(all, r) < 0) {
				serr_set(e, "airtable: %s: out of memory", ctx);
				goto fail;
			}
		}
	}
	rc = 0;
	goto out;
fail:
	if (json_array_size(all) > 0) {
		char done[96];
		snprintf(done, sizeof(done), " (%zu of %zu records written before this failure)",
			 json_array_size(all), json_array_size(records));
		if (e) {
			size_t l = strlen(e->msg);
			snprintf(e->msg + l, sizeof(e->msg) - l, "%s", done);
		}
	}
out:
	if (out) {
		*out = all;
		all = NULL;
	}
	json_decref(all);
	json_decref(ans);
	json_decref(body);
	free(text);
	buf_free(&url);
	return rc;
}

int airtable_create(struct airtable *at, const char *table, const json_t *records, int typecast,
		    json_t **out, serr *e)
{
	return write_records(at, W_CREATE, table, records, NULL, typecast, out, e);
}

int airtable_update(struct airtable *at, const char *table, const json_t *records, int typecast,
		    json_t **out, serr *e)
{
	return write_records(at, W_UPDATE, table, records, NULL, typecast, out, e);
}

int airtable_upsert(struct airtable *at, const char *table, const json_t *records,
		    const char *const *merge_on, int typecast, json_t **out, serr *e)
{
	size_t n = 0;

	if (out)
		*out = NULL;
	while (merge_on && merge_on[n])
		n++;
	if (n < 1 || n > AIRTABLE_MAX_MERGE_FIELDS)
		return serr_set(e, "airtable: cannot upsert records in '%.100s': fieldsToMergeOn "
				   "takes 1 to %d field names, got %zu",
				table ? table : "", AIRTABLE_MAX_MERGE_FIELDS, n);
	for (size_t i = 0; i < n; i++)
		if (!*merge_on[i])
			return serr_set(e, "airtable: cannot upsert records in '%.100s': merge field "
					   "%zu has an empty name",
					table ? table : "", i + 1);
	return write_records(at, W_UPSERT, table, records, merge_on, typecast, out, e);
}

int airtable_delete(struct airtable *at, const char *table, const char *const *ids, size_t n,
		    serr *e)
{
	struct buf url;
	size_t base_len;
	char ctx[256];
	int rc = -1;

	buf_init(&url, 64 * 1024);
	if (at_table_url(at, table, &url, e) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (!ids[i] || !*ids[i]) {
			serr_set(e, "airtable: cannot delete records in '%.100s': id %zu is empty",
				 table, i + 1);
			goto out;
		}
	base_len = url.len;
	for (size_t from = 0, b = 1; from < n; from += AIRTABLE_BATCH, b++) {
		size_t cnt = n - from < AIRTABLE_BATCH ? n - from : AIRTABLE_BATCH;
		struct at_call c;
		json_t *ans = NULL;
		const json_t *got;

		snprintf(ctx, sizeof(ctx), "cannot delete '%.100s' record '%.40s' (batch %zu of %zu)",
			 table, ids[from], b, (n + AIRTABLE_BATCH - 1) / AIRTABLE_BATCH);
		url.len = base_len;
		url.data[base_len] = '\0';
		for (size_t i = 0; i < cnt; i++)
			if (at_query_param(&url, "records%5B%5D", ids[from + i]) < 0) {
				serr_set(e, "airtable: %s: record ids are too long", ctx);
				goto out;
			}
		memset(&c, 0, sizeof(c));
		c.method = "DELETE";
		c.table = table;
		c.url = url.data;
		c.ctx = ctx;
		c.idempotent = 1;
		c.missing_ok_on_retry = 1;
		if (at_request(at, &c, &ans, e) < 0)
			goto out;
		got = json_object_get(ans, "records");
		if (ans && (!json_is_array(got) || json_array_size(got) != cnt)) {
			serr_set(e, "airtable: %s: the answer confirms %zu deletions for %zu sent", ctx,
				 json_is_array(got) ? json_array_size(got) : 0, cnt);
			json_decref(ans);
			goto out;
		}
		json_decref(ans);
	}
	rc = 0;
out:
	buf_free(&url);
	return rc;
}
