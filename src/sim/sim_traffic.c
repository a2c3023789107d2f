/* Faults, rate limits, the request log and counters of the simulator (see sim_traffic.h). */
#include "sim/sim_traffic.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"

static const struct {
	const char *name;
	enum sim_fault_kind kind;
} kinds[] = {
	{ "429", SIM_FAULT_429 },
	{ "503", SIM_FAULT_503 },
	{ "500", SIM_FAULT_500 },
	{ "timeout", SIM_FAULT_TIMEOUT },
	{ "expire_offsets", SIM_FAULT_EXPIRE_OFFSETS },
	{ "latency", SIM_FAULT_LATENCY },
	{ "reset", SIM_FAULT_RESET },
	{ "502", SIM_FAULT_502 },
	{ "402", SIM_FAULT_402 },
	{ "error_body", SIM_FAULT_ERROR_BODY },
	{ "truncated", SIM_FAULT_TRUNCATED },
	{ "invalid_json", SIM_FAULT_INVALID_JSON },
	{ "empty_content", SIM_FAULT_EMPTY_CONTENT },
};

static const char *kind_name(enum sim_fault_kind k)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].kind == k)
			return kinds[i].name;
	return "?";
}

void sim_fault_init(struct sim_fault *f, enum sim_fault_kind kind)
{
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->count = 1;
	f->timeout_ms = 60000;
}

/* A small non-negative integer member, or the default when absent. */
static int int_member(const json_t *j, const char *key, int min, int max, int *out, serr *e)
{
	json_t *v = json_object_get(j, key);

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return serr_set(e, "'%s' must be an integer in %d..%d", key, min, max);
	*out = (int)json_integer_value(v);
	return 0;
}

int sim_fault_parse(struct sim_fault *f, const json_t *j, serr *e)
{
	const char *kind = json_string_value(json_object_get(j, "kind"));
	const char *path = json_string_value(json_object_get(j, "path_contains"));
	const char *method = json_string_value(json_object_get(j, "method"));
	const char *key;
	json_t *v;
	size_t i;

	if (!json_is_object(j) || !kind)
		return serr_set(e, "a fault needs a 'kind'");
	json_object_foreach((json_t *)j, key, v) {
		static const char *known[] = { "kind", "count", "path_contains", "method",
					       "latency_ms", "timeout_ms" };
		int ok = 0;
		for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			if (strcmp(key, known[k]) == 0)
				ok = 1;
		if (!ok)
			return serr_set(e, "unknown fault member '%s'", key);
	}
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].name, kind) == 0)
			break;
	if (i == sizeof(kinds) / sizeof(kinds[0]))
		return serr_set(e, "unknown fault kind '%s' (429, 503, 500, timeout, expire_offsets, "
				   "latency, reset, 502, 402, error_body, truncated, invalid_json, "
				   "empty_content)",
				kind);
	sim_fault_init(f, kinds[i].kind);
	if (int_member(j, "count", 1, 1000000, &f->count, e) < 0 ||
	    int_member(j, "latency_ms", 0, 600000, &f->latency_ms, e) < 0 ||
	    int_member(j, "timeout_ms", 0, 600000, &f->timeout_ms, e) < 0)
		return -1;
	if (path && strlen(path) >= sizeof(f->path_contains))
		return serr_set(e, "'path_contains' is longer than %zu bytes", sizeof(f->path_contains) - 1);
	if (method && strlen(method) >= sizeof(f->method))
		return serr_set(e, "'method' is too long");
	snprintf(f->path_contains, sizeof(f->path_contains), "%s", path ? path : "");
	snprintf(f->method, sizeof(f->method), "%s", method ? method : "");
	return 0;
}

int sim_traffic_init(struct sim_traffic *t)
{
	memset(t, 0, sizeof(*t));
	t->log = json_array();
	t->bases = calloc(SIM_MAX_RATE_BASES, sizeof(*t->bases));
	t->notion_tokens = -1; /* full on first use */
	return t->log && t->bases ? 0 : -1;
}

void sim_traffic_free(struct sim_traffic *t)
{
	json_decref(t->log);
	free(t->bases);
	memset(t, 0, sizeof(*t));
}

