/*
 * Candidate and job normalization steps. The input of a record is its raw
 * text (Airtable text and CV text, or the resolved job description); its
 * SHA-256 with the CV file list is the input hash of the stamp. Passages
 * that address instructions to a model are cut out before the text goes to
 * the LLM and reported as the record's injection flag and evidence.
 */
#include "pipeline/normalize.h"

#include <stdlib.h>
#include <string.h>

#include "airtable/airtable.h"
#include "config/config.h"
#include "core/log.h"
#include "core/util.h"
#include "llm/injection.h"
#include "llm/normalize_input.h"
#include "llm/normalize_schema.h"
#include "llm/prompt.h"
#include "orchestrator/context.h"
#include "pdf/fetch.h"
#include "pipeline/llm_ctx.h"
#include "store/normalized.h"
#include "store/raw.h"

/* Bytes of the evidence of an injection kept with the record. */
#define EVIDENCE_MAX 4096

/* Outcome counters of one step, reported as its materialization. */
struct norm_counts {
	long done, skipped, failed, flagged;
	serr first; /* the first failure, reported when the step fails */
};

/* One sentence ends at a newline or after . ! ? followed by a space. */
static size_t sentence_len(const char *s)
{
	size_t i = 0;

	while (s[i]) {
		if (s[i] == '\n')
			return i + 1;
		if ((s[i] == '.' || s[i] == '!' || s[i] == '?') &&
		    (s[i + 1] == ' ' || s[i + 1] == '\t' || s[i + 1] == '\n' || !s[i + 1])) {
			i++;
			while (s[i] == ' ' || s[i] == '\t')
				i++;
			return i;
		}
		i++;
	}
	return i;
}

int normalize_strip_injections(const char *text, struct buf *out, serr *e)
{
	struct buf one;
	int removed = 0, rc = -1;
	const char *p = text ? text : "";

	buf_init(&one, 0);
	while (*p) {
		size_t n = sentence_len(p);

		buf_reset(&one);
		if (buf_append(&one, p, n) < 0) {
			serr_set(e, "out of memory removing injected instructions");
			goto out;
		}
		if (injection_scan(buf_cstr(&one), NULL) > 0) {
			removed++;
			/* keep the line break so the lines around it stay apart */
			if (n && p[n - 1] == '\n' && out->len && out->data[out->len - 1] != '\n' &&
			    buf_putc(out, '\n') < 0)
				goto full;
		} else if (buf_append(out, p, n) < 0) {
			goto full;
		}
		p += n;
	}
	rc = removed;
	goto out;
full:
	serr_set(e, "text too long removing injected instructions");
out:
	buf_free(&one);
	return rc;
}

/*
 * The text that goes to the model (cut out injected passages) and the
 * record's flag: scout's scan or the model's own report.
 */
struct guarded {
	struct buf clean;
	struct buf evidence;
	int found;
};

static void guarded_init(struct guarded *g)
{
	buf_init(&g->clean, PROMPT_MAX_DATA + 1024);
	buf_init(&g->evidence, EVIDENCE_MAX);
	g->found = 0;
}

static void guarded_free(struct guarded *g)
{
	buf_free(&g->clean);
	buf_free(&g->evidence);
}

static int guard_text(const char *data, struct guarded *g, serr *e)
{
	g->found = injection_scan(data, &g->evidence);
	if (g->found == 0)
		return buf_puts(&g->clean, data) < 0 ? serr_set(e, "input too long") : 0;
	if (normalize_strip_injections(data, &g->clean, e) < 0)
		return -1;
	return 0;
}

/* The model's flag and evidence merged with scout's own scan. */
static void final_flag(const json_t *answer, struct guarded *g, int *flag, const char **evidence)
{
	int model = json_is_true(json_object_get(answer, "prompt_injection_detected"));
	const char *mev = json_string_value(json_object_get(answer, "injection_evidence"));

	*flag = model || g->found > 0;
	*evidence = NULL;
	if (g->found > 0)
		*evidence = buf_cstr(&g->evidence);
	else if (model)
		*evidence = mev ? mev : "reported by the model";
}

static void count_failure(struct norm_counts *c, const char *id, const serr *err)
{
	c->failed++;
	log_error("normalization failed", "record=%s error=\"%s\"", id, err->msg);
	if (c->failed == 1)
		c->first = *err;
}

