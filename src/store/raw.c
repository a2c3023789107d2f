/* Upserts and reads of the raw Airtable tables (see raw.h). */
#include "store/raw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* Timestamps as Airtable writes them, whatever the session settings. */
#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"

/* Record ids are short; anything longer is not an Airtable id. */
#define RECORD_ID_MAX 256

const char *const ats_stage_columns[ATS_STAGE_COUNT] = {
	"potential_fit",	  "ai_rejection",	"shortlisted",
	"client_introduction",	  "interview1",		"interview2",
	"interview3",		  "interview4",		"assignment",
	"hired",		  "introduction_rejected", "interview_rejected",
	"assignment_rejected",	  "negotiations_rejection", "talent_rejected_job",
	"considered_on_hold",
};

static int record_id_check(const char *table, const char *id, serr *e)
{
	if (!id || !*id)
		return serr_set(e, "a '%s' record has no record id", table);
	if (strlen(id) > RECORD_ID_MAX)
		return serr_set(e, "'%s' record id '%.40s...' is longer than %d characters", table,
				id, RECORD_ID_MAX);
	return 0;
}

static int required(const char *table, const char *id, const char *col, const char *v,
		    serr *e)
{
	if (!v)
		return serr_set(e, "'%s' record '%s' has no '%s'", table, id, col);
	return 0;
}

/* ---- raw_candidates ---- */

void raw_candidate_init(struct raw_candidate *c)
{
	memset(c, 0, sizeof(*c));
}

void raw_candidate_free(struct raw_candidate *c)
{
	PQclear(c->owner);
	raw_candidate_init(c);
}

int raw_candidate_upsert(struct store *s, const struct raw_candidate *c, serr *e)
{
	char what[RECORD_ID_MAX + 64];
	const char *p[9];

	if (record_id_check("raw_candidates", c->record_id, e) < 0 ||
	    required("raw_candidates", c->record_id, "fields", c->fields_json, e) < 0 ||
	    required("raw_candidates", c->record_id, "input_hash", c->input_hash, e) < 0)
		return -1;
	p[0] = c->record_id;
	p[1] = c->fields_json;
	p[2] = c->cv_text_airtable;
	p[3] = c->cv_text_pdf;
	p[4] = c->cv_files_json;
	p[5] = c->input_hash;
	p[6] = c->airtable_created_at;
	p[7] = c->airtable_modified_at;
	p[8] = c->extraction_errors_json ? c->extraction_errors_json : "[]";
	snprintf(what, sizeof(what), "upsert raw candidate '%s'", c->record_id);
	return store_exec(
		s, what,
		"INSERT INTO raw_candidates (record_id, fields, cv_text_airtable, cv_text_pdf,"
		" cv_files, input_hash, airtable_created_at, airtable_modified_at,"
		" extraction_errors)"
		" VALUES ($1, $2::jsonb, $3, $4, $5::jsonb, $6, $7::timestamptz, $8::timestamptz,"
		" $9::jsonb)"
		" ON CONFLICT (record_id) DO UPDATE SET fields = EXCLUDED.fields,"
		" cv_text_airtable = EXCLUDED.cv_text_airtable, cv_text_pdf = EXCLUDED.cv_text_pdf,"
		" cv_files = EXCLUDED.cv_files, input_hash = EXCLUDED.input_hash,"
		" airtable_created_at = EXCLUDED.airtable_created_at,"
		" airtable_modified_at = EXCLUDED.airtable_modified_at,"
		" extraction_errors = EXCLUDED.extraction_errors, ingested_at = now()",
		9, p, NULL, e);
}