int sim_traffic_add_fault(struct sim_traffic *t, const struct sim_fault *f, serr *e)
{
	if (f->kind == SIM_FAULT_RESET) {
		t->nfaults = 0;
		return 0;
	}
	if (f->kind == SIM_FAULT_EXPIRE_OFFSETS)
		return 0;
	if (t->nfaults == SIM_MAX_FAULTS)
		return serr_set(e, "too many pending faults (at most %d); send a 'reset' first",
				SIM_MAX_FAULTS);
	t->faults[t->nfaults++] = *f;
	return 0;
}

json_t *sim_traffic_faults(const struct sim_traffic *t)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < t->nfaults; i++) {
		const struct sim_fault *f = &t->faults[i];
		if (json_array_append_new(arr, json_pack("{s:s, s:i, s:s, s:s, s:i, s:i}", "kind",
							 kind_name(f->kind), "count", f->count,
							 "path_contains", f->path_contains, "method",
							 f->method, "latency_ms", f->latency_ms,
							 "timeout_ms", f->timeout_ms)) < 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static int fault_matches(const struct sim_fault *f, const struct sim_req *rq)
{
	if (f->count <= 0)
		return 0;
	if (f->method[0] && strcasecmp(f->method, rq->method) != 0)
		return 0;
	if (f->path_contains[0] && !strstr(rq->path, f->path_contains) &&
	    !strstr(rq->raw, f->path_contains))
		return 0;
	return 1;
}

static void use_fault(struct sim_traffic *t, size_t i)
{
	t->faults_applied++;
	if (--t->faults[i].count > 0)
		return;
	memmove(&t->faults[i], &t->faults[i + 1], (t->nfaults - i - 1) * sizeof(t->faults[0]));
	t->nfaults--;
}

int sim_traffic_match(struct sim_traffic *t, const struct sim_req *rq, int *latency_ms,
		      struct sim_fault *hit)
{
	*latency_ms = 0;
	for (size_t i = 0; i < t->nfaults;) {
		if (t->faults[i].kind == SIM_FAULT_LATENCY && fault_matches(&t->faults[i], rq)) {
			*latency_ms += t->faults[i].latency_ms;
			use_fault(t, i);
			continue;
		}
		i++;
	}
	for (size_t i = 0; i < t->nfaults; i++) {
		if (t->faults[i].kind != SIM_FAULT_LATENCY && fault_matches(&t->faults[i], rq)) {
			*hit = t->faults[i];
			use_fault(t, i);
			return 1;
		}
	}
	return 0;
}

static void window_add(struct sim_window *w, int64_t at)
{
	w->t[w->next] = at;
	w->next = (w->next + 1) % SIM_RATE_RING;
	if (w->n < SIM_RATE_RING)
		w->n++;
}

/* Arrivals in (at - 1000, at]. */
static int window_count(const struct sim_window *w, int64_t at)
{
	int c = 0;

	for (size_t i = 0; i < w->n; i++)
		if (w->t[i] > at - 1000 && w->t[i] <= at)
			c++;
	return c;
}

static struct sim_rate_base *rate_base(struct sim_traffic *t, const char *base)
{
	for (size_t i = 0; i < t->nbases; i++)
		if (strcmp(t->bases[i].base, base) == 0)
			return &t->bases[i];
	if (t->nbases == SIM_MAX_RATE_BASES)
		return NULL;
	memset(&t->bases[t->nbases], 0, sizeof(t->bases[0]));
	snprintf(t->bases[t->nbases].base, SIM_ID_MAX, "%s", base);
	return &t->bases[t->nbases++];
}

int sim_traffic_airtable(struct sim_traffic *t, const char *base, int64_t arrival, double rate,
			 int penalty_ms)
{
	struct sim_rate_base *rb = rate_base(t, base);
	int seen, limit = (int)floor(rate + 1e-9);

	if (!rb)
		return 0; /* more bases than tracked: never limited */
	if (limit < 1)
		limit = 1;
	rb->requests++;
	window_add(&rb->all, arrival);
	seen = window_count(&rb->all, arrival);
	if (seen > rb->max_window)
		rb->max_window = seen;
	if (arrival < rb->penalty_until) {
		rb->limited++;
		return 1;
	}
	if (window_count(&rb->accepted, arrival) + 1 > limit) {
		rb->penalty_until = arrival + penalty_ms;
		rb->limited++;
		return 1;
	}
	window_add(&rb->accepted, arrival);
	return 0;
}

void sim_traffic_airtable_limited(struct sim_traffic *t, const char *base)
{
	struct sim_rate_base *rb = base && *base ? rate_base(t, base) : NULL;

	if (rb) {
		rb->requests++;
		rb->limited++;
	}
}

int sim_traffic_notion(struct sim_traffic *t, int64_t now, double rate, double burst,
		       int *retry_after_s)
{
	if (rate <= 0)
		rate = 3;
	if (burst < 1)
		burst = 1;
	t->notion_requests++;
	if (t->notion_tokens < 0) {
		t->notion_tokens = burst;
		t->notion_refill = now;
	}
	t->notion_tokens += (double)(now - t->notion_refill) * rate / 1000.0;
	if (t->notion_tokens > burst)
		t->notion_tokens = burst;
	t->notion_refill = now;
	if (t->notion_tokens >= 1) {
		t->notion_tokens -= 1;
		return 0;
	}
	t->notion_limited++;
	*retry_after_s = (int)ceil((1 - t->notion_tokens) / rate);
	if (*retry_after_s < 1)
		*retry_after_s = 1;
	return 1;
}

void sim_traffic_clear_penalties(struct sim_traffic *t)
{
	for (size_t i = 0; i < t->nbases; i++) {
		t->bases[i].penalty_until = 0;
		memset(&t->bases[i].accepted, 0, sizeof(t->bases[i].accepted));
	}
}

static const char *api_name(enum sim_api a)
{
	switch (a) {
	case SIM_API_AIRTABLE:
		return "airtable";
	case SIM_API_NOTION:
		return "notion";
	case SIM_API_ATTACHMENT:
		return "attachment";
	case SIM_API_CONTROL:
		return "control";
	case SIM_API_OPENROUTER:
		return "openrouter";
	default:
		return "other";
	}
}

void sim_traffic_log(struct sim_traffic *t, const struct sim_req *rq, int status)
{
	json_t *q = sim_q_object(rq), *entry;

	if (rq->api == SIM_API_ATTACHMENT)
		t->att_requests++;
	entry = json_pack("{s:s, s:s?, s:o, s:i, s:s, s:s?, s:I, s:I, s:I, s:s?}", "method",
			  rq->method, "path", rq->path, "query", q ? q : json_object(), "status",
			  status, "api", api_name(rq->api), "base", rq->base[0] ? rq->base : NULL,
			  "start_ms", (json_int_t)rq->start_ms, "end_ms", (json_int_t)now_ms(),
			  "body_size", (json_int_t)rq->body.len, "fault",
			  rq->fault[0] ? rq->fault : NULL);
	if (!entry)
		return; /* a path that is not UTF-8 is not logged */
	if (json_array_size(t->log) >= SIM_MAX_LOG) {
		if (json_array_remove(t->log, 0) == 0)
			t->log_dropped++;
	}
	if (json_array_append_new(t->log, entry) < 0)
		t->log_dropped++;
}

json_t *sim_traffic_stats(const struct sim_traffic *t)
{
	json_t *bases = json_object();

	for (size_t i = 0; bases && i < t->nbases; i++) {
		const struct sim_rate_base *rb = &t->bases[i];
		if (json_object_set_new(bases, rb->base,
					json_pack("{s:I, s:I, s:i}", "requests", (json_int_t)rb->requests,
						  "rate_limited", (json_int_t)rb->limited,
						  "max_per_second", rb->max_window)) < 0) {
			json_decref(bases);
			bases = NULL;
		}
	}
	if (!bases)
		return NULL;
	return json_pack("{s:o, s:{s:I, s:I}, s:{s:I}, s:I, s:I}", "bases", bases, "notion",
			 "requests", (json_int_t)t->notion_requests, "rate_limited",
			 (json_int_t)t->notion_limited, "attachments", "requests",
			 (json_int_t)t->att_requests, "faults_applied", (json_int_t)t->faults_applied,
			 "log_dropped", (json_int_t)t->log_dropped);
}

void sim_traffic_reset_stats(struct sim_traffic *t)
{
	for (size_t i = 0; i < t->nbases; i++) {
		struct sim_rate_base *rb = &t->bases[i];
		rb->requests = rb->limited = 0;
		rb->max_window = 0;
		memset(&rb->all, 0, sizeof(rb->all));
	}
	t->notion_requests = t->notion_limited = 0;
	t->att_requests = 0;
	t->faults_applied = 0;
}
