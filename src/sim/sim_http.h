/*
 * One HTTP exchange of the simulator as its handlers see it: the raw
 * request target split into decoded path segments and query pairs, the
 * capped body, and a response being built (JSON or bytes), with the error
 * shapes of Airtable ({"error":{"type","message"}}) and Notion
 * ({"object":"error","status","code","message"}).
 */
#ifndef SCOUT_SIM_SIM_HTTP_H
#define SCOUT_SIM_SIM_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/buf.h"
#include "sim/sim_base.h"

#define SIM_MAX_SEGS 16

enum sim_api {
	SIM_API_NONE = 0,
	SIM_API_AIRTABLE,
	SIM_API_NOTION,
	SIM_API_ATTACHMENT,
	SIM_API_CONTROL,
	SIM_API_OPENROUTER
};

struct sim_req {
	char *raw;		/* request target as received: path?query */
	size_t raw_len;
	char method[16];
	char *path;		/* decoded path */
	char *segs[SIM_MAX_SEGS]; /* decoded segments of the path */
	size_t nsegs;
	json_t *query;		/* [[key, value], ...] decoded, in order */
	struct buf body;
	int too_large;		/* body passed the cap */
	uint64_t drained;	/* bytes of a refused body read and dropped */
	int started;
	int answered;		/* a response was queued */
	int64_t start_ms;	/* wall clock at arrival */
	int64_t start_mono;
	char *auth;		/* Authorization header, or NULL */
	char *notion_version;	/* Notion-Version header, or NULL */
	enum sim_api api;
	char base[SIM_ID_MAX];	/* the Airtable base of the request, if any */
	char fault[32];		/* the fault applied, if any */
};

struct sim_resp {
	int status;		/* 0 = close the connection without answering */
	struct buf body;
	char content_type[128];
	int retry_after;	/* seconds, -1 for none */
	char *disposition;	/* Content-Disposition, for attachments */
};

/* Parse the raw target into path segments and query pairs. */
int sim_req_init(struct sim_req *rq, const char *raw, size_t max_body, serr *e) SCOUT_MUST;
void sim_req_free(struct sim_req *rq);

/* The first value of a query key, or NULL. */
const char *sim_q_get(const struct sim_req *rq, const char *key);
/* Query pairs as an object: key -> value, or key -> [values] when repeated (new reference). */
json_t *sim_q_object(const struct sim_req *rq);

void sim_resp_init(struct sim_resp *rs);
void sim_resp_free(struct sim_resp *rs);
/* Serialize j (reference stolen) as the body. */
void sim_resp_json(struct sim_resp *rs, int status, json_t *j);
void sim_resp_airtable(struct sim_resp *rs, int status, const char *type, const char *msg);
void sim_resp_aterr(struct sim_resp *rs, const struct sim_aterr *ae);
/* The route does not exist: Airtable answers a bare {"error":"NOT_FOUND"}. */
void sim_resp_not_found(struct sim_resp *rs);
void sim_resp_notion(struct sim_resp *rs, int status, const char *code, const char *fmt, ...)
	SCOUT_PRINTF(4, 5);
/* Control API errors: {"error": "message"}. */
void sim_resp_ctl_error(struct sim_resp *rs, int status, const char *fmt, ...) SCOUT_PRINTF(3, 4);

/* Parse the body as JSON (*out NULL when empty); -1 with the response filled when invalid. */
int sim_req_json(struct sim_req *rq, struct sim_resp *rs, json_t **out) SCOUT_MUST;

#endif
