/*
 * The simulator's server (libmicrohttpd, a thread per connection, bound to
 * 127.0.0.1) and its public API: every request goes through the same front
 * door (injected faults, body and URL caps, auth, rate limits) before the
 * Airtable, Notion, OpenRouter, attachment or control handlers see it.
 */
#include "sim/sim_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"

#define DEFAULT_MAX_BODY (10 * 1024 * 1024)
/* Refused bodies up to this size are read to the end before the 413. */
#define SIM_DRAIN_MAX ((uint64_t)64 * 1024 * 1024)
/* control requests carry whole bases, PDFs included */
#define CONTROL_MAX_BODY ((size_t)1024 * 1024 * 1024)

void sim_opts_init(struct sim_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->api_key = "sim-key";
	o->airtable_rate = 5;
	o->penalty_ms = 30000;
	o->offset_ttl_ms = 300000;
	o->attachment_ttl_ms = 2 * 60 * 60 * 1000;
	o->notion_rate = 3;
	o->notion_burst = 0; /* = notion_rate */
	o->max_body = DEFAULT_MAX_BODY;
}

const char *sim_url(const struct sim *s)
{
	return s->url;
}

struct sim_base *sim_find_base(struct sim *s, const char *id)
{
	for (size_t i = 0; i < s->nbases; i++)
		if (strcmp(s->bases[i]->id, id) == 0)
			return s->bases[i];
	return NULL;
}

void sim_signer_now(struct sim *s, struct sim_signer *sg)
{
	sg->root = s->url;
	sg->secret = s->secret;
	sg->expires_ms = now_ms() + s->o.attachment_ttl_ms;
}

/* Wait ms (or until the simulator stops), without holding the lock meanwhile. */
static void hold(struct sim *s, int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->lock);
	while (!s->stopping)
		if (pthread_cond_timedwait(&s->wake, &s->lock, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&s->lock);
}

