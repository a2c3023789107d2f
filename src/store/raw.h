/*
 * Raw copies of the Airtable tables: Talent (raw_candidates), Customers STT
 * (raw_jobs) and ATS (ats_rows). Ingestion upserts a record from these
 * structs; the input hash lets it skip a record that did not change.
 *
 * The structs hold borrowed strings: the caller points them at its own data
 * before an upsert; a *_get fills them from a query result the struct owns
 * until *_free. JSON columns are passed and returned as JSON text.
 * Timestamps are ISO-8601 text ("2026-01-02T03:04:05.000Z"); NULL = unknown.
 */
#ifndef SCOUT_STORE_RAW_H
#define SCOUT_STORE_RAW_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "store/store.h"

struct raw_candidate {
	const char *record_id;
	const char *fields_json;	     /* every Airtable field, a JSON object */
	const char *cv_text_airtable;	     /* CV text from the Airtable text fields */
	const char *cv_text_pdf;	     /* text extracted from the CV attachments */
	const char *cv_files_json;	     /* [{filename, size, sha256, status}] or NULL */
	const char *input_hash;
	const char *airtable_created_at;
	const char *airtable_modified_at;
	const char *extraction_errors_json; /* JSON array; NULL stores [] */
	const char *ingested_at;	     /* set by the store; filled by get */
	void *owner;			     /* result backing the strings after get */
};

struct raw_job {
	const char *record_id;
	const char *fields_json;
	const char *description_text;
	const char *description_source; /* "notion", "text", "none" or NULL */
	const char *notion_page_id;
	const char *input_hash;
	const char *airtable_created_at;
	const char *airtable_modified_at;
	const char *extraction_errors_json;
	const char *ingested_at;
	void *owner;
};

/* The stage columns of ats_rows, in table order. */
enum ats_stage {
	ATS_POTENTIAL_FIT = 0,
	ATS_AI_REJECTION,
	ATS_SHORTLISTED,
	ATS_CLIENT_INTRODUCTION,
	ATS_INTERVIEW1,
	ATS_INTERVIEW2,
	ATS_INTERVIEW3,
	ATS_INTERVIEW4,
	ATS_ASSIGNMENT,
	ATS_HIRED,
	ATS_INTRODUCTION_REJECTED,
	ATS_INTERVIEW_REJECTED,
	ATS_ASSIGNMENT_REJECTED,
	ATS_NEGOTIATIONS_REJECTION,
	ATS_TALENT_REJECTED_JOB,
	ATS_CONSIDERED_ON_HOLD,
	ATS_STAGE_COUNT
};

/* Column name of each stage ("potential_fit", ...). */
extern const char *const ats_stage_columns[ATS_STAGE_COUNT];

/* Talent record ids linked in one stage. */
struct ats_ids {
	const char *const *ids;
	size_t n;
};

struct ats_row {
	const char *record_id;
	const char *job_record_id; /* the linked job; NULL when unlinked */
	const char *open_position;
	const char *job_status;
	const char *fields_json;
	struct ats_ids stages[ATS_STAGE_COUNT];
	const char *negotiations;
	const char *airtable_modified_at;
	const char *ingested_at;
	void *owner;
	void *stage_mem[ATS_STAGE_COUNT];
};

/* Summary counts of the raw tables. */
struct raw_counts {
	int64_t candidates;
	int64_t candidates_with_pdf_text;
	int64_t candidates_with_errors;
	int64_t jobs;
	int64_t jobs_notion;
	int64_t jobs_text;
	int64_t jobs_without_description;
	int64_t ats_rows;
	int64_t ats_rows_linked;
};

void raw_candidate_init(struct raw_candidate *c);
void raw_candidate_free(struct raw_candidate *c);
int raw_candidate_upsert(struct store *s, const struct raw_candidate *c, serr *e) SCOUT_MUST;
/* *found = 0 (and c left empty) when there is no such record. */
int raw_candidate_get(struct store *s, const char *record_id, struct raw_candidate *c,
		      int *found, serr *e) SCOUT_MUST;
/* The stored input hash, to skip unchanged records; *found = 0 when new. */
int raw_candidate_input_hash(struct store *s, const char *record_id, struct buf *hash,
			     int *found, serr *e) SCOUT_MUST;

void raw_job_init(struct raw_job *j);
void raw_job_free(struct raw_job *j);
int raw_job_upsert(struct store *s, const struct raw_job *j, serr *e) SCOUT_MUST;
int raw_job_get(struct store *s, const char *record_id, struct raw_job *j, int *found,
		serr *e) SCOUT_MUST;
int raw_job_input_hash(struct store *s, const char *record_id, struct buf *hash, int *found,
		       serr *e) SCOUT_MUST;

void ats_row_init(struct ats_row *a);
void ats_row_free(struct ats_row *a);
int ats_row_upsert(struct store *s, const struct ats_row *a, serr *e) SCOUT_MUST;
int ats_row_get(struct store *s, const char *record_id, struct ats_row *a, int *found,
		serr *e) SCOUT_MUST;

int raw_counts_get(struct store *s, struct raw_counts *out, serr *e) SCOUT_MUST;

#endif
