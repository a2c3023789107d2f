/*
 * candidate_ingest_job: fetch Talent records, download their CV PDFs right
 * away (Airtable's attachment URLs expire), extract the text in an isolated
 * child, and store everything in raw_candidates. A CV that cannot be read
 * is recorded as an error on the candidate, who is still ingested from the
 * Airtable text.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "airtable/airtable.h"
#include "config/config.h"
#include "core/log.h"
#include "core/util.h"
#include "orchestrator/context.h"
#include "pdf/fetch.h"
#include "pdf/pdf.h"
#include "pipeline/ingest.h"
#include "store/raw.h"

static int collect_record(void *ud, const json_t *record, serr *e)
{
	json_t *records = ud;

	if (json_array_append(records, (json_t *)record) < 0)
		return serr_set(e, "out of memory collecting records");
	return 0;
}

int pipeline_fetch_records(struct job_ctx *ctx, const char *table, serr *e)
{
	struct ingest_state *st = ctx->state;
	struct airtable *at;
	json_t *rec = NULL;

	if (job_ctx_airtable(ctx, &at, e) < 0)
		return -1;
	if (ctx->partition) {
		if (airtable_get(at, table, ctx->partition, &rec, e) < 0)
			return -1;
		if (json_array_append_new(st->records, rec) < 0)
			return serr_set(e, "out of memory");
	} else if (airtable_list(at, table, NULL, collect_record, st->records, e) < 0) {
		return -1;
	}
	log_info("records fetched", "table=%s count=%zu", table, json_array_size(st->records));
	return 0;
}

int step_fetch_candidates(struct job_ctx *ctx, serr *e)
{
	return pipeline_fetch_records(ctx, ctx->cfg->talent_table, e);
}

static int is_pdf(const struct airtable_attachment *a)
{
	size_t n = strlen(a->filename);

	if (a->type && strcasecmp(a->type, "application/pdf") == 0)
		return 1;
	return n >= 4 && strcasecmp(a->filename + n - 4, ".pdf") == 0;
}

static int add_error(json_t *errors, const char *file, const char *status, const char *msg)
{
	return json_array_append_new(errors, json_pack("{s:s,s:s,s:s,s:s}", "source", "cv", "file",
						       file, "status", status, "message", msg));
}

/* Download and read every CV attachment of one candidate into extra. */
static int extract_one(struct job_ctx *ctx, struct http_client *http, const char *id,
		       const json_t *fields, json_t *extra, serr *e)
{
	const struct config *cfg = ctx->cfg;
	size_t n = airtable_attachments_len(fields, cfg->f_cv);
	json_t *files = json_array(), *errors = json_array();
	struct buf text, data, part;
	size_t max_bytes = (size_t)cfg->pdf_max_mb * 1024 * 1024;
	int rc = -1;

	buf_init(&text, (size_t)cfg->pdf_max_text_kb * 1024 * 2);
	buf_init(&data, max_bytes + 1);
	buf_init(&part, (size_t)cfg->pdf_max_text_kb * 1024 + 1);
	if (!files || !errors)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		struct airtable_attachment a;
		enum pdf_status ps = PDF_OK;
		char sha[65] = "";
		serr pe;

		if (airtable_attachment_at(fields, cfg->f_cv, i, &a) < 0)
			continue;
		if (!is_pdf(&a)) {
			if (add_error(errors, a.filename, "unsupported",
				      "only PDF CVs are read; the file was skipped") < 0)
				goto oom;
			continue;
		}
		buf_reset(&data);
		buf_reset(&part);
		if (a.size > (double)max_bytes) {
			ps = PDF_TOO_LARGE;
			serr_set(&pe, "cv '%s' is %.0f bytes, over the %d MiB limit (pdf.max_file_mb)",
				 a.filename, a.size, cfg->pdf_max_mb);
		} else if (pdf_fetch(http, a.url, max_bytes, &data, &pe) < 0) {
			ps = data.overflow ? PDF_TOO_LARGE : PDF_CORRUPT;
			serr_wrap(&pe, "cannot download cv '%s'", a.filename);
		} else {
			sha256_hex(data.data ? data.data : "", data.len, sha);
			if (pdf_extract_text(cfg, data.data, data.len, &part, &ps, &pe) == 0)
				ps = PDF_OK;
		}
		if (json_array_append_new(files, json_pack("{s:s,s:f,s:s,s:s}", "filename",
							   a.filename, "size", a.size, "sha256",
							   sha, "status", pdf_status_name(ps))) < 0)
			goto oom;
		if (ps != PDF_OK) {
			log_warn("cv not read", "record=%s file=\"%s\" status=%s", id, a.filename,
				 pdf_status_name(ps));
			if (add_error(errors, a.filename, pdf_status_name(ps), pe.msg) < 0)
				goto oom;
			continue;
		}
		if ((text.len && buf_puts(&text, "\n\n") < 0) || buf_append(&text, part.data, part.len) < 0) {
			if (add_error(errors, a.filename, "truncated",
				      "cv text passed the size limit and was cut") < 0)
				goto oom;
		}
	}
	if (json_object_set_new(extra, "cv_text_pdf", n ? json_string(buf_cstr(&text)) : json_null()) < 0 ||
	    json_object_set_new(extra, "cv_files", files) < 0 ||
	    json_object_set_new(extra, "errors", errors) < 0) {
		files = errors = NULL;
		goto oom;
	}
	files = errors = NULL;
	rc = 0;
	goto out;
