/*
 * Airtable formula parser and evaluator for the simulator (see
 * formula_eval.h): a tokenizer, a precedence-climbing parser into a flat node
 * array, and a tree walk whose depth the parser has bounded. Values follow
 * Airtable's model; functions live in formula_funcs.c, dates in
 * formula_date.c.
 */
#include "sim/formula_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/util.h"

/* ---------------------------------------------------------------- tree */

enum nkind { N_NUM, N_STR, N_BOOL, N_FIELD, N_CALL, N_BIN, N_NEG };

/* Binary operators, lowest precedence first (comparison, &, + -, * /). */
enum binop { OP_EQ, OP_NE, OP_LT, OP_GT, OP_LE, OP_GE, OP_CAT, OP_ADD, OP_SUB, OP_MUL, OP_DIV };

static const int op_level[] = {0, 0, 0, 0, 0, 0, 1, 2, 2, 3, 3};
#define LEVELS 4

struct fnode {
	enum nkind kind;
	int op;                 /* N_BIN */
	const struct ffunc *fn; /* N_CALL */
	size_t a, b;            /* N_BIN, N_NEG: children; N_CALL: first slot in args, count */
	double num;             /* N_NUM, N_BOOL */
	char *str;              /* N_STR text, N_FIELD name */
	size_t len;
	char *ftype;            /* N_FIELD: the field's type when parsed, or NULL */
	int height;
};

struct formula {
	struct fnode *nodes;
	size_t nnodes, cap;
	size_t *args;
	size_t nargs, args_cap;
	size_t root;
};

void formula_free(struct formula *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->nnodes; i++) {
		free(f->nodes[i].str);
		free(f->nodes[i].ftype);
	}
	free(f->nodes);
	free(f->args);
	free(f);
}

/* ------------------------------------------------------------ tokenizer */

enum tkind { T_END, T_NUM, T_STR, T_FIELD, T_IDENT, T_LP, T_RP, T_COMMA, T_OP };

struct parser {
	const char *s;
	size_t n, pos;
	/* current token */
	enum tkind k;
	size_t start, end; /* its text; for T_FIELD the name inside the braces */
	int op;
	double num;
	struct buf text;   /* decoded T_STR */
	int depth;
	struct formula *f;
	const json_t *types;
	serr *e;
};

static int perr(struct parser *p, size_t at, const char *what)
{
	return serr_set(p->e, "invalid formula: %s at character %zu", what, at + 1);
}

static int is_ident_start(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_' || ch >= 0x80;
}

static int is_ident(unsigned char ch)
{
	return is_ident_start(ch) || (ch >= '0' && ch <= '9');
}

/* A quoted string; backslash escapes \n \t \r and any other char as itself. */
static int lex_string(struct parser *p)
{
	char q = p->s[p->pos];
	size_t i = p->pos + 1;

	buf_reset(&p->text);
	for (;;) {
		char ch;

		if (i >= p->n)
			return perr(p, p->start, "unterminated string");
		ch = p->s[i];
		if (ch == q)
			break;
		if (ch == '\\') {
			if (i + 1 >= p->n)
				return perr(p, p->start, "unterminated string");
			ch = p->s[++i];
			if (ch == 'n')
				ch = '\n';
			else if (ch == 't')
				ch = '\t';
			else if (ch == 'r')
				ch = '\r';
		}
		if (buf_putc(&p->text, ch) < 0)
			return perr(p, p->start, "string too long");
		i++;
	}
	p->k = T_STR;
	p->pos = i + 1;
	return 0;
}

static int lex_number(struct parser *p)
{
	size_t i = p->pos;
	char tmp[64];
	int digits = 0;

	while (i < p->n && p->s[i] >= '0' && p->s[i] <= '9')
		i++, digits++;
	if (i < p->n && p->s[i] == '.') {
		i++;
		while (i < p->n && p->s[i] >= '0' && p->s[i] <= '9')
			i++, digits++;
	}
	if (digits && i < p->n && (p->s[i] == 'e' || p->s[i] == 'E')) {
		size_t j = i + 1;

		if (j < p->n && (p->s[j] == '+' || p->s[j] == '-'))
			j++;
		if (j < p->n && p->s[j] >= '0' && p->s[j] <= '9') {
			i = j;
			while (i < p->n && p->s[i] >= '0' && p->s[i] <= '9')
				i++;
		}
	}
	if (!digits || i - p->pos >= sizeof(tmp))
		return perr(p, p->pos, "malformed number");
	memcpy(tmp, p->s + p->pos, i - p->pos);
	tmp[i - p->pos] = '\0';
	if (parse_double(tmp, &p->num) != 0 || !isfinite(p->num))
		return perr(p, p->pos, "malformed number");
	p->k = T_NUM;
	p->pos = i;
	return 0;
}