/* Constant-time comparison, so the key cannot be guessed byte by byte. */
static int same_secret(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = (unsigned char)(la != lb);

	for (size_t i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* 0 when the request carries "Bearer <api key>". */
static int check_bearer(struct sim *s, const struct sim_req *rq, int *missing)
{
	const char *h = rq->auth;

	*missing = 1;
	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return -1;
	*missing = 0;
	h += 7;
	while (*h == ' ')
		h++;
	return same_secret(h, s->api_key) ? 0 : -1;
}

static void classify(struct sim_req *rq)
{
	const char *s0 = rq->nsegs > 0 ? rq->segs[0] : "";

	if (strcmp(s0, "v0") == 0) {
		const char *base = NULL;
		rq->api = SIM_API_AIRTABLE;
		if (rq->nsegs >= 4 && strcmp(rq->segs[1], "meta") == 0 &&
		    strcmp(rq->segs[2], "bases") == 0)
			base = rq->segs[3];
		else if (rq->nsegs >= 2 && strcmp(rq->segs[1], "meta") != 0)
			base = rq->segs[1];
		if (base && strlen(base) < sizeof(rq->base))
			snprintf(rq->base, sizeof(rq->base), "%s", base);
	} else if (strcmp(s0, "v1") == 0) {
		rq->api = SIM_API_NOTION;
	} else if (strcmp(s0, "api") == 0 && rq->nsegs > 1 && strcmp(rq->segs[1], "v1") == 0) {
		rq->api = SIM_API_OPENROUTER;
	} else if (strcmp(s0, "_sim") == 0) {
		rq->api = rq->nsegs > 1 && strcmp(rq->segs[1], "attachments") == 0
				  ? SIM_API_ATTACHMENT
				  : SIM_API_CONTROL;
	} else {
		rq->api = SIM_API_NONE;
	}
}

static void fault_response(struct sim *s, struct sim_req *rq, struct sim_resp *rs,
			   const struct sim_fault *f)
{
	int status = f->kind == SIM_FAULT_429	? 429
		     : f->kind == SIM_FAULT_503 ? 503
		     : f->kind == SIM_FAULT_502 ? 502
						: 500;

	snprintf(rq->fault, sizeof(rq->fault), "%d", status);
	if (rq->api == SIM_API_NOTION) {
		if (status == 429) {
			s->traffic.notion_limited++;
			rs->retry_after = 1;
			sim_resp_notion(rs, 429, "rate_limited",
					"You have been rate limited. Please try again in a few minutes.");
		} else if (status == 503) {
			sim_resp_notion(rs, 503, "service_unavailable",
					"Notion is unavailable, please try again later.");
		} else {
			sim_resp_notion(rs, 500, "internal_server_error", "Unexpected error occurred.");
		}
		return;
	}
	if (status == 429) {
		sim_traffic_airtable_limited(&s->traffic, rq->base);
		sim_resp_json(rs, 429,
			      json_pack("{s:[{s:s, s:s}]}", "errors", "error", "RATE_LIMIT_REACHED",
					"message", "Rate limit exceeded. Please try again later"));
	} else if (status == 503 || status == 502) {
		sim_resp_airtable(rs, status, "SERVICE_UNAVAILABLE",
				  "The service is temporarily unavailable. Please retry shortly.");
	} else {
		sim_resp_airtable(rs, 500, "SERVER_ERROR",
				  "Try again. If the problem persists, contact support.");
	}
}

static void airtable_front(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	int missing;

	if (rq->raw_len + strlen(s->url) >= SIM_MAX_URL) {
		sim_resp_airtable(rs, 414, "INVALID_REQUEST_URI_TOO_LONG",
				  "The request URL must be shorter than 16,000 characters. Send the "
				  "options in the body of POST /v0/{baseId}/{tableIdOrName}/listRecords "
				  "instead.");
		return;
	}
	if (rq->too_large) {
		sim_resp_airtable(rs, 413, "REQUEST_ENTITY_TOO_LARGE",
				  "The request exceeded the maximum allowed payload size.");
		return;
	}
	if (check_bearer(s, rq, &missing) < 0) {
		/* Airtable tells a missing token from a wrong one */
		if (missing)
			sim_resp_airtable(rs, 401, "AUTHENTICATION_REQUIRED", "Authentication required");
		else
			sim_resp_airtable(rs, 401, "UNAUTHORIZED", "Invalid authentication token");
		return;
	}
	if (rq->base[0] && sim_traffic_airtable(&s->traffic, rq->base, rq->start_mono,
						s->o.airtable_rate, s->o.penalty_ms)) {
		sim_resp_json(rs, 429,
			      json_pack("{s:[{s:s, s:s}]}", "errors", "error", "RATE_LIMIT_REACHED",
					"message", "Rate limit exceeded. Please try again later"));
		return;
	}
	sim_airtable_handle(s, rq, rs);
}

static void notion_front(struct sim *s, struct sim_req *rq, struct sim_resp *rs)
{
	int missing, retry;

	if (rq->too_large) {
		sim_resp_notion(rs, 413, "payload_too_large", "Request body too large.");
		return;
	}
	if (check_bearer(s, rq, &missing) < 0) {
		sim_resp_notion(rs, 401, "unauthorized", "API token is invalid.");
		return;
	}
	if (!rq->notion_version) {
		sim_resp_notion(rs, 400, "missing_version",
				"Notion-Version header failed validation: Notion-Version header "
				"should be defined, instead was `undefined`.");
		return;
	}
	if (sim_traffic_notion(&s->traffic, mono_ms(), s->o.notion_rate,
			       s->o.notion_burst > 0 ? s->o.notion_burst : s->o.notion_rate, &retry)) {
		rs->retry_after = retry;
		sim_resp_notion(rs, 429, "rate_limited",
				"You have been rate limited. Please try again in a few minutes.");
		return;
	}
	sim_notion_handle(s, rq, rs);
}

static enum MHD_Result send_response(struct MHD_Connection *c, struct sim_resp *rs)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char ra[32];

	r = MHD_create_response_from_buffer(rs->body.len, rs->body.data ? rs->body.data : (void *)"",
					    MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rs->content_type);
	if (rs->retry_after >= 0) {
		snprintf(ra, sizeof(ra), "%d", rs->retry_after);
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	if (rs->disposition)
		MHD_add_response_header(r, "Content-Disposition", rs->disposition);
	ret = MHD_queue_response(c, (unsigned)rs->status, r);
	MHD_destroy_response(r);
	return ret;
}

static void log_line(struct sim *s, const struct sim_req *rq, int status)
{
	if (s->o.quiet)
		return;
	log_info("sim request", "method=%s path=\"%.200s\" status=%d ms=%lld", rq->method, rq->path,
		 status, (long long)(mono_ms() - rq->start_mono));
}

static enum MHD_Result serve(struct sim *s, struct MHD_Connection *c, struct sim_req *rq)
{
	struct sim_resp rs;
	struct sim_fault hit;
	int latency = 0, base_latency = 0, faulted;
	enum MHD_Result ret;

	rq->answered = 1;
	sim_resp_init(&rs);
	if (rq->api == SIM_API_CONTROL) {
		if (rq->too_large)
			sim_resp_ctl_error(&rs, 413, "request body too large");
		else
			sim_ctl_handle(s, rq, &rs);
		goto out;
	}
	pthread_mutex_lock(&s->lock);
	faulted = sim_traffic_match(&s->traffic, rq, &latency, &hit);
	pthread_mutex_unlock(&s->lock);
	if (rq->api == SIM_API_OPENROUTER)
		base_latency = sim_openrouter_latency(&s->openrouter);
	if (latency + base_latency > 0)
		hold(s, latency + base_latency);
	if (faulted && hit.kind == SIM_FAULT_TIMEOUT) {
		snprintf(rq->fault, sizeof(rq->fault), "timeout");
		hold(s, hit.timeout_ms);
		pthread_mutex_lock(&s->lock);
		sim_traffic_log(&s->traffic, rq, 0);
		pthread_mutex_unlock(&s->lock);
		log_line(s, rq, 0);
		sim_resp_free(&rs);
		return MHD_NO; /* closes the connection without an answer */
	}
	if (latency > 0 && !faulted)
		snprintf(rq->fault, sizeof(rq->fault), "latency");
	if (rq->api == SIM_API_OPENROUTER) {
		/* computed without the sim lock: PDF parsing must not stall the other APIs */
		sim_openrouter_handle(&s->openrouter, s->api_key, rq, &rs, faulted ? &hit : NULL);
		pthread_mutex_lock(&s->lock);
		sim_traffic_log(&s->traffic, rq, rs.status);
		pthread_mutex_unlock(&s->lock);
		log_line(s, rq, rs.status);
		goto out;
	}
	pthread_mutex_lock(&s->lock);
	if (faulted)
		fault_response(s, rq, &rs, &hit);
	else if (rq->api == SIM_API_AIRTABLE)
		airtable_front(s, rq, &rs);
	else if (rq->api == SIM_API_NOTION)
		notion_front(s, rq, &rs);
	else if (rq->api == SIM_API_ATTACHMENT)
		sim_attachment_handle(s, rq, &rs);
	else
		sim_resp_not_found(&rs);
	sim_traffic_log(&s->traffic, rq, rs.status);
	pthread_mutex_unlock(&s->lock);
	log_line(s, rq, rs.status);
out:
	ret = send_response(c, &rs);
	sim_resp_free(&rs);
	return ret;
}

/* Called first for every request with the raw target: allocate the request there. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct sim *s = cls;
	struct sim_req *rq = calloc(1, sizeof(*rq));
	serr e;

	(void)c;
	if (!rq)
		return NULL;
	if (sim_req_init(rq, uri, (size_t)s->o.max_body, &e) < 0) {
		sim_req_free(rq);
		free(rq);
		return NULL;
	}
	classify(rq);
	if (rq->api == SIM_API_CONTROL)
		rq->body.max = CONTROL_MAX_BODY;
	return rq;
}

static char *header_dup(struct MHD_Connection *c, const char *name)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);

	return v ? xstrdup(v) : NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct sim *s = cls;
	struct sim_req *rq = *con_cls;

	(void)url;
	(void)version;
	if (!rq)
		return MHD_NO; /* out of memory when the request arrived */
	if (rq->answered) {
		*upload_size = 0; /* the rest of a refused body */
		return MHD_YES;
	}
	if (!rq->started) {
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		int64_t len;
		rq->started = 1;
		snprintf(rq->method, sizeof(rq->method), "%s", method);
		rq->auth = header_dup(c, MHD_HTTP_HEADER_AUTHORIZATION);
		rq->notion_version = header_dup(c, "Notion-Version");
		/* A body over the cap is read and dropped, then refused: answering
		 * while the client still sends makes the server close on it, and
		 * the client may see a reset instead of the 413. Past
		 * SIM_DRAIN_MAX the answer comes at once. */
		if (cl && parse_i64(cl, 0, INT64_MAX, &len) == 0 && (uint64_t)len > rq->body.max) {
			rq->too_large = 1;
			if ((uint64_t)len > SIM_DRAIN_MAX)
				return serve(s, c, rq);
		}
		return MHD_YES;
	}
	if (*upload_size) {
		if (!rq->too_large && buf_append(&rq->body, upload, *upload_size) < 0)
			rq->too_large = 1;
		if (rq->too_large) {
			rq->drained += *upload_size;
			if (rq->drained > SIM_DRAIN_MAX) {
				*upload_size = 0;
				return serve(s, c, rq);
			}
		}
		*upload_size = 0;
		return MHD_YES;
	}
	return serve(s, c, rq);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
		    enum MHD_RequestTerminationCode toe)
{
	struct sim_req *rq = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (rq) {
		sim_req_free(rq);
		free(rq);
	}
	*con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	/* a timeout fault closes its connection on purpose */
	if (strstr(msg, "Application reported internal error"))
		return;
	log_warn("sim server", "detail=\"%s\"", msg);
}

static void sim_free(struct sim *s)
{
	for (size_t i = 0; i < s->nbases; i++)
		sim_base_free(s->bases[i]);
	sim_notion_free(&s->notion);
	sim_iters_free(&s->iters);
	sim_traffic_free(&s->traffic);
	sim_openrouter_free(&s->openrouter);
	free(s->api_key);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

struct sim *sim_start(const struct sim_opts *o, serr *e)
{
	struct sim *s = calloc(1, sizeof(*s));
	const union MHD_DaemonInfo *info;
	struct sockaddr_in sa;
	pthread_condattr_t ca;

	if (!s) {
		serr_set(e, "out of memory");
		return NULL;
	}
	s->o = *o;
	if (!o->api_key || !*o->api_key || o->airtable_rate <= 0 || o->notion_rate <= 0 ||
	    o->port < 0 || o->port > 65535 || o->penalty_ms < 0 || o->offset_ttl_ms <= 0 ||
	    o->attachment_ttl_ms <= 0) {
		free(s);
		serr_set(e, "invalid simulator options: an api key, positive rates and ttls and a "
			    "port in 0..65535 are required");
		return NULL;
	}
	if (s->o.max_body <= 0)
		s->o.max_body = DEFAULT_MAX_BODY;
	s->api_key = xstrdup(o->api_key);
	s->o.api_key = NULL;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &ca);
	pthread_condattr_destroy(&ca);
	rand_hex(s->secret, 32);
	sim_notion_init(&s->notion);
	sim_iters_init(&s->iters);
	if (!s->api_key || sim_traffic_init(&s->traffic) < 0 ||
	    sim_openrouter_init(&s->openrouter) < 0) {
		sim_free(s);
		serr_set(e, "out of memory");
		return NULL;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)o->port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->d = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
			MHD_USE_ERROR_LOG,
		(uint16_t)o->port, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
		s, MHD_OPTION_SOCK_ADDR, &sa,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_NOTIFY_COMPLETED, on_done, s,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024),
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)120, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned int)512, MHD_OPTION_END);
	if (!s->d) {
		serr_set(e, "cannot listen on 127.0.0.1:%d (in use, or not permitted); pick another "
			    "port with --port",
			 o->port);
		sim_free(s);
		return NULL;
	}
	info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%u",
		 info ? (unsigned)info->port : (unsigned)o->port);
	return s;
}

