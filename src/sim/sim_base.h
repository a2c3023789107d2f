/*
 * The simulator's Airtable data model: a base holds tables, a table holds
 * its field schema and its records in creation order, a record holds its
 * values in a normalized form (empty values never stored) plus the last
 * modification time of each field. This file also declares the writes
 * (validation, typecast, linked-record upkeep on both sides) and the
 * rendering of records as the API returns them. Callers hold the sim lock.
 */
#ifndef SCOUT_SIM_SIM_BASE_H
#define SCOUT_SIM_SIM_BASE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/err.h"

#define SIM_ID_MAX 32		/* ids are 17 characters; loaded ids may be up to 31 */
#define SIM_MAX_TEXT 100000	/* characters of a long text value (Airtable's limit) */
#define SIM_MAX_BATCH 10	/* records per write request */
#define SIM_MAX_RECORDS 200000 /* records per table */

/* An Airtable-style error: HTTP status, error type and message. */
struct sim_aterr {
	int status;
	char type[64];
	char msg[768];
};

int sim_aterr_set(struct sim_aterr *ae, int status, const char *type, const char *fmt, ...)
	SCOUT_PRINTF(4, 5);

enum sim_ftype {
	SIM_F_TEXT = 1, /* singleLineText, multilineText, richText, email, url, phoneNumber */
	SIM_F_NUMBER,	/* number, currency, percent, duration */
	SIM_F_RATING,
	SIM_F_CHECKBOX,
	SIM_F_SELECT,
	SIM_F_MULTISELECT,
	SIM_F_DATE,
	SIM_F_DATETIME,
	SIM_F_ATTACHMENTS,
	SIM_F_LINKS,
	SIM_F_CREATED_TIME,	/* computed from the record */
	SIM_F_MODIFIED_TIME,	/* computed from the record */
	SIM_F_COMPUTED,		/* formula, rollup, lookup, count, autoNumber...: values as loaded */
};

struct sim_field {
	char id[SIM_ID_MAX];
	char *name;
	char *type;		/* the Meta API type name */
	enum sim_ftype kind;
	json_t *choices;	/* selects: [{"id","name","color"}] */
	int rating_max;
	int precision;
	char link_table[SIM_ID_MAX]; /* links: the linked table id */
	char *inverse;		/* links: the field of the linked table holding the way back, or NULL */
};

struct sim_record {
	char id[SIM_ID_MAX];
	int64_t created_ms;
	json_t *fields; /* field name -> normalized value; empty values absent */
	json_t *mtimes; /* field name -> epoch ms of the last change */
};

struct sim_table {
	char id[SIM_ID_MAX];
	char *name;
	struct sim_field *fields;
	size_t nfields;
	struct sim_record **recs;
	size_t nrecs, caprecs;
	json_t *views;		/* ["Grid view", ...] */
	json_t *field_types;	/* field name -> type string, for formulas */
};

/* Attachment bytes, shared by every copy of an attachment. */
struct sim_blob {
	unsigned char *data;
	size_t len;
	int refs;
};

struct sim_att {
	char id[SIM_ID_MAX];
	char *filename;
	char *type;
	struct sim_blob *blob; /* NULL for an attachment given by an outside URL */
	char *ext_url;
	size_t size;
};

struct sim_base {
	char id[SIM_ID_MAX];
	char *name;
	struct sim_table *tables;
	size_t ntables;
	struct sim_att **atts;
	size_t natts, capatts;
};

/* How attachment URLs are minted when rendering. */
struct sim_signer {
	const char *root;	/* "http://127.0.0.1:PORT" */
	const char *secret;
	int64_t expires_ms;	/* epoch ms the URLs stop working */
};

/* Render options for records. */
struct sim_render {
	const json_t *only;	/* array of field names/ids to include, or NULL for all */
	int by_field_id;
	int as_strings;		/* cellFormat=string */
	int comment_count;	/* recordMetadata=commentCount */
	const struct sim_signer *signer;
};

/* A freshly made id: prefix ("rec", "att", "fld", ...) + 14 base-62 characters. */
void sim_new_id(char out[SIM_ID_MAX], const char *prefix);
/* Whether s looks like an Airtable id with this prefix (prefix + 14 alphanumerics). */
int sim_is_id(const char *s, const char *prefix);
/* A deterministic id made from a seed string (stable field ids across loads). */
void sim_hash_id(char out[SIM_ID_MAX], const char *prefix, const char *seed);