/* Advance to the next token. */
static int lex(struct parser *p)
{
	const char *s = p->s;
	char ch;

	while (p->pos < p->n && (s[p->pos] == ' ' || s[p->pos] == '\t' || s[p->pos] == '\n' ||
				 s[p->pos] == '\r'))
		p->pos++;
	p->start = p->pos;
	if (p->pos >= p->n) {
		p->k = T_END;
		return 0;
	}
	ch = s[p->pos];
	if (ch == '\'' || ch == '"')
		return lex_string(p);
	if ((ch >= '0' && ch <= '9') || ch == '.')
		return lex_number(p);
	if (ch == '{') {
		const char *close = memchr(s + p->pos + 1, '}', p->n - p->pos - 1);

		if (!close)
			return perr(p, p->pos, "unterminated field reference '{'");
		p->k = T_FIELD;
		p->start = p->pos + 1;
		p->end = (size_t)(close - s);
		p->pos = p->end + 1;
		if (p->end == p->start)
			return perr(p, p->start - 1, "empty field reference '{}'");
		return 0;
	}
	if (is_ident_start((unsigned char)ch)) {
		while (p->pos < p->n && is_ident((unsigned char)s[p->pos]))
			p->pos++;
		p->k = T_IDENT;
		p->end = p->pos;
		return 0;
	}
	p->pos++;
	p->k = T_OP;
	switch (ch) {
	case '(': p->k = T_LP; return 0;
	case ')': p->k = T_RP; return 0;
	case ',': p->k = T_COMMA; return 0;
	case '&': p->op = OP_CAT; return 0;
	case '+': p->op = OP_ADD; return 0;
	case '-': p->op = OP_SUB; return 0;
	case '*': p->op = OP_MUL; return 0;
	case '/': p->op = OP_DIV; return 0;
	case '=': p->op = OP_EQ; return 0;
	case '!':
		if (p->pos < p->n && s[p->pos] == '=') {
			p->pos++;
			p->op = OP_NE;
			return 0;
		}
		break;
	case '<':
		p->op = OP_LT;
		if (p->pos < p->n && s[p->pos] == '=') {
			p->pos++;
			p->op = OP_LE;
		} else if (p->pos < p->n && s[p->pos] == '>') {
			p->pos++;
			p->op = OP_NE;
		}
		return 0;
	case '>':
		p->op = OP_GT;
		if (p->pos < p->n && s[p->pos] == '=') {
			p->pos++;
			p->op = OP_GE;
		}
		return 0;
	default:
		break;
	}
	{
		char what[64];

		if ((unsigned char)ch >= 0x20 && (unsigned char)ch < 0x7f)
			snprintf(what, sizeof(what), "unexpected character '%c'", ch);
		else
			snprintf(what, sizeof(what), "unexpected byte 0x%02x", (unsigned char)ch);
		return perr(p, p->start, what);
	}
}

/* --------------------------------------------------------------- parser */

static int new_node(struct parser *p, enum nkind kind, int height, size_t *idx)
{
	struct formula *f = p->f;

	if (height > FORMULA_MAX_HEIGHT)
		return serr_set(p->e, "invalid formula: nested more than %d levels deep",
				FORMULA_MAX_HEIGHT);
	if (f->nnodes >= FORMULA_MAX_NODES)
		return serr_set(p->e, "invalid formula: more than %d terms", FORMULA_MAX_NODES);
	if (f->nnodes == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 32, bytes;
		struct fnode *nn;

		if (size_mul(ncap, sizeof(*nn), &bytes) != 0 || !(nn = realloc(f->nodes, bytes)))
			return serr_set(p->e, "out of memory parsing a formula");
		f->nodes = nn;
		f->cap = ncap;
	}
	memset(&f->nodes[f->nnodes], 0, sizeof(f->nodes[0]));
	f->nodes[f->nnodes].kind = kind;
	f->nodes[f->nnodes].height = height;
	*idx = f->nnodes++;
	return 0;
}

