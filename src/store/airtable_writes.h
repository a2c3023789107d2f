/*
 * What scout last wrote to each (N) cell of Airtable (migration 0006), for
 * the rule that protects recruiters' edits: when a cell's current value
 * differs from the value scout last wrote there, a person edited it, and
 * scout keeps the person's value instead of overwriting it.
 *
 * Single cells are stored as text, as given. The record-level calls store
 * each cell as JSON text (a string keeps its quotes, a number does not),
 * so values read back with their types; SQL NULL means scout wrote an
 * empty cell (JSON null).
 */
#ifndef SCOUT_STORE_AIRTABLE_WRITES_H
#define SCOUT_STORE_AIRTABLE_WRITES_H

#include <jansson.h>

#include "core/buf.h"
#include "store/store.h"

/* *found = 0 when scout never wrote the cell; *is_null = 1 when it wrote an empty value. */
int airtable_write_get(struct store *s, const char *table, const char *record_id,
		       const char *field, struct buf *value, int *found, int *is_null,
		       serr *e) SCOUT_MUST;
/* value NULL: scout cleared the cell. */
int airtable_write_set(struct store *s, const char *table, const char *record_id,
		       const char *field, const char *value, serr *e) SCOUT_MUST;

/*
 * Every cell scout wrote on the record, as a new JSON object field -> value
 * (empty object when none).
 */
int airtable_writes_get_record(struct store *s, const char *table, const char *record_id,
			       json_t **out, serr *e) SCOUT_MUST;
/* Remember the cells of fields (an object field -> any JSON value) in one statement. */
int airtable_writes_set_record(struct store *s, const char *table, const char *record_id,
			       const json_t *fields, serr *e) SCOUT_MUST;

/*
 * 1 when two cell values are the same for the human-edit rule: numbers
 * compare by value (12 and 12.0 are the same), strings exactly, arrays and
 * objects member by member, and null equals a missing value (NULL).
 */
int airtable_value_same(const json_t *a, const json_t *b);

#endif
