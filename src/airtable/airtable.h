/*
 * Airtable Web API client: record listing with paging (GET, or POST
 * listRecords when the URL would be too long), single-record reads, writes
 * in batches of 10, the Meta API, and a check of the configured field
 * mapping. Every request is paced per base across all scout processes
 * (core/pacer.h), 429s cost a hold, 5xx/timeouts are retried with backoff,
 * and other errors name the table, record and config key involved.
 *
 * A struct airtable owns one HTTP connection: use one per thread.
 */
#ifndef SCOUT_AIRTABLE_AIRTABLE_H
#define SCOUT_AIRTABLE_AIRTABLE_H

#include <stddef.h>

#include <jansson.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/http.h"
#include "core/pacer.h"

#define AIRTABLE_BATCH 10	      /* records per write request (Airtable's limit) */
#define AIRTABLE_PAGE_MAX 100	      /* records per list page (Airtable's limit) */
#define AIRTABLE_URL_MAX 15000	      /* longer GET URLs go through POST listRecords */
#define AIRTABLE_MAX_RESTARTS 3	      /* listing restarts after an expired offset */
#define AIRTABLE_MAX_MERGE_FIELDS 3   /* fieldsToMergeOn takes 1 to 3 fields */
#define AIRTABLE_BACKOFF_CAP_MS 60000 /* longest single backoff sleep */

struct airtable_stats {
	long requests;	       /* HTTP requests sent, retries included */
	long retries;	       /* requests sent again after a 429, 5xx or transport error */
	long rate_limited;     /* 429 answers */
	long server_errors;    /* 5xx answers */
	long transport_errors; /* timeouts and connection errors */
	long restarts;	       /* listings restarted after LIST_RECORDS_ITERATOR_NOT_AVAILABLE */
};

struct airtable {
	const struct config *cfg; /* table ids, field names, api url/key, base id, rate, retries */
	struct http_client http;
	struct pacer pacer; /* key "airtable-<baseId>", shared through cfg->home */
	struct airtable_stats stats;
	char *root;		  /* "<api url>/v0", no trailing slash */
	long penalty_ms;	  /* least pause after a 429; cfg->airtable_penalty_s */
	long backoff_ms;	  /* first retry delay; cfg->airtable_backoff_ms */
	int max_retries;	  /* cfg->airtable_retries */
	long timeout_ms;	  /* one request; cfg->airtable_timeout_ms */
	char last_error_type[64]; /* Airtable error type of the last failed call, "" if none */
	long last_status;	  /* HTTP status of the last answer, 0 after a transport error */
};

/* Fails clearly when the api key or the base id is missing. */
int airtable_init(struct airtable *at, const struct config *cfg, serr *e) SCOUT_MUST;
void airtable_free(struct airtable *at);

struct airtable_query {
	const char *formula;	   /* filterByFormula, built with airtable/formula.h, or NULL */
	const char *const *fields; /* NULL-terminated field names, or NULL = all fields */
	const char *sort_field;	   /* NULL = Airtable's order */
	int sort_desc;
	const char *view; /* NULL = none */
	int page_size;	  /* 0 = 100 */
	long max_records; /* 0 = all */
};

/*
 * Called once per record, in order; the record ({"id","createdTime","fields"})
 * is borrowed for the duration of the call. A non-zero return stops the
 * listing, and airtable_list returns -1 with the callback's message in e.
 */
typedef int (*airtable_record_fn)(void *ud, const json_t *record, serr *e);

/*
 * Every record of table matching q (q may be NULL), page by page. A listing
 * whose offset expires is restarted from the beginning and records already
 * delivered (by id) are skipped, so each record is delivered exactly once.
 */
int airtable_list(struct airtable *at, const char *table, const struct airtable_query *q,
		  airtable_record_fn fn, void *ud, serr *e) SCOUT_MUST;

/* One record; *out is a new reference. */
int airtable_get(struct airtable *at, const char *table, const char *record_id, json_t **out,
		 serr *e) SCOUT_MUST;