int raw_candidate_get(struct store *s, const char *record_id, struct raw_candidate *c,
		      int *found, serr *e)
{
	char what[RECORD_ID_MAX + 64];
	const char *p[1] = { record_id };
	PGresult *r = NULL;

	raw_candidate_free(c);
	*found = 0;
	if (record_id_check("raw_candidates", record_id, e) < 0)
		return -1;
	snprintf(what, sizeof(what), "read raw candidate '%s'", record_id);
	if (store_exec(s, what,
		       "SELECT record_id, fields::text, cv_text_airtable, cv_text_pdf,"
		       " cv_files::text, input_hash, " TS("airtable_created_at") ", "
		       TS("airtable_modified_at") ", extraction_errors::text, " TS("ingested_at")
		       " FROM raw_candidates WHERE record_id = $1",
		       1, p, &r, e) < 0)
		return -1;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return 0;
	}
	c->owner = r;
	c->record_id = store_val(r, 0, 0);
	c->fields_json = store_val(r, 0, 1);
	c->cv_text_airtable = store_val(r, 0, 2);
	c->cv_text_pdf = store_val(r, 0, 3);
	c->cv_files_json = store_val(r, 0, 4);
	c->input_hash = store_val(r, 0, 5);
	c->airtable_created_at = store_val(r, 0, 6);
	c->airtable_modified_at = store_val(r, 0, 7);
	c->extraction_errors_json = store_val(r, 0, 8);
	c->ingested_at = store_val(r, 0, 9);
	*found = 1;
	return 0;
}

static int input_hash_get(struct store *s, const char *table, const char *label,
			  const char *record_id, struct buf *hash, int *found, serr *e)
{
	char what[RECORD_ID_MAX + 64], sql[128];
	const char *p[1] = { record_id };
	PGresult *r = NULL;
	int rc = -1;

	*found = 0;
	buf_reset(hash);
	if (record_id_check(table, record_id, e) < 0)
		return -1;
	snprintf(what, sizeof(what), "read the input hash of %s '%s'", label, record_id);
	snprintf(sql, sizeof(sql), "SELECT input_hash FROM %s WHERE record_id = $1", table);
	if (store_exec(s, what, sql, 1, p, &r, e) < 0)
		goto out;
	if (PQntuples(r) == 1) {
		if (buf_puts(hash, PQgetvalue(r, 0, 0)) < 0) {
			serr_set(e, "cannot %s: hash too long", what);
			goto out;
		}
		*found = 1;
	}
	rc = 0;
out:
	PQclear(r);
	return rc;
}

int raw_candidate_input_hash(struct store *s, const char *record_id, struct buf *hash,
			     int *found, serr *e)
{
	return input_hash_get(s, "raw_candidates", "raw candidate", record_id, hash, found, e);
}

/* ---- raw_jobs ---- */

void raw_job_init(struct raw_job *j)
{
	memset(j, 0, sizeof(*j));
}

void raw_job_free(struct raw_job *j)
{
	PQclear(j->owner);
	raw_job_init(j);
}

int raw_job_upsert(struct store *s, const struct raw_job *j, serr *e)
{
	char what[RECORD_ID_MAX + 64];
	const char *p[9];
	const char *src = j->description_source;

	if (record_id_check("raw_jobs", j->record_id, e) < 0 ||
	    required("raw_jobs", j->record_id, "fields", j->fields_json, e) < 0 ||
	    required("raw_jobs", j->record_id, "input_hash", j->input_hash, e) < 0)
		return -1;
	if (src && strcmp(src, "notion") != 0 && strcmp(src, "text") != 0 &&
	    strcmp(src, "none") != 0)
		return serr_set(e, "raw job '%s' has description source '%s': use 'notion', 'text' "
				   "or 'none'",
				j->record_id, src);
	p[0] = j->record_id;
	p[1] = j->fields_json;
	p[2] = j->description_text;
	p[3] = src;
	p[4] = j->notion_page_id;
	p[5] = j->input_hash;
	p[6] = j->airtable_created_at;
	p[7] = j->airtable_modified_at;
	p[8] = j->extraction_errors_json ? j->extraction_errors_json : "[]";
	snprintf(what, sizeof(what), "upsert raw job '%s'", j->record_id);
	return store_exec(
		s, what,
		"INSERT INTO raw_jobs (record_id, fields, description_text, description_source,"
		" notion_page_id, input_hash, airtable_created_at, airtable_modified_at,"
		" extraction_errors)"
		" VALUES ($1, $2::jsonb, $3, $4, $5, $6, $7::timestamptz, $8::timestamptz, $9::jsonb)"
		" ON CONFLICT (record_id) DO UPDATE SET fields = EXCLUDED.fields,"
		" description_text = EXCLUDED.description_text,"
		" description_source = EXCLUDED.description_source,"
		" notion_page_id = EXCLUDED.notion_page_id, input_hash = EXCLUDED.input_hash,"
		" airtable_created_at = EXCLUDED.airtable_created_at,"
		" airtable_modified_at = EXCLUDED.airtable_modified_at,"
		" extraction_errors = EXCLUDED.extraction_errors, ingested_at = now()",
		9, p, NULL, e);
}