/* A scanned CV the local extraction found empty: read it again through OCR. */
static int ocr_scans(struct job_ctx *ctx, const char *id, const json_t *fields,
		     const char *files_json, struct buf *text, serr *e)
{
	const struct config *cfg = ctx->cfg;
	json_t *files = NULL, *f;
	json_error_t je;
	struct http_client *http;
	struct buf pdf;
	size_t i, max = (size_t)cfg->pdf_max_mb * 1024 * 1024;
	int rc = -1;

	buf_init(&pdf, max + 1);
	files = files_json ? json_loads(files_json, 0, &je) : NULL;
	json_array_foreach(files, i, f) {
		const char *name = json_string_value(json_object_get(f, "filename"));
		const char *status = json_string_value(json_object_get(f, "status"));
		size_t n = airtable_attachments_len(fields, cfg->f_cv);
		struct llm *l;
		struct llm_usage u;
		int ok;

		if (!name || !status || strcmp(status, "empty") != 0)
			continue;
		for (size_t k = 0; k < n; k++) {
			struct airtable_attachment a;

			if (airtable_attachment_at(fields, cfg->f_cv, k, &a) < 0 ||
			    strcmp(a.filename, name) != 0)
				continue;
			if (job_ctx_http(ctx, &http, e) < 0 || pipeline_llm(ctx, &l, e) < 0)
				goto out;
			buf_reset(&pdf);
			if (pdf_fetch(http, a.url, max, &pdf, e) < 0) {
				serr_wrap(e, "cannot download the scanned cv '%s' of '%s' again", name, id);
				goto out;
			}
			memset(&u, 0, sizeof(u));
			if (text->len && buf_puts(text, "\n\n") < 0)
				goto full;
			ok = llm_pdf_text(l, pdf.data, pdf.len, name, "mistral-ocr", text, &u, e);
			if (ok < 0)
				serr_wrap(e, "ocr of the cv '%s' of '%s'", name, id);
			if (pipeline_llm_record(ctx, id, "pdf_ocr", "file-parser:mistral-ocr", &u,
						ok < 0 ? llm_last_error(l) : LLM_OK,
						ok < 0 ? e->msg : NULL, ok < 0 ? NULL : e) < 0 ||
			    ok < 0)
				goto out;
			break;
		}
	}
	rc = 0;
	goto out;
full:
	serr_set(e, "cv text of '%s' too long", id);
out:
	json_decref(files);
	buf_free(&pdf);
	return rc;
}

static int has_scan(const char *files_json)
{
	return files_json && strstr(files_json, "\"status\":\"empty\"") != NULL;
}

/*
 * Normalize one candidate. 1 when skipped (stamp unchanged), 0 when
 * normalized, -1 on failure with *kind saying whether the LLM is out of credits.
 */
static int normalize_candidate(struct job_ctx *ctx, const struct prompt *p, const char *id,
			       struct norm_counts *c, enum llm_error_kind *kind, serr *e)
{
	struct pipeline_state *st = ctx->state;
	struct raw_candidate raw;
	struct norm_stamp stamp;
	struct buf data, cv, hashed;
	struct guarded g;
	json_t *fields = NULL, *answer = NULL;
	json_error_t je;
	char hash[65];
	int found = 0, sfound = 0, rc = -1;