/*
 * Writes. records is a JSON array; the calls send batches of at most 10.
 * out (may be NULL) receives a new array of the records Airtable returned,
 * in order. On failure *out still holds the records written by the batches
 * that succeeded (the caller frees it either way), and the message says how
 * many were written.
 *
 * create: elements {"fields":{...}}. A create is never re-sent after a
 * failure where Airtable may have applied it (timeout, 5xx); see
 * docs/airtable.md.
 */
int airtable_create(struct airtable *at, const char *table, const json_t *records, int typecast,
		    json_t **out, serr *e) SCOUT_MUST;
/* update: elements {"id":"rec...","fields":{...}}; PATCH semantics (other fields kept). */
int airtable_update(struct airtable *at, const char *table, const json_t *records, int typecast,
		    json_t **out, serr *e) SCOUT_MUST;
/*
 * upsert: elements {"fields":{...}} carrying every merge_on field (1 to 3
 * names, NULL-terminated): a record whose merge fields match an existing one
 * updates it, otherwise it is created (an element with an "id" updates that
 * record). Safe to retry.
 */
int airtable_upsert(struct airtable *at, const char *table, const json_t *records,
		    const char *const *merge_on, int typecast, json_t **out, serr *e) SCOUT_MUST;
int airtable_delete(struct airtable *at, const char *table, const char *const *ids, size_t n,
		    serr *e) SCOUT_MUST;

/* The Meta API: {"tables":[{"id","name","fields":[{"id","name","type"}...]}...]}. */
int airtable_tables(struct airtable *at, json_t **out, serr *e) SCOUT_MUST;

/*
 * Check that the three configured tables exist and carry every configured
 * field name (config keys field.talent.*, field.jobs.*, field.ats.*); the
 * message names each missing field, its config key and its table.
 */
int airtable_check_mapping(struct airtable *at, serr *e) SCOUT_MUST;

/* The config key (e.g. "field.talent.cv") whose value is this field name of this table, or NULL. */
const char *airtable_field_key(const struct config *cfg, const char *table, const char *field);

/*
 * URL of one GET list page (exposed for tests). When it would pass
 * AIRTABLE_URL_MAX characters the listing uses airtable_list_body instead.
 */
int airtable_list_url(const struct airtable *at, const char *table, const struct airtable_query *q,
		      const char *offset, struct buf *url, serr *e) SCOUT_MUST;
/* JSON body of one POST listRecords page, or NULL on a bad query (e filled). */
json_t *airtable_list_body(const struct airtable_query *q, const char *offset, serr *e);

/*
 * Reading values the way Airtable sends them: empty values are left out of
 * "fields", so an absent key reads as empty, false or zero.
 */
/* The string value, or "" when absent or not a string. */
const char *airtable_str(const json_t *fields, const char *name);
/* 1 for a checked checkbox (true), 0 otherwise. */
int airtable_bool(const json_t *fields, const char *name);
/* 0 and *out set when the value is a number; -1 and *out = 0 when absent or not a number. */
int airtable_number(const json_t *fields, const char *name, double *out);
/*
 * Arrays of strings: linked record ids, multiple selects, text lookups.
 * Length 0 when absent or not an array; at() gives "" for a non-string entry.
 */
size_t airtable_strings_len(const json_t *fields, const char *name);
const char *airtable_strings_at(const json_t *fields, const char *name, size_t i);
/* 1 when the array holds exactly this string (e.g. a linked record id). */
int airtable_strings_has(const json_t *fields, const char *name, const char *value);

struct airtable_attachment {
	const char *id; /* "" when absent; all borrowed from the record */
	const char *url;
	const char *filename;
	const char *type;
	double size; /* bytes, 0 when absent */
};
/* Number of attachments in an attachment field (0 when absent). */
size_t airtable_attachments_len(const json_t *fields, const char *name);
/* 0 and *out filled for attachment i; -1 when out of range or not an attachment object. */
int airtable_attachment_at(const json_t *fields, const char *name, size_t i,
			   struct airtable_attachment *out);

#endif