oom:
	serr_set(e, "out of memory reading the cv of '%s'", id);
out:
	json_decref(files);
	json_decref(errors);
	buf_free(&text);
	buf_free(&data);
	buf_free(&part);
	return rc;
}

/* Copy what an earlier ingest extracted into extra, for an unchanged record. */
static int reuse_stored(struct job_ctx *ctx, const char *id, json_t *extra, serr *e)
{
	struct raw_candidate old;
	json_error_t je;
	int found = 0, rc = -1;
	json_t *files = NULL, *errors = NULL;

	raw_candidate_init(&old);
	if (raw_candidate_get(ctx->store, id, &old, &found, e) < 0)
		goto out;
	if (!found) {
		serr_set(e, "candidate '%s' vanished from raw_candidates while ingesting", id);
		goto out;
	}
	files = old.cv_files_json ? json_loads(old.cv_files_json, 0, &je) : json_array();
	errors = old.extraction_errors_json ? json_loads(old.extraction_errors_json, 0, &je) :
					      json_array();
	if (!files || !errors ||
	    json_object_set_new(extra, "cv_text_pdf",
				old.cv_text_pdf ? json_string(old.cv_text_pdf) : json_null()) < 0 ||
	    json_object_set(extra, "cv_files", files) < 0 ||
	    json_object_set(extra, "errors", errors) < 0) {
		serr_set(e, "cannot reuse the stored cv text of '%s'", id);
		goto out;
	}
	rc = 0;
out:
	json_decref(files);
	json_decref(errors);
	raw_candidate_free(&old);
	return rc;
}