	*kind = LLM_OK;
	raw_candidate_init(&raw);
	buf_init(&data, PROMPT_MAX_DATA);
	buf_init(&cv, PROMPT_MAX_DATA);
	buf_init(&hashed, 0);
	guarded_init(&g);
	if (raw_candidate_get(ctx->store, id, &raw, &found, e) < 0)
		goto out;
	if (!found) {
		serr_set(e, "candidate '%s' has no raw row: run candidate_ingest_job first", id);
		goto out;
	}
	if (normalize_candidate_input(raw.cv_text_airtable, raw.cv_text_pdf, &data, e) < 0)
		goto out;
	if (buf_append(&hashed, data.data ? data.data : "", data.len) < 0 ||
	    buf_printf(&hashed, "\n%s", raw.cv_files_json ? raw.cv_files_json : "[]") < 0) {
		serr_set(e, "out of memory hashing the input of '%s'", id);
		goto out;
	}
	sha256_hex(buf_cstr(&hashed), hashed.len, hash);
	if (normalized_candidate_stamp(ctx->store, id, &stamp, &sfound, e) < 0)
		goto out;
	if (sfound && norm_stamp_equal(&stamp, ctx->cfg->llm_chat_model, p->version, hash)) {
		rc = 1;
		goto out;
	}
	if (has_scan(raw.cv_files_json)) {
		fields = raw.fields_json ? json_loads(raw.fields_json, 0, &je) : NULL;
		if (buf_puts(&cv, raw.cv_text_pdf ? raw.cv_text_pdf : "") < 0 ||
		    ocr_scans(ctx, id, fields, raw.cv_files_json, &cv, e) < 0) {
			*kind = st->llm ? llm_last_error(st->llm) : LLM_ERR_TRANSPORT;
			goto out;
		}
		buf_reset(&data);
		if (normalize_candidate_input(raw.cv_text_airtable, buf_cstr(&cv), &data, e) < 0)
			goto out;
	}
	if (guard_text(buf_cstr(&data), &g, e) < 0)
		goto out;
	if (g.found)
		log_warn("instructions to a model found in the cv; cut out before normalizing",
			 "record=%s passages=%d", id, g.found);
	if (pipeline_chat(ctx, id, "normalize_candidate", p, buf_cstr(&g.clean),
			  normalize_schema_candidate(), NORMALIZE_SCHEMA_CANDIDATE,
			  normalize_validate_candidate, NULL, &answer, kind, e) < 0)
		goto out;
	{
		struct normalized_in in = { .record_id = id,
					    .model = ctx->cfg->llm_chat_model,
					    .prompt_version = p->version,
					    .input_hash = hash,
					    .normalized = answer };
		final_flag(answer, &g, &in.prompt_injection_flag, &in.prompt_injection_evidence);
		if (normalized_candidate_replace(ctx->store, &in, e) < 0) {
			serr_wrap(e, "cannot store the normalization of candidate '%s'", id);
			goto out;
		}
		c->flagged += in.prompt_injection_flag;
	}
	if (json_object_set_new(st->renormalized, id, json_true()) < 0) {
		serr_set(e, "out of memory");
		goto out;
	}
	rc = 0;
out:
	json_decref(answer);
	json_decref(fields);
	raw_candidate_free(&raw);
	buf_free(&data);
	buf_free(&cv);
	buf_free(&hashed);
	guarded_free(&g);
	return rc;
}

/* The job's DATA: its title and the resolved description. */
static int job_data(const struct config *cfg, const struct raw_job *raw, struct buf *out, serr *e)
{
	json_t *fields = NULL;
	json_error_t je;
	const char *title = NULL;
	int rc;

	if (raw->fields_json && (fields = json_loads(raw->fields_json, 0, &je)))
		title = json_string_value(json_object_get(fields, cfg->j_title));
	rc = (title && buf_printf(out, "%s: %s\n\n", cfg->j_title, title) < 0) ||
	     buf_puts(out, raw->description_text ? raw->description_text : "") < 0;
	json_decref(fields);
	if (rc)
		return serr_set(e, "the description of job '%s' is over %zu bytes", raw->record_id,
				(size_t)PROMPT_MAX_DATA);
	return 0;
}

static int normalize_job(struct job_ctx *ctx, const struct prompt *p, const char *id,
			 struct norm_counts *c, enum llm_error_kind *kind, serr *e)
{
	struct pipeline_state *st = ctx->state;
	struct raw_job raw;
	struct norm_stamp stamp;
	struct buf data;
	struct guarded g;
	json_t *answer = NULL;
	char hash[65];
	int found = 0, sfound = 0, rc = -1;