static int node_height(const struct parser *p, size_t idx)
{
	return p->f->nodes[idx].height;
}

static int enter(struct parser *p)
{
	if (++p->depth > FORMULA_MAX_DEPTH)
		return serr_set(p->e,
				"invalid formula: parentheses, calls or signs nested more than %d "
				"deep at character %zu",
				FORMULA_MAX_DEPTH, p->start + 1);
	return 0;
}

static int parse_expr(struct parser *p, size_t *idx);

/* The field named in the token, checked against the table's fields. */
static int field_node(struct parser *p, size_t *idx)
{
	const char *name = p->s + p->start;
	size_t len = p->end - p->start;
	const json_t *type = NULL;
	struct fnode *nd;
	char *copy = strndup(name, len);
	int rc = -1;

	if (!copy) {
		serr_set(p->e, "out of memory parsing a formula");
		goto out;
	}
	if (p->types && !(type = json_object_get(p->types, copy))) {
		serr_set(p->e, "invalid formula: unknown field '%.*s' at character %zu",
			 (int)(len > 200 ? 200 : len), name, p->start + 1);
		goto out;
	}
	if (new_node(p, N_FIELD, 1, idx) < 0)
		goto out;
	nd = &p->f->nodes[*idx];
	nd->str = copy;
	nd->len = len;
	copy = NULL;
	if (json_is_string(type) && !(nd->ftype = strdup(json_string_value(type)))) {
		serr_set(p->e, "out of memory parsing a formula");
		goto out;
	}
	rc = lex(p);
out:
	free(copy);
	return rc;
}

static int parse_call(struct parser *p, const struct ffunc *fn, size_t name_at, size_t *idx)
{
	size_t *local = NULL, nlocal = 0, cap = 0;
	int height = 0, rc = -1;

	if (enter(p) < 0 || lex(p) < 0) /* past '(' */
		goto out;
	if (p->k != T_RP) {
		for (;;) {
			size_t arg;

			if (nlocal >= FORMULA_MAX_ARGS) {
				serr_set(p->e, "invalid formula: more than %d arguments to '%s'",
					 FORMULA_MAX_ARGS, fn->name);
				goto out;
			}
			if (parse_expr(p, &arg) < 0)
				goto out;
			if (nlocal == cap) {
				size_t ncap = cap ? cap * 2 : 8;
				size_t *nl = realloc(local, ncap * sizeof(*nl));

				if (!nl) {
					serr_set(p->e, "out of memory parsing a formula");
					goto out;
				}
				local = nl;
				cap = ncap;
			}
			local[nlocal++] = arg;
			if (node_height(p, arg) > height)
				height = node_height(p, arg);
			if (p->k == T_COMMA) {
				if (lex(p) < 0)
					goto out;
				continue;
			}
			break;
		}
	}
	if (p->k != T_RP) {
		char what[128];

		snprintf(what, sizeof(what), "expected ',' or ')' in the arguments of '%s'", fn->name);
		perr(p, p->start, what);
		goto out;
	}
	if ((int)nlocal < fn->min_args || (fn->max_args >= 0 && (int)nlocal > fn->max_args)) {
		if (fn->max_args < 0)
			serr_set(p->e, "invalid formula: '%s' takes at least %d argument%s, got %zu "
				 "(at character %zu)", fn->name, fn->min_args,
				 fn->min_args == 1 ? "" : "s", nlocal, name_at + 1);
		else
			serr_set(p->e, "invalid formula: '%s' takes %d to %d arguments, got %zu "
				 "(at character %zu)", fn->name, fn->min_args, fn->max_args, nlocal,
				 name_at + 1);
		goto out;
	}
	for (size_t i = 0; (fn->flags & FF_FIELDS_ONLY) && i < nlocal; i++) {
		if (p->f->nodes[local[i]].kind != N_FIELD) {
			serr_set(p->e, "invalid formula: the arguments of '%s' must be field "
				 "references like {Name} (at character %zu)", fn->name, name_at + 1);
			goto out;
		}
	}
	{
		struct formula *f = p->f;
		size_t need, bytes, ncap = f->args_cap ? f->args_cap : 16;
		size_t *na;

		if (size_add(f->nargs, nlocal, &need) != 0) {
			serr_set(p->e, "out of memory parsing a formula");
			goto out;
		}
		if (need > f->args_cap) {
			while (ncap < need)
				ncap *= 2;
			if (size_mul(ncap, sizeof(*na), &bytes) != 0 || !(na = realloc(f->args, bytes))) {
				serr_set(p->e, "out of memory parsing a formula");
				goto out;
			}
			f->args = na;
			f->args_cap = ncap;
		}
		if (new_node(p, N_CALL, height + 1, idx) < 0)
			goto out;
		f->nodes[*idx].fn = fn;
		f->nodes[*idx].a = f->nargs;
		f->nodes[*idx].b = nlocal;
		if (nlocal)
			memcpy(f->args + f->nargs, local, nlocal * sizeof(*local));
		f->nargs += nlocal;
	}
	p->depth--;
	rc = lex(p); /* past ')' */
out:
	free(local);
	return rc;
}