int raw_job_get(struct store *s, const char *record_id, struct raw_job *j, int *found,
		serr *e)
{
	char what[RECORD_ID_MAX + 64];
	const char *p[1] = { record_id };
	PGresult *r = NULL;

	raw_job_free(j);
	*found = 0;
	if (record_id_check("raw_jobs", record_id, e) < 0)
		return -1;
	snprintf(what, sizeof(what), "read raw job '%s'", record_id);
	if (store_exec(s, what,
		       "SELECT record_id, fields::text, description_text, description_source,"
		       " notion_page_id, input_hash, " TS("airtable_created_at") ", "
		       TS("airtable_modified_at") ", extraction_errors::text, " TS("ingested_at")
		       " FROM raw_jobs WHERE record_id = $1",
		       1, p, &r, e) < 0)
		return -1;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return 0;
	}
	j->owner = r;
	j->record_id = store_val(r, 0, 0);
	j->fields_json = store_val(r, 0, 1);
	j->description_text = store_val(r, 0, 2);
	j->description_source = store_val(r, 0, 3);
	j->notion_page_id = store_val(r, 0, 4);
	j->input_hash = store_val(r, 0, 5);
	j->airtable_created_at = store_val(r, 0, 6);
	j->airtable_modified_at = store_val(r, 0, 7);
	j->extraction_errors_json = store_val(r, 0, 8);
	j->ingested_at = store_val(r, 0, 9);
	*found = 1;
	return 0;
}

int raw_job_input_hash(struct store *s, const char *record_id, struct buf *hash, int *found,
		       serr *e)
{
	return input_hash_get(s, "raw_jobs", "raw job", record_id, hash, found, e);
}

/* ---- ats_rows ---- */

void ats_row_init(struct ats_row *a)
{
	memset(a, 0, sizeof(*a));
}

void ats_row_free(struct ats_row *a)
{
	PQclear(a->owner);
	for (int i = 0; i < ATS_STAGE_COUNT; i++)
		free(a->stage_mem[i]);
	ats_row_init(a);
}

/*
 * Parse a one-dimensional text[] as the server prints it ({a,"b c"}) into
 * one allocation: the pointer array, then the unescaped strings.
 */
static int text_array_parse(const char *lit, struct ats_ids *out, void **mem)
{
	size_t len = strlen(lit), cap = 1, bytes, strbytes, n = 0;
	const char *p = lit;
	const char **items;
	char *w;

	out->ids = NULL;
	out->n = 0;
	*mem = NULL;
	for (const char *q = lit; *q; q++)
		if (*q == ',')
			cap++;
	if (size_mul(cap, sizeof(char *), &bytes) < 0 || size_add(len, 1, &strbytes) < 0 ||
	    size_add(bytes, strbytes, &bytes) < 0)
		return -1;
	items = malloc(bytes);
	if (!items)
		return -1;
	w = (char *)(items + cap);
	if (*p++ != '{')
		goto bad;
	if (*p == '}')
		goto done;
	for (;;) {
		const char *start = w;

		if (*p == '"') {
			p++;
			while (*p && *p != '"') {
				if (*p == '\\' && p[1])
					p++;
				*w++ = *p++;
			}
			if (*p++ != '"')
				goto bad;
			*w++ = '\0';
			items[n++] = start;
		} else {
			const char *b = p;

			while (*p && *p != ',' && *p != '}')
				*w++ = *p++;
			*w++ = '\0';
			/* an unquoted NULL is an SQL NULL element: not a record id */
			if (!(p - b == 4 && strncmp(b, "NULL", 4) == 0))
				items[n++] = start;
		}
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == '}')
			break;
		goto bad;
	}