	*kind = LLM_OK;
	raw_job_init(&raw);
	buf_init(&data, PROMPT_MAX_DATA);
	guarded_init(&g);
	if (raw_job_get(ctx->store, id, &raw, &found, e) < 0)
		goto out;
	if (!found) {
		serr_set(e, "job '%s' has no raw row: run job_ingest_job first", id);
		goto out;
	}
	if (job_data(ctx->cfg, &raw, &data, e) < 0)
		goto out;
	if (!data.len || !raw.description_text || !*raw.description_text) {
		serr_set(e, "job '%s' has no description to normalize: fill '%s' or '%s'", id,
			 ctx->cfg->j_jd_link, ctx->cfg->j_jd_text);
		goto out;
	}
	sha256_hex(data.data, data.len, hash);
	if (normalized_job_stamp(ctx->store, id, &stamp, &sfound, e) < 0)
		goto out;
	if (sfound && norm_stamp_equal(&stamp, ctx->cfg->llm_chat_model, p->version, hash)) {
		rc = 1;
		goto out;
	}
	if (guard_text(buf_cstr(&data), &g, e) < 0)
		goto out;
	if (pipeline_chat(ctx, id, "normalize_job", p, buf_cstr(&g.clean), normalize_schema_job(),
			  NORMALIZE_SCHEMA_JOB, normalize_validate_job, NULL, &answer, kind, e) < 0)
		goto out;
	{
		struct normalized_in in = { .record_id = id,
					    .model = ctx->cfg->llm_chat_model,
					    .prompt_version = p->version,
					    .input_hash = hash,
					    .normalized = answer };
		final_flag(answer, &g, &in.prompt_injection_flag, &in.prompt_injection_evidence);
		if (normalized_job_replace(ctx->store, &in, e) < 0) {
			serr_wrap(e, "cannot store the normalization of job '%s'", id);
			goto out;
		}
		c->flagged += in.prompt_injection_flag;
	}
	if (json_object_set_new(st->renormalized, id, json_true()) < 0) {
		serr_set(e, "out of memory");
		goto out;
	}
	rc = 0;
out:
	json_decref(answer);
	raw_job_free(&raw);
	buf_free(&data);
	guarded_free(&g);
	return rc;
}

typedef int (*normalize_one_fn)(struct job_ctx *ctx, const struct prompt *p, const char *id,
				struct norm_counts *c, enum llm_error_kind *kind, serr *e);

/*
 * Every record of the run: one failure does not stop the others (except
 * a 402, which stops all LLM work); the step fails at the end naming the
 * first failure.
 */
static int normalize_all(struct job_ctx *ctx, const char *prompt_name, const char *raw_table,
			 const char *asset, normalize_one_fn one, serr *e)
{
	struct pipeline_state *st = ctx->state;
	struct prompt p;
	struct norm_counts c;
	json_t *ids, *idv, *meta;
	size_t i;
	int rc = -1;

	memset(&c, 0, sizeof(c));
	if (prompt_load(prompt_name, &p, e) < 0)
		return -1;
	if (!(ids = pipeline_record_ids(ctx, raw_table, e)))
		return -1;
	json_array_foreach(ids, i, idv) {
		const char *id = json_string_value(idv);
		enum llm_error_kind kind = LLM_OK;
		serr re;
		int r = one(ctx, &p, id, &c, &kind, &re);

		if (r == 1) {
			c.skipped++;
		} else if (r == 0) {
			c.done++;
		} else {
			count_failure(&c, id, &re);
			if (kind == LLM_ERR_NO_CREDITS || strstr(re.msg, "llm work is paused"))
				break;
		}
	}
	ctx->records_written += c.done;
	meta = json_pack("{s:I,s:I,s:I,s:I,s:i}", "normalized", (json_int_t)c.done, "unchanged",
			 (json_int_t)c.skipped, "failed", (json_int_t)c.failed, "injection_flagged",
			 (json_int_t)c.flagged, "prompt_version", p.version);
	if (!meta || pipeline_usage_meta(&st->usage, meta) < 0) {
		json_decref(meta);
		serr_set(e, "out of memory");
		goto out;
	}
	if (job_ctx_materialize(ctx, asset, meta, e) < 0)
		goto out;
	log_info("normalized", "asset=%s done=%ld unchanged=%ld failed=%ld", asset, c.done,
		 c.skipped, c.failed);
	if (c.failed) {
		if (json_array_size(ids) == 1)
			*e = c.first;
		else
			serr_set(e, "%ld of %zu records failed; the first: %s", c.failed,
				 json_array_size(ids), c.first.msg);
		goto out;
	}
	rc = 0;
out:
	json_decref(ids);
	return rc;
}

int step_normalize_candidates(struct job_ctx *ctx, serr *e)
{
	return normalize_all(ctx, NORMALIZE_PROMPT_CANDIDATE, "raw_candidates",
			     "normalized_candidates", normalize_candidate, e);
}

int step_normalize_jobs(struct job_ctx *ctx, serr *e)
{
	return normalize_all(ctx, NORMALIZE_PROMPT_JOB, "raw_jobs", "normalized_jobs",
			     normalize_job, e);
}