static int parse_primary(struct parser *p, size_t *idx)
{
	switch (p->k) {
	case T_NUM:
		if (new_node(p, N_NUM, 1, idx) < 0)
			return -1;
		p->f->nodes[*idx].num = p->num;
		return lex(p);
	case T_STR: {
		struct fnode *nd;

		if (new_node(p, N_STR, 1, idx) < 0)
			return -1;
		nd = &p->f->nodes[*idx];
		nd->len = p->text.len;
		nd->str = malloc(p->text.len + 1);
		if (!nd->str)
			return serr_set(p->e, "out of memory parsing a formula");
		memcpy(nd->str, buf_cstr(&p->text), p->text.len + 1);
		return lex(p);
	}
	case T_FIELD:
		return field_node(p, idx);
	case T_IDENT: {
		size_t name_at = p->start, name_len = p->end - p->start;
		size_t save_pos = p->pos;
		const struct ffunc *fn;

		if (lex(p) < 0)
			return -1;
		if (p->k == T_LP) {
			fn = ffunc_find(p->s + name_at, name_len);
			if (!fn)
				return serr_set(p->e, "invalid formula: unknown function '%.*s' at "
						"character %zu", (int)(name_len > 200 ? 200 : name_len),
						p->s + name_at, name_at + 1);
			return parse_call(p, fn, name_at, idx);
		}
		if ((name_len == 4 && strncasecmp(p->s + name_at, "TRUE", 4) == 0) ||
		    (name_len == 5 && strncasecmp(p->s + name_at, "FALSE", 5) == 0)) {
			if (new_node(p, N_BOOL, 1, idx) < 0)
				return -1;
			p->f->nodes[*idx].num = name_len == 4;
			return 0;
		}
		/* a bare field name: rewind to it and read it as a field */
		p->start = name_at;
		p->end = name_at + name_len;
		p->pos = save_pos;
		return field_node(p, idx);
	}
	case T_LP:
		if (enter(p) < 0 || lex(p) < 0 || parse_expr(p, idx) < 0)
			return -1;
		if (p->k != T_RP)
			return perr(p, p->start, "expected ')'");
		p->depth--;
		return lex(p);
	case T_END:
		return perr(p, p->start, "unexpected end of formula");
	default:
		return perr(p, p->start, "expected a value");
	}
}

static int parse_unary(struct parser *p, size_t *idx)
{
	size_t child;

	if (p->k == T_OP && p->op == OP_SUB) {
		if (enter(p) < 0 || lex(p) < 0 || parse_unary(p, &child) < 0)
			return -1;
		p->depth--;
		if (new_node(p, N_NEG, node_height(p, child) + 1, idx) < 0)
			return -1;
		p->f->nodes[*idx].a = child;
		return 0;
	}
	return parse_primary(p, idx);
}

/* Left-associative operators of one precedence level and above. */
static int parse_level(struct parser *p, int level, size_t *idx)
{
	size_t lhs, rhs;

	if (level >= LEVELS)
		return parse_unary(p, idx);
	if (parse_level(p, level + 1, &lhs) < 0)
		return -1;
	while (p->k == T_OP && op_level[p->op] == level) {
		int op = p->op, h;
		size_t left = lhs;

		if (lex(p) < 0 || parse_level(p, level + 1, &rhs) < 0)
			return -1;
		h = node_height(p, left) > node_height(p, rhs) ? node_height(p, left)
								: node_height(p, rhs);
		if (new_node(p, N_BIN, h + 1, &lhs) < 0)
			return -1;
		p->f->nodes[lhs].op = op;
		p->f->nodes[lhs].a = left;
		p->f->nodes[lhs].b = rhs;
	}
	*idx = lhs;
	return 0;
}