void sim_stop(struct sim *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = 1;
	pthread_cond_broadcast(&s->wake);
	pthread_mutex_unlock(&s->lock);
	if (s->d)
		MHD_stop_daemon(s->d);
	sim_free(s);
}

/* Forget the iterators of a replaced base: its record ids are gone. */
static void drop_iters_of(struct sim_iters *it, const char *base)
{
	for (size_t i = 0; i < it->n;) {
		if (strcmp(it->v[i].base, base) == 0) {
			json_decref(it->v[i].ids);
			it->v[i] = it->v[--it->n];
		} else {
			i++;
		}
	}
}

int sim_load_base(struct sim *s, const json_t *base, serr *e)
{
	struct sim_base *b;
	struct sim_notion pages;
	json_t *notion = json_object_get(base, "notion");
	size_t i;
	int rc = -1;

	sim_notion_init(&pages);
	b = sim_base_load(base, e);
	if (!b)
		return -1;
	if (notion && sim_notion_parse(notion, &pages, e) < 0) {
		serr_wrap(e, "base '%s': notion", b->id);
		sim_base_free(b);
		return -1;
	}
	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->nbases; i++)
		if (strcmp(s->bases[i]->id, b->id) == 0)
			break;
	if (i == s->nbases && s->nbases == SIM_MAX_BASES) {
		serr_set(e, "at most %d bases can be loaded", SIM_MAX_BASES);
		sim_base_free(b);
		goto out;
	}
	if (sim_notion_merge(&s->notion, &pages, e) < 0) {
		sim_base_free(b);
		goto out;
	}
	drop_iters_of(&s->iters, b->id);
	if (i < s->nbases)
		sim_base_free(s->bases[i]);
	else
		s->nbases++;
	s->bases[i] = b;
	rc = 0;