done:
	out->ids = items;
	out->n = n;
	*mem = items;
	return 0;
bad:
	free(items);
	return -1;
}

int ats_row_upsert(struct store *s, const struct ats_row *a, serr *e)
{
	char what[RECORD_ID_MAX + 64];
	struct buf arrays[ATS_STAGE_COUNT];
	const char *p[7 + ATS_STAGE_COUNT];
	int rc = -1;

	for (int i = 0; i < ATS_STAGE_COUNT; i++)
		buf_init(&arrays[i], 0);
	if (record_id_check("ats_rows", a->record_id, e) < 0 ||
	    required("ats_rows", a->record_id, "fields", a->fields_json, e) < 0)
		goto out;
	snprintf(what, sizeof(what), "upsert ATS row '%s'", a->record_id);
	for (int i = 0; i < ATS_STAGE_COUNT; i++) {
		for (size_t k = 0; k < a->stages[i].n; k++) {
			if (!a->stages[i].ids[k]) {
				serr_set(e, "cannot %s: stage '%s' holds a missing record id", what,
					 ats_stage_columns[i]);
				goto out;
			}
		}
		if (store_text_array(&arrays[i], a->stages[i].ids, a->stages[i].n) < 0) {
			serr_set(e, "cannot %s: stage '%s' is too large", what, ats_stage_columns[i]);
			goto out;
		}
		p[7 + i] = arrays[i].data;
	}
	p[0] = a->record_id;
	p[1] = a->job_record_id;
	p[2] = a->open_position;
	p[3] = a->job_status;
	p[4] = a->fields_json;
	p[5] = a->negotiations;
	p[6] = a->airtable_modified_at;
	if (store_exec(
		    s, what,
		    "INSERT INTO ats_rows (record_id, job_record_id, open_position, job_status, fields,"
		    " negotiations, airtable_modified_at, potential_fit, ai_rejection, shortlisted,"
		    " client_introduction, interview1, interview2, interview3, interview4, assignment,"
		    " hired, introduction_rejected, interview_rejected, assignment_rejected,"
		    " negotiations_rejection, talent_rejected_job, considered_on_hold)"
		    " VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7::timestamptz, $8::text[], $9::text[],"
		    " $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[],"
		    " $16::text[], $17::text[], $18::text[], $19::text[], $20::text[], $21::text[],"
		    " $22::text[], $23::text[])"
		    " ON CONFLICT (record_id) DO UPDATE SET job_record_id = EXCLUDED.job_record_id,"
		    " open_position = EXCLUDED.open_position, job_status = EXCLUDED.job_status,"
		    " fields = EXCLUDED.fields, negotiations = EXCLUDED.negotiations,"
		    " airtable_modified_at = EXCLUDED.airtable_modified_at,"
		    " potential_fit = EXCLUDED.potential_fit, ai_rejection = EXCLUDED.ai_rejection,"
		    " shortlisted = EXCLUDED.shortlisted,"
		    " client_introduction = EXCLUDED.client_introduction,"
		    " interview1 = EXCLUDED.interview1, interview2 = EXCLUDED.interview2,"
		    " interview3 = EXCLUDED.interview3, interview4 = EXCLUDED.interview4,"
		    " assignment = EXCLUDED.assignment, hired = EXCLUDED.hired,"
		    " introduction_rejected = EXCLUDED.introduction_rejected,"
		    " interview_rejected = EXCLUDED.interview_rejected,"
		    " assignment_rejected = EXCLUDED.assignment_rejected,"
		    " negotiations_rejection = EXCLUDED.negotiations_rejection,"
		    " talent_rejected_job = EXCLUDED.talent_rejected_job,"
		    " considered_on_hold = EXCLUDED.considered_on_hold, ingested_at = now()",
		    7 + ATS_STAGE_COUNT, p, NULL, e) < 0)
		goto out;
	rc = 0;
out:
	for (int i = 0; i < ATS_STAGE_COUNT; i++)
		buf_free(&arrays[i]);
	return rc;
}