static int parse_expr(struct parser *p, size_t *idx)
{
	return parse_level(p, 0, idx);
}

struct formula *formula_parse(const char *text, const json_t *field_types, serr *e)
{
	struct parser p;
	struct formula *f = NULL;
	size_t len;
	int ok = 0;

	if (!text)
		text = "";
	len = strnlen(text, (size_t)FORMULA_MAX_LEN + 1);
	if (len > FORMULA_MAX_LEN) {
		serr_set(e, "invalid formula: longer than %d bytes", FORMULA_MAX_LEN);
		return NULL;
	}
	memset(&p, 0, sizeof(p));
	p.s = text;
	p.n = len;
	p.types = field_types && json_is_object(field_types) ? field_types : NULL;
	p.e = e;
	buf_init(&p.text, FORMULA_MAX_LEN);
	f = calloc(1, sizeof(*f));
	if (!f) {
		serr_set(e, "out of memory parsing a formula");
		goto out;
	}
	p.f = f;
	if (lex(&p) < 0)
		goto out;
	if (p.k == T_END) {
		serr_set(e, "invalid formula: the formula is empty");
		goto out;
	}
	if (parse_expr(&p, &f->root) < 0)
		goto out;
	if (p.k != T_END) {
		perr(&p, p.start, "unexpected text after the end of the expression");
		goto out;
	}
	ok = 1;
out:
	buf_free(&p.text);
	if (!ok) {
		formula_free(f);
		f = NULL;
	}
	return f;
}

/* ------------------------------------------------------------ evaluator */

static int eval_node(struct fctx *c, const struct formula *f, size_t idx, struct fval *out);

static int eval_field(struct fctx *c, const struct fnode *nd, struct fval *out)
{
	const struct formula_record *r = c->r;
	const json_t *cell = r->fields ? json_object_get(r->fields, nd->str) : NULL;
	const char *type = nd->ftype;

	if (r->field_types) {
		const json_t *t = json_object_get(r->field_types, nd->str);

		if (json_is_string(t))
			type = json_string_value(t);
	}
	return fv_from_json(c, cell, type, out);
}

/* LAST_MODIFIED_TIME(): the record's, or the latest of the named fields. */
static void eval_last_modified(struct fctx *c, const struct formula *f, const struct fnode *nd,
			       struct fval *out)
{
	const struct formula_record *r = c->r;
	int64_t latest = -1;

	if (!r->field_modified_ms) {
		fv_date(out, r->created_ms, 0);
		return;
	}
	if (nd->b == 0) {
		latest = r->field_modified_ms(r->ud, NULL);
		fv_date(out, latest >= 0 ? latest : r->created_ms, 0);
		return;
	}
	for (size_t i = 0; i < nd->b; i++) {
		const struct fnode *arg = &f->nodes[f->args[nd->a + i]];
		int64_t t = r->field_modified_ms(r->ud, arg->str);

		if (t > latest)
			latest = t;
	}
	if (latest < 0)
		fv_blank(out);
	else
		fv_date(out, latest, 0);
}

static int eval_call(struct fctx *c, const struct formula *f, const struct fnode *nd,
		     struct fval *out)
{
	struct fval *args = NULL;

	if (!nd->fn->impl) {
		eval_last_modified(c, f, nd, out);
		return 0;
	}
	if (nd->b && !(args = fctx_alloc(c, nd->b * sizeof(*args))))
		return -1;
	for (size_t i = 0; i < nd->b; i++) {
		if (eval_node(c, f, f->args[nd->a + i], &args[i]) < 0)
			return -1;
		if (args[i].t == FV_ERR && !(nd->fn->flags & FF_KEEP_ERRORS)) {
			*out = args[i];
			return 0;
		}
	}
	return nd->fn->impl(c, args, nd->b, out);
}

static int eval_concat(struct fctx *c, const struct fval *l, const struct fval *r,
		       struct fval *out)
{
	const char *ls, *rs;
	size_t ll, rl;
	char *p;

	if (fv_to_str(c, l, &ls, &ll) < 0 || fv_to_str(c, r, &rs, &rl) < 0)
		return -1;
	if (ll + rl > FORMULA_MAX_STRING)
		return serr_set(c->e, "formula produced a text longer than %d bytes",
				FORMULA_MAX_STRING);
	if (!(p = fctx_alloc(c, ll + rl + 1)))
		return -1;
	memcpy(p, ls, ll);
	memcpy(p + ll, rs, rl);
	p[ll + rl] = '\0';
	fv_blank(out);
	out->t = FV_STR;
	out->s = p;
	out->len = ll + rl;
	return 0;
}