out:
	pthread_mutex_unlock(&s->lock);
	sim_notion_free(&pages);
	return rc;
}

json_t *sim_dump_base(struct sim *s, const char *base_id)
{
	struct sim_base *b;
	struct sim_signer sg;
	json_t *out = NULL;

	pthread_mutex_lock(&s->lock);
	b = sim_find_base(s, base_id);
	if (b) {
		sim_signer_now(s, &sg);
		out = sim_base_dump(b, &sg);
	}
	pthread_mutex_unlock(&s->lock);
	return out;
}

static int find_table(struct sim *s, const char *base, const char *table, struct sim_base **b,
		      struct sim_table **t, serr *e)
{
	*b = sim_find_base(s, base);
	if (!*b)
		return serr_set(e, "unknown base '%s'", base);
	*t = sim_base_table(*b, table);
	if (!*t)
		return serr_set(e, "base '%s' has no table '%s'", base, table);
	return 0;
}

int sim_edit_record(struct sim *s, const char *base, const char *table, const char *record_id,
		    const json_t *fields, serr *e)
{
	struct sim_base *b;
	struct sim_table *t;
	struct sim_wrec w = { .id = record_id, .fields = fields };
	struct sim_wresult res;
	struct sim_aterr ae;
	int rc = -1;

	sim_wresult_init(&res);
	pthread_mutex_lock(&s->lock);
	if (find_table(s, base, table, &b, &t, e) < 0)
		goto out;
	if (!sim_table_record(t, record_id, NULL)) {
		serr_set(e, "table '%s' has no record '%s'", t->name, record_id);
		goto out;
	}
	if (sim_table_write(b, t, SIM_W_PATCH, &w, 1, 0, NULL, now_ms(), &res, &ae) < 0) {
		serr_set(e, "cannot edit record '%s' of '%s': %s: %s", record_id, t->name, ae.type,
			 ae.msg);
		goto out;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&s->lock);
	sim_wresult_free(&res);
	return rc;
}