int ats_row_get(struct store *s, const char *record_id, struct ats_row *a, int *found,
		serr *e)
{
	char what[RECORD_ID_MAX + 64];
	const char *p[1] = { record_id };
	PGresult *r = NULL;
	int rc = -1;

	ats_row_free(a);
	*found = 0;
	if (record_id_check("ats_rows", record_id, e) < 0)
		return -1;
	snprintf(what, sizeof(what), "read ATS row '%s'", record_id);
	if (store_exec(s, what,
		       "SELECT record_id, job_record_id, open_position, job_status, fields::text,"
		       " negotiations, " TS("airtable_modified_at") ", " TS("ingested_at") ","
		       " potential_fit, ai_rejection, shortlisted, client_introduction, interview1,"
		       " interview2, interview3, interview4, assignment, hired, introduction_rejected,"
		       " interview_rejected, assignment_rejected, negotiations_rejection,"
		       " talent_rejected_job, considered_on_hold"
		       " FROM ats_rows WHERE record_id = $1",
		       1, p, &r, e) < 0)
		goto out;
	if (PQntuples(r) == 0) {
		rc = 0;
		goto out;
	}
	a->owner = r;
	a->record_id = store_val(r, 0, 0);
	a->job_record_id = store_val(r, 0, 1);
	a->open_position = store_val(r, 0, 2);
	a->job_status = store_val(r, 0, 3);
	a->fields_json = store_val(r, 0, 4);
	a->negotiations = store_val(r, 0, 5);
	a->airtable_modified_at = store_val(r, 0, 6);
	a->ingested_at = store_val(r, 0, 7);
	r = NULL;
	for (int i = 0; i < ATS_STAGE_COUNT; i++) {
		if (text_array_parse(PQgetvalue(a->owner, 0, 8 + i), &a->stages[i],
				     &a->stage_mem[i]) < 0) {
			serr_set(e, "cannot %s: stage '%s' does not parse as a text array", what,
				 ats_stage_columns[i]);
			ats_row_free(a);
			goto out;
		}
	}
	*found = 1;
	rc = 0;
out:
	PQclear(r);
	return rc;
}

int raw_counts_get(struct store *s, struct raw_counts *out, serr *e)
{
	PGresult *r = NULL;
	int64_t *slots[] = { &out->candidates, &out->candidates_with_pdf_text,
			     &out->candidates_with_errors, &out->jobs, &out->jobs_notion,
			     &out->jobs_text, &out->jobs_without_description, &out->ats_rows,
			     &out->ats_rows_linked };
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (store_exec(s, "count the raw tables",
		       "SELECT (SELECT count(*) FROM raw_candidates),"
		       " (SELECT count(*) FROM raw_candidates WHERE coalesce(cv_text_pdf, '') <> ''),"
		       " (SELECT count(*) FROM raw_candidates WHERE extraction_errors <> '[]'),"
		       " (SELECT count(*) FROM raw_jobs),"
		       " (SELECT count(*) FROM raw_jobs WHERE description_source = 'notion'),"
		       " (SELECT count(*) FROM raw_jobs WHERE description_source = 'text'),"
		       " (SELECT count(*) FROM raw_jobs"
		       "  WHERE coalesce(description_source, 'none') = 'none'),"
		       " (SELECT count(*) FROM ats_rows),"
		       " (SELECT count(*) FROM ats_rows WHERE job_record_id IS NOT NULL)",
		       0, NULL, &r, e) < 0)
		goto out;
	for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++) {
		if (parse_i64(PQgetvalue(r, 0, (int)i), 0, INT64_MAX, slots[i]) < 0) {
			serr_set(e, "cannot count the raw tables: bad count '%s'",
				 PQgetvalue(r, 0, (int)i));
			goto out;
		}
	}
	rc = 0;
out:
	PQclear(r);
	return rc;
}
