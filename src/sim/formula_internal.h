/*
 * Shared inside the formula evaluator only (formula_eval.c, formula_funcs.c,
 * formula_date.c): the runtime value model, the per-evaluation arena, the
 * function table and the date arithmetic. Other modules use formula_eval.h.
 */
#ifndef SCOUT_SIM_FORMULA_INTERNAL_H
#define SCOUT_SIM_FORMULA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "sim/formula_eval.h"

/* Airtable's value kinds. A blank field is FV_BLANK, never an empty string. */
enum fv_type { FV_BLANK, FV_NUM, FV_BOOL, FV_STR, FV_DATE, FV_ARR, FV_ERR };

struct fval {
	enum fv_type t;
	int date_only;          /* FV_DATE: a date without a time of day */
	double n;               /* FV_NUM; FV_BOOL as 0/1 */
	int64_t ms;             /* FV_DATE: epoch milliseconds, UTC */
	const char *s;          /* FV_STR (NUL-terminated, may hold NULs), FV_ERR code */
	size_t len;             /* FV_STR */
	const struct fval *items; /* FV_ARR, never empty (an empty array is blank) */
	size_t nitems;
};

struct farena_chunk;

/* One evaluation: the record, an arena freed at the end, the error sink. */
struct fctx {
	const struct formula_record *r;
	struct farena_chunk *chunks;
	size_t used;            /* bytes allocated so far, capped by FORMULA_MAX_EVAL_MEM */
	serr *e;
};

/* Arena allocation; NULL with the error set when the cap is hit or on OOM. */
void *fctx_alloc(struct fctx *c, size_t n);
/* Free everything the evaluation allocated. */
void fctx_release(struct fctx *c);
/* A NUL-terminated copy of p[0..n) in the arena, capped by FORMULA_MAX_STRING. */
char *fctx_strdup(struct fctx *c, const char *p, size_t n);

/* Value constructors. */
void fv_blank(struct fval *v);
void fv_num(struct fval *v, double n); /* NaN and infinities become #ERROR! */
void fv_bool(struct fval *v, int b);
void fv_err(struct fval *v, const char *code);
void fv_date(struct fval *v, int64_t ms, int date_only);
int fv_str(struct fctx *c, struct fval *v, const char *p, size_t n) SCOUT_MUST;

/* Coercions following Airtable's value model. */
int fv_truthy(const struct fval *v);
int fv_is_empty(const struct fval *v); /* blank, "" */
int fv_to_str(struct fctx *c, const struct fval *v, const char **s, size_t *len) SCOUT_MUST;
/* 0 and *out set; 1 when the value is not a number (a caller's #ERROR!). Blank is 0. */
int fv_to_num(const struct fval *v, double *out);
/* 0 and *ms set; 1 when blank; 2 when the value is not a date. */
int fv_to_date(const struct fval *v, int64_t *ms, int *date_only);
/* Compare as Airtable's comparison operators do; *cmp is <0, 0, >0. */
int fv_compare(struct fctx *c, const struct fval *a, const struct fval *b, int *cmp) SCOUT_MUST;
/* Arrays as their items joined with ", " (how comparisons and text see them). */
int fv_flatten(struct fctx *c, const struct fval *v, struct fval *out) SCOUT_MUST;

/* A cell's API JSON as a formula value; type is the field's type or NULL. */
int fv_from_json(struct fctx *c, const json_t *j, const char *type, struct fval *out) SCOUT_MUST;
/* The value as JSON (see formula_eval_json); NULL on OOM or invalid UTF-8. */
json_t *fv_to_json(const struct fval *v);

/* Function table. */
enum ffunc_flags {
	FF_KEEP_ERRORS = 1,  /* the function looks at error arguments itself */
	FF_FIELDS_ONLY = 2,  /* every argument must be a field reference */
};

typedef int (*ffunc_impl)(struct fctx *c, const struct fval *args, size_t n, struct fval *out);

struct ffunc {
	const char *name;
	int min_args;
	int max_args;        /* -1: up to FORMULA_MAX_ARGS */
	int flags;
	ffunc_impl impl;     /* NULL for LAST_MODIFIED_TIME, done by the evaluator */
};

/* The function named name[0..n), case-insensitively; NULL when unknown. */
const struct ffunc *ffunc_find(const char *name, size_t n);

/* Date units as moment.js (which Airtable follows) names them. */
enum fdate_unit {
	FU_MS, FU_SECOND, FU_MINUTE, FU_HOUR, FU_DAY, FU_WEEK, FU_MONTH, FU_QUARTER, FU_YEAR
};

/* Unit from 'days', 'day', 'd', 'M' (month), 'm' (minute), ...; -1 when unknown. */
int fdate_unit_parse(const char *s, size_t n);
/* ISO-8601 date or datetime (zone optional, UTC when absent), or M/D/YYYY. */
int fdate_parse(const char *s, size_t n, int64_t *ms, int *date_only);
/* Parse with a moment-style format (YYYY MM DD HH mm ss SSS, X, x, ...). */
int fdate_parse_format(const char *s, size_t n, const char *fmt, size_t fn, int64_t *ms);
/* "2026-01-02T03:04:05.000Z", or "2026-01-02" for a date only. */
void fdate_format(int64_t ms, int date_only, char out[40]);
/* Add count units; 0, or -1 when the result leaves the representable range. */
int fdate_add(int64_t ms, double count, enum fdate_unit u, int64_t *out);
/* a - b in units, truncated toward zero as moment's diff does. */
double fdate_diff(int64_t a, int64_t b, enum fdate_unit u);
/* The start of the unit that holds ms (weeks start on Sunday). */
int64_t fdate_start_of(int64_t ms, enum fdate_unit u);

#endif