int sim_create_record(struct sim *s, const char *base, const char *table, const json_t *fields,
		      char *id_out, serr *e)
{
	struct sim_base *b;
	struct sim_table *t;
	struct sim_wrec w = { .id = NULL, .fields = fields };
	struct sim_wresult res;
	struct sim_aterr ae;
	int rc = -1;

	sim_wresult_init(&res);
	pthread_mutex_lock(&s->lock);
	if (find_table(s, base, table, &b, &t, e) < 0)
		goto out;
	if (sim_table_write(b, t, SIM_W_CREATE, &w, 1, 0, NULL, now_ms(), &res, &ae) < 0) {
		serr_set(e, "cannot create a record in '%s': %s: %s", t->name, ae.type, ae.msg);
		goto out;
	}
	snprintf(id_out, SIM_ID_MAX, "%s", json_string_value(json_array_get(res.ids, 0)));
	rc = 0;
out:
	pthread_mutex_unlock(&s->lock);
	sim_wresult_free(&res);
	return rc;
}

int sim_delete_record(struct sim *s, const char *base, const char *table, const char *record_id,
		      serr *e)
{
	struct sim_base *b;
	struct sim_table *t;
	struct sim_aterr ae;
	int rc = -1;

	pthread_mutex_lock(&s->lock);
	if (find_table(s, base, table, &b, &t, e) < 0)
		goto out;
	if (sim_table_delete(b, t, &record_id, 1, now_ms(), &ae) < 0) {
		serr_set(e, "cannot delete record '%s' of '%s': %s", record_id, t->name, ae.msg);
		goto out;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int sim_add_fault(struct sim *s, const struct sim_fault *f, serr *e)
{
	int rc;

	pthread_mutex_lock(&s->lock);
	if (f->kind == SIM_FAULT_EXPIRE_OFFSETS)
		sim_iters_clear(&s->iters);
	rc = sim_traffic_add_fault(&s->traffic, f, e);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

json_t *sim_requests(struct sim *s)
{
	json_t *out;

	pthread_mutex_lock(&s->lock);
	out = json_deep_copy(s->traffic.log);
	pthread_mutex_unlock(&s->lock);
	return out;
}

void sim_requests_clear(struct sim *s)
{
	pthread_mutex_lock(&s->lock);
	json_array_clear(s->traffic.log);
	s->traffic.log_dropped = 0;
	pthread_mutex_unlock(&s->lock);
}

json_t *sim_stats(struct sim *s)
{
	json_t *out;

	pthread_mutex_lock(&s->lock);
	out = sim_traffic_stats(&s->traffic);
	pthread_mutex_unlock(&s->lock);
	if (out && json_object_set_new(out, "openrouter", sim_openrouter_stats(&s->openrouter)) < 0) {
		json_decref(out);
		out = NULL;
	}
	return out;
}

json_t *sim_llm_requests(struct sim *s)
{
	return sim_openrouter_recent(&s->openrouter);
}

void sim_stats_reset(struct sim *s)
{
	pthread_mutex_lock(&s->lock);
	sim_traffic_reset_stats(&s->traffic);
	pthread_mutex_unlock(&s->lock);
	sim_openrouter_reset_stats(&s->openrouter);
}

json_t *sim_config_json(struct sim *s)
{
	json_t *o;
	int llm_latency = sim_openrouter_latency(&s->openrouter);

	pthread_mutex_lock(&s->lock);
	o = json_pack("{s:i, s:f, s:i, s:i, s:f, s:f, s:i, s:i}", "llm_latency_ms", llm_latency,
		      "penalty_ms", s->o.penalty_ms,
		      "airtable_rate", s->o.airtable_rate, "offset_ttl_ms", s->o.offset_ttl_ms,
		      "attachment_ttl_ms", s->o.attachment_ttl_ms, "notion_rate", s->o.notion_rate,
		      "notion_burst", s->o.notion_burst > 0 ? s->o.notion_burst : s->o.notion_rate,
		      "max_body", s->o.max_body);
	pthread_mutex_unlock(&s->lock);
	return o;
}

/* A numeric member within [min, max], or the current value when absent. */
static int num_member(const json_t *j, const char *key, double min, double max, double *out,
		      serr *e)
{
	json_t *v = json_object_get(j, key);

	if (!v)
		return 0;
	if (!json_is_number(v) || json_number_value(v) < min || json_number_value(v) > max)
		return serr_set(e, "'%s' must be a number in %g..%g", key, min, max);
	*out = json_number_value(v);
	return 0;
}

int sim_configure(struct sim *s, const json_t *cfg, serr *e)
{
	double penalty, rate, ttl, att_ttl, nrate, nburst, llm_latency;
	const char *key;
	json_t *v;
	int rc = -1;

	if (!json_is_object(cfg))
		return serr_set(e, "the configuration must be a JSON object");
	json_object_foreach((json_t *)cfg, key, v) {
		static const char *known[] = { "penalty_ms", "airtable_rate", "offset_ttl_ms",
					       "attachment_ttl_ms", "notion_rate", "notion_burst",
					       "llm_latency_ms" };
		int ok = 0;
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strcmp(key, known[i]) == 0)
				ok = 1;
		if (!ok)
			return serr_set(e, "unknown configuration key '%s'", key);
	}
	pthread_mutex_lock(&s->lock);
	penalty = s->o.penalty_ms;
	rate = s->o.airtable_rate;
	ttl = s->o.offset_ttl_ms;
	att_ttl = s->o.attachment_ttl_ms;
	nrate = s->o.notion_rate;
	nburst = s->o.notion_burst;
	llm_latency = sim_openrouter_latency(&s->openrouter);
	if (num_member(cfg, "penalty_ms", 0, 3600000, &penalty, e) < 0 ||
	    num_member(cfg, "airtable_rate", 0.1, 100000, &rate, e) < 0 ||
	    num_member(cfg, "offset_ttl_ms", 1, 86400000, &ttl, e) < 0 ||
	    num_member(cfg, "attachment_ttl_ms", 1, 86400000 * 7.0, &att_ttl, e) < 0 ||
	    num_member(cfg, "notion_rate", 0.1, 100000, &nrate, e) < 0 ||
	    num_member(cfg, "notion_burst", 0, 100000, &nburst, e) < 0 ||
	    num_member(cfg, "llm_latency_ms", 0, 600000, &llm_latency, e) < 0)
		goto out;
	sim_openrouter_set_latency(&s->openrouter, (int)llm_latency);
	s->o.penalty_ms = (int)penalty;
	s->o.airtable_rate = rate;
	s->o.offset_ttl_ms = (int)ttl;
	s->o.attachment_ttl_ms = (int)att_ttl;
	s->o.notion_rate = nrate;
	s->o.notion_burst = nburst;
	s->traffic.notion_tokens = -1;
	sim_traffic_clear_penalties(&s->traffic);
	rc = 0;
out:
	pthread_mutex_unlock(&s->lock);
	return rc;
}