static int eval_binary(struct fctx *c, int op, const struct fval *l, const struct fval *r,
		       struct fval *out)
{
	double x, y;
	int cmp;

	if (l->t == FV_ERR || r->t == FV_ERR) {
		*out = l->t == FV_ERR ? *l : *r;
		return 0;
	}
	if (op == OP_CAT)
		return eval_concat(c, l, r, out);
	if (op <= OP_GE) {
		if (fv_compare(c, l, r, &cmp) < 0)
			return -1;
		switch (op) {
		case OP_EQ: fv_bool(out, cmp == 0); break;
		case OP_NE: fv_bool(out, cmp != 0); break;
		case OP_LT: fv_bool(out, cmp < 0); break;
		case OP_GT: fv_bool(out, cmp > 0); break;
		case OP_LE: fv_bool(out, cmp <= 0); break;
		default: fv_bool(out, cmp >= 0); break;
		}
		return 0;
	}
	if (fv_to_num(l, &x) != 0 || fv_to_num(r, &y) != 0) {
		fv_err(out, "#ERROR!");
		return 0;
	}
	switch (op) {
	case OP_ADD: fv_num(out, x + y); break;
	case OP_SUB: fv_num(out, x - y); break;
	case OP_MUL: fv_num(out, x * y); break;
	default:
		if (y == 0)
			fv_err(out, "#ERROR!");
		else
			fv_num(out, x / y);
		break;
	}
	return 0;
}

/* Recursion depth is the tree height, which the parser capped at FORMULA_MAX_HEIGHT. */
static int eval_node(struct fctx *c, const struct formula *f, size_t idx, struct fval *out)
{
	const struct fnode *nd = &f->nodes[idx];
	struct fval l, r;
	double x;

	switch (nd->kind) {
	case N_NUM:
		fv_num(out, nd->num);
		return 0;
	case N_BOOL:
		fv_bool(out, nd->num != 0);
		return 0;
	case N_STR:
		fv_blank(out);
		out->t = FV_STR;
		out->s = nd->str;
		out->len = nd->len;
		return 0;
	case N_FIELD:
		return eval_field(c, nd, out);
	case N_CALL:
		return eval_call(c, f, nd, out);
	case N_NEG:
		if (eval_node(c, f, nd->a, &l) < 0)
			return -1;
		if (l.t == FV_ERR)
			*out = l;
		else if (fv_to_num(&l, &x) != 0)
			fv_err(out, "#ERROR!");
		else
			fv_num(out, -x);
		return 0;
	case N_BIN:
		if (eval_node(c, f, nd->a, &l) < 0 || eval_node(c, f, nd->b, &r) < 0)
			return -1;
		return eval_binary(c, nd->op, &l, &r, out);
	}
	return serr_set(c->e, "corrupt formula node %zu", idx);
}

int formula_eval_bool(const struct formula *f, const struct formula_record *r, int *out, serr *e)
{
	struct fctx c = {r, NULL, 0, e};
	struct fval v;
	int rc = -1;

	*out = 0;
	if (!f || !r) {
		serr_set(e, "no formula or record to evaluate");
		goto out;
	}
	if (eval_node(&c, f, f->root, &v) < 0) {
		serr_wrap(e, "evaluating the formula on record '%s'", r->id ? r->id : "");
		goto out;
	}
	*out = fv_truthy(&v);
	rc = 0;
out:
	fctx_release(&c);
	return rc;
}

int formula_eval_json(const struct formula *f, const struct formula_record *r, json_t **out,
		      serr *e)
{
	struct fctx c = {r, NULL, 0, e};
	struct fval v;
	int rc = -1;

	*out = NULL;
	if (!f || !r) {
		serr_set(e, "no formula or record to evaluate");
		goto out;
	}
	if (eval_node(&c, f, f->root, &v) < 0) {
		serr_wrap(e, "evaluating the formula on record '%s'", r->id ? r->id : "");
		goto out;
	}
	if (!(*out = fv_to_json(&v))) {
		serr_set(e, "formula result on record '%s' is not valid UTF-8 text",
			 r->id ? r->id : "");
		goto out;
	}
	rc = 0;
out:
	fctx_release(&c);
	return rc;
}
