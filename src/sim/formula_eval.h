/*
 * The Airtable formula language as the simulator needs it: a parser for
 * filterByFormula (tokenizer + precedence climbing, with limits on length,
 * nesting and argument counts) and an evaluator that follows Airtable's
 * value model (blank vs "" vs 0, arrays joined with ", ", dates compared as
 * datetimes). Anything outside the supported subset is a parse error, which
 * the simulator reports as 422 INVALID_FILTER_BY_FORMULA.
 */
#ifndef SCOUT_SIM_FORMULA_EVAL_H
#define SCOUT_SIM_FORMULA_EVAL_H

#include <stdint.h>

#include <jansson.h>

#include "core/err.h"

/* Limits that keep untrusted formulas from exhausting stack, time or memory. */
#define FORMULA_MAX_LEN (64 * 1024)        /* bytes of formula text */
#define FORMULA_MAX_DEPTH 64               /* nesting of parentheses, calls and unary minus */
#define FORMULA_MAX_HEIGHT 512             /* height of the parsed tree (long operator chains) */
#define FORMULA_MAX_ARGS 1024              /* arguments of one function call */
#define FORMULA_MAX_NODES 16384            /* nodes of one parsed formula */
#define FORMULA_MAX_STRING (1024 * 1024)   /* bytes of any intermediate string */
#define FORMULA_MAX_EVAL_MEM (32 * 1024 * 1024) /* bytes one evaluation may allocate */

/*
 * What a formula can see of one record. Field values are used as given:
 * linked records are whatever the array holds (record ids in the API shape;
 * a caller may substitute the linked records' primary values), attachments
 * read as "filename (url)". A missing key is a blank field.
 */
struct formula_record {
	const char *id;               /* RECORD_ID() */
	int64_t created_ms;           /* CREATED_TIME() */
	const json_t *fields;         /* field name -> value, Airtable API shape */
	const json_t *field_types;    /* field name -> type string ("number", "checkbox", ...) */
	/*
	 * Last modification of one field (epoch ms), -1 when unknown or never
	 * modified; field NULL asks for the record's last modification. May be
	 * NULL: then every modification time is created_ms.
	 */
	int64_t (*field_modified_ms)(const void *ud, const char *field);
	const void *ud;
	int64_t now_ms;               /* NOW()/TODAY() */
};

struct formula; /* a parsed formula */

/*
 * Parse text against the table's field types (field name -> type string).
 * NULL with a message on a syntax error, an unknown function or an unknown
 * field (the message names it). field_types NULL accepts any field name.
 */
struct formula *formula_parse(const char *text, const json_t *field_types, serr *e);

/*
 * Evaluate for filterByFormula: *out is 1 when the record matches. A formula
 * that evaluates to an error value (#ERROR!, e.g. an unparseable date) does
 * not match, as in Airtable; -1 only when a limit is hit or memory runs out.
 */
int formula_eval_bool(const struct formula *f, const struct formula_record *r, int *out,
		      serr *e) SCOUT_MUST;

/*
 * Evaluate to a JSON value: string, number, true/false, null for blank,
 * array, a date as an ISO-8601 string, {"error": "#ERROR!"} for an error.
 */
int formula_eval_json(const struct formula *f, const struct formula_record *r, json_t **out,
		      serr *e) SCOUT_MUST;

void formula_free(struct formula *f);

#endif
