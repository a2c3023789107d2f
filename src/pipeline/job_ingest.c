/*
 * job_ingest_job: fetch Customers STT records and resolve each job
 * description: a Notion page (fetched and turned into markdown), or plain
 * text used as it is. The result goes to raw_jobs with its source; a job
 * whose description cannot be resolved is stored with the error recorded.
 */
#include <stdlib.h>
#include <string.h>

#include "airtable/airtable.h"
#include "config/config.h"
#include "core/log.h"
#include "notion/notion.h"
#include "orchestrator/context.h"
#include "pipeline/ingest.h"
#include "store/raw.h"

int step_fetch_jobs(struct job_ctx *ctx, serr *e)
{
	return pipeline_fetch_records(ctx, ctx->cfg->jobs_table, e);
}

static int looks_like_url(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0 ||
	       strncmp(s, "www.", 4) == 0;
}

static int is_notion_url(const char *s)
{
	return looks_like_url(s) && (strstr(s, "notion.so") || strstr(s, "notion.site"));
}

/*
 * The description link field may hold a Notion URL or, as recruiters also
 * do, the description itself; the long-text field is the fallback.
 */
static int resolve_one(struct job_ctx *ctx, const char *id, const json_t *fields, json_t *extra,
		       serr *e)
{
	const struct config *cfg = ctx->cfg;
	const char *link = airtable_str(fields, cfg->j_jd_link);
	const char *text = airtable_str(fields, cfg->j_jd_text);
	json_t *errors = json_array();
	struct buf md;
	const char *source = "none", *desc = NULL;
	char page_id[37] = "";
	int rc = -1;

	buf_init(&md, 4 * 1024 * 1024);
	if (!errors)
		goto oom;
	while (*link == ' ' || *link == '\n')
		link++;
	if (*link && is_notion_url(link)) {
		struct notion *n;
		serr ne;
		if (notion_page_id_from_url(link, page_id, &ne) < 0 ||
		    job_ctx_notion(ctx, &n, &ne) < 0 || notion_page_markdown(n, page_id, &md, &ne) < 0) {
			log_warn("job description not fetched", "record=%s error=\"%s\"", id, ne.msg);
			if (json_array_append_new(errors, json_pack("{s:s,s:s}", "source", "notion",
								    "message", ne.msg)) < 0)
				goto oom;
			buf_reset(&md);
		} else {
			source = "notion";
			desc = buf_cstr(&md);
		}
	} else if (*link && looks_like_url(link)) {
		if (json_array_append_new(errors, json_pack("{s:s,s:s}", "source", "link", "message",
							    "the description link is not a Notion page; "
							    "only Notion links are fetched")) < 0)
			goto oom;
	} else if (*link) {
		source = "text";
		desc = link;
	}
	if (!desc && *text) {
		source = "text";
		desc = text;
	}
	if (!desc && json_array_size(errors) == 0 &&
	    json_array_append_new(errors, json_pack("{s:s,s:s}", "source", "description", "message",
						    "the job has no description: fill the "
						    "description link or text")) < 0)
		goto oom;
	if (json_object_set_new(extra, "description_source", json_string(source)) < 0 ||
	    json_object_set_new(extra, "description_text", desc ? json_string(desc) : json_null()) < 0 ||
	    json_object_set_new(extra, "notion_page_id", *page_id ? json_string(page_id) : json_null()) < 0 ||
	    json_object_set_new(extra, "errors", errors) < 0) {
		errors = NULL;
		goto oom;
	}
	errors = NULL;
	rc = 0;
	goto out;
oom:
	serr_set(e, "out of memory resolving the description of '%s'", id);
out:
	json_decref(errors);
	buf_free(&md);
	return rc;
}

int step_resolve_descriptions(struct job_ctx *ctx, serr *e)
{
	struct ingest_state *st = ctx->state;
	size_t i;
	json_t *rec;
	long resolved = 0;

	json_array_foreach(st->records, i, rec) {
		const char *id = json_string_value(json_object_get(rec, "id"));
		const json_t *fields = json_object_get(rec, "fields");
		json_t *extra;
		char hash[65];

		if (!id || !json_is_object(fields))
			return serr_set(e, "airtable returned a record without id or fields");
		if (job_input_hash(ctx->cfg, fields, hash, e) < 0)
			return -1;
		if (!(extra = json_pack("{s:s}", "input_hash", hash)) ||
		    json_object_set_new(st->extras, id, extra) < 0)
			return serr_set(e, "out of memory");
		if (resolve_one(ctx, id, fields, extra, e) < 0)
			return -1;
		if (!json_is_null(json_object_get(extra, "description_text")))
			resolved++;
	}
	log_info("job descriptions resolved", "jobs=%zu resolved=%ld",
		 json_array_size(st->records), resolved);
	return 0;
}

int step_store_raw_jobs(struct job_ctx *ctx, serr *e)
{
	struct ingest_state *st = ctx->state;
	size_t i;
	json_t *rec;
	long written = 0, with_errors = 0;

	json_array_foreach(st->records, i, rec) {
		const char *id = json_string_value(json_object_get(rec, "id"));
		json_t *extra = json_object_get(st->extras, id);
		struct raw_job row;
		char *fields_text, *errors_text;
		int ok;

		if (!extra)
			continue;
		fields_text = json_dumps(json_object_get(rec, "fields"), JSON_COMPACT);
		errors_text = json_dumps(json_object_get(extra, "errors"), JSON_COMPACT);
		if (!fields_text || !errors_text) {
			free(fields_text);
			free(errors_text);
			return serr_set(e, "out of memory");
		}
		memset(&row, 0, sizeof(row));
		row.record_id = id;
		row.fields_json = fields_text;
		row.description_text = json_string_value(json_object_get(extra, "description_text"));
		row.description_source = json_string_value(json_object_get(extra, "description_source"));
		row.notion_page_id = json_string_value(json_object_get(extra, "notion_page_id"));
		row.input_hash = json_string_value(json_object_get(extra, "input_hash"));
		row.airtable_created_at = json_string_value(json_object_get(rec, "createdTime"));
		row.extraction_errors_json = errors_text;
		ok = raw_job_upsert(ctx->store, &row, e);
		if (json_array_size(json_object_get(extra, "errors")))
			with_errors++;
		free(fields_text);
		free(errors_text);
		if (ok < 0)
			return serr_wrap(e, "job '%s'", id);
		written++;
	}
	ctx->records_written += written;
	return job_ctx_materialize(ctx, "raw_jobs",
				   json_pack("{s:I,s:I}", "rows_written", (json_int_t)written,
					     "with_description_errors", (json_int_t)with_errors),
				   e);
}