/* Parse a docs/simulator.md base; NULL with a message naming the culprit. */
struct sim_base *sim_base_load(const json_t *j, serr *e);
void sim_base_free(struct sim_base *b);

struct sim_table *sim_base_table(struct sim_base *b, const char *id_or_name);
struct sim_field *sim_table_field(struct sim_table *t, const char *name_or_id);
struct sim_record *sim_table_record(struct sim_table *t, const char *id, size_t *index);
struct sim_att *sim_base_att(struct sim_base *b, const char *id);

/* Latest change of one field, or of any field when name is NULL; -1 for an unknown field. */
int64_t sim_record_modified(const struct sim_table *t, const struct sim_record *r,
			    const char *name);

/* The record as the API returns it: {"id","createdTime","fields":{...}}. */
json_t *sim_record_json(struct sim_base *b, struct sim_table *t, struct sim_record *r,
			const struct sim_render *o);
/* One field value as the API returns it (new reference), NULL when empty. */
json_t *sim_value_json(struct sim_base *b, struct sim_table *t, struct sim_field *f,
		       struct sim_record *r, const struct sim_render *o);
/* The table schema as the Meta API returns it. */
json_t *sim_table_meta(struct sim_base *b, struct sim_table *t);
/* The whole base in the load format, records as the API returns them. */
json_t *sim_base_dump(struct sim_base *b, const struct sim_signer *sg);

/* One record of a write request. */
struct sim_wrec {
	const char *id;		/* NULL for a create (or an upsert that may create) */
	const json_t *fields;
};

enum sim_wmode { SIM_W_CREATE, SIM_W_PATCH, SIM_W_PUT };

struct sim_wresult {
	json_t *ids;		/* ids of the written records, in request order */
	json_t *created;	/* upsert: ids created */
	json_t *updated;	/* upsert: ids updated */
};

/*
 * Validate every record first, then apply them all (a request either
 * succeeds entirely or changes nothing). merge_on: field names for
 * performUpsert, or NULL. now: epoch ms stamped on changed fields.
 */
int sim_table_write(struct sim_base *b, struct sim_table *t, enum sim_wmode mode,
		    const struct sim_wrec *recs, size_t n, int typecast, const json_t *merge_on,
		    int64_t now, struct sim_wresult *res, struct sim_aterr *ae) SCOUT_MUST;
void sim_wresult_init(struct sim_wresult *r);
void sim_wresult_free(struct sim_wresult *r);

/* Delete records by id (all must exist, else nothing is deleted). */
int sim_table_delete(struct sim_base *b, struct sim_table *t, const char *const *ids, size_t n,
		     int64_t now, struct sim_aterr *ae) SCOUT_MUST;

/* Bring every inverse link in line with its forward side (after a load). */
int sim_base_link_all(struct sim_base *b, int64_t now, serr *e) SCOUT_MUST;

#define SIM_NORM_TYPECAST 1 /* convert values as the API's typecast option does */
#define SIM_NORM_LOAD 2	    /* a base load: linked ids are checked later, ids may be given */

/*
 * Normalize one value for a field (NULL *out = empty); used by loads and
 * writes. New select choices are not created here (see sim_field_add_choices).
 */
int sim_field_normalize(struct sim_base *b, struct sim_table *t, struct sim_field *f,
			const json_t *v, int flags, json_t **out, struct sim_aterr *ae)
	SCOUT_MUST;
/* Add the choices a typecast value needs to a select field. */
int sim_field_add_choices(struct sim_field *f, const json_t *value) SCOUT_MUST;

/* The signature of an attachment URL (32 hex characters). */
void sim_att_sig(const char *secret, const struct sim_att *a, const char *expires, char out[65]);

/* Shared between the model files. */
struct sim_att *sim_att_new(struct sim_base *b, const char *filename, const char *type,
			    struct sim_blob *blob, const char *ext_url, size_t size);
int sim_att_from_load(struct sim_base *b, const json_t *j, json_t **out, struct sim_aterr *ae)
	SCOUT_MUST;
void sim_att_free(struct sim_att *a);
void sim_record_free(struct sim_record *r);
int sim_table_add_record(struct sim_table *t, struct sim_record *r) SCOUT_MUST;
/* Whether a double holds an integer that JSON integers represent exactly. */
int sim_is_integral(double d);

/* The value of the primary field as text (for links in formulas and sorting). */
void sim_record_primary(struct sim_table *t, struct sim_record *r, char *out, size_t outsz);

#endif