int step_extract_cv_text(struct job_ctx *ctx, serr *e)
{
	struct ingest_state *st = ctx->state;
	struct http_client *http;
	size_t i;
	json_t *rec;
	long read = 0, failed = 0;

	if (job_ctx_http(ctx, &http, e) < 0)
		return -1;
	json_array_foreach(st->records, i, rec) {
		const char *id = json_string_value(json_object_get(rec, "id"));
		const json_t *fields = json_object_get(rec, "fields");
		json_t *extra;
		char hash[65];
		struct buf old;
		int found = 0, same;

		if (!id || !json_is_object(fields))
			return serr_set(e, "airtable returned a record without id or fields");
		if (candidate_input_hash(ctx->cfg, fields, hash, e) < 0)
			return -1;
		buf_init(&old, 128);
		if (raw_candidate_input_hash(ctx->store, id, &old, &found, e) < 0) {
			buf_free(&old);
			return -1;
		}
		same = found && strcmp(buf_cstr(&old), hash) == 0;
		buf_free(&old);
		if (!(extra = json_pack("{s:s,s:b}", "input_hash", hash, "unchanged", same)))
			return serr_set(e, "out of memory");
		if (json_object_set_new(st->extras, id, extra) < 0)
			return serr_set(e, "out of memory");
		if (same) {
			/* keep the stored CV text: the inputs, CV included, did not change */
			if (reuse_stored(ctx, id, extra, e) < 0)
				return -1;
			st->skipped++;
			continue;
		}
		if (extract_one(ctx, http, id, fields, extra, e) < 0)
			return -1;
		read++;
		if (json_array_size(json_object_get(extra, "errors")))
			failed++;
	}
	log_info("cv text extracted", "candidates=%ld with_errors=%ld unchanged=%ld", read, failed,
		 st->skipped);
	return 0;
}

static char *dump_or_null(const json_t *v)
{
	return v ? json_dumps(v, JSON_COMPACT) : NULL;
}

int step_store_raw_candidates(struct job_ctx *ctx, serr *e)
{
	struct ingest_state *st = ctx->state;
	size_t i;
	json_t *rec;
	long written = 0, touched = 0, with_errors = 0;
	struct buf atext;
	int rc = -1;

	buf_init(&atext, 1024 * 1024);
	json_array_foreach(st->records, i, rec) {
		const char *id = json_string_value(json_object_get(rec, "id"));
		const json_t *fields = json_object_get(rec, "fields");
		json_t *extra = json_object_get(st->extras, id);
		struct raw_candidate rc_row;
		char *fields_text = NULL, *files_text = NULL, *errors_text = NULL;
		int ok;

		if (!extra)
			continue;
		fields_text = json_dumps(fields, JSON_COMPACT);
		if (!fields_text) {
			serr_set(e, "out of memory");
			goto out;
		}
		if (json_is_true(json_object_get(extra, "unchanged")))
			touched++;
		buf_reset(&atext);
		if (candidate_airtable_text(ctx->cfg, fields, &atext) < 0)
			log_warn("airtable text cut at its size limit", "record=%s", id);
		files_text = dump_or_null(json_object_get(extra, "cv_files"));
		errors_text = dump_or_null(json_object_get(extra, "errors"));
		memset(&rc_row, 0, sizeof(rc_row));
		rc_row.record_id = id;
		rc_row.fields_json = fields_text;
		rc_row.cv_text_airtable = buf_cstr(&atext);
		rc_row.cv_text_pdf = json_string_value(json_object_get(extra, "cv_text_pdf"));
		rc_row.cv_files_json = files_text ? files_text : "[]";
		rc_row.input_hash = json_string_value(json_object_get(extra, "input_hash"));
		rc_row.airtable_created_at = json_string_value(json_object_get(rec, "createdTime"));
		rc_row.extraction_errors_json = errors_text ? errors_text : "[]";
		ok = raw_candidate_upsert(ctx->store, &rc_row, e);
		if (json_array_size(json_object_get(extra, "errors")))
			with_errors++;
		free(fields_text);
		free(files_text);
		free(errors_text);
		if (ok < 0) {
			serr_wrap(e, "candidate '%s'", id);
			goto out;
		}
		if (!json_is_true(json_object_get(extra, "unchanged")))
			written++;
	}
	ctx->records_written += written;
	if (job_ctx_materialize(ctx, "raw_candidates",
				json_pack("{s:I,s:I,s:I}", "rows_written", (json_int_t)written,
					  "unchanged", (json_int_t)touched, "with_cv_errors",
					  (json_int_t)with_errors),
				e) < 0)
		goto out;
	rc = 0;
out:
	buf_free(&atext);
	return rc;
}
