/* Tests of attachment download (against the in-process simulator on 127.0.0.1): cap, expiry, extraction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/http.h"
#include "pdf/fetch.h"
#include "pdf/pdf.h"
#include "sim/generate.h"
#include "support/harness_sim.h"

#define BASE "appFetchTest00001"

struct fixture {
	struct sim *sim;
	struct http_client http;
	char url[2048];	    /* a CV link as the API hands it out */
	char name[128];	    /* whose CV */
	size_t cv_bytes;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct harness_sim_reply rep;
	struct sample_opts o;
	json_t *base, *recs, *r;
	size_t i;
	serr e;

	if (!f)
		return -1;
	f->sim = harness_sim_start(NULL);
	if (!f->sim || http_client_init(&f->http, &e) < 0)
		return -1;
	sample_opts_init(&o);
	o.seed = 77;
	o.candidates = 12;
	o.jobs = 1;
	o.oversized_bytes = 0;
	o.base_id = BASE;
	base = sample_generate(&o, &e);
	if (!base || sim_load_base(f->sim, base, &e) < 0) {
		fprintf(stderr, "setup: %s\n", e.msg);
		return -1;
	}
	json_decref(base);
	if (harness_sim_airtable(f->sim, "GET", "/v0/" BASE "/Talent?pageSize=100", NULL, &rep) < 0 ||
	    rep.status != 200)
		return -1;
	recs = json_object_get(rep.json, "records");
	json_array_foreach(recs, i, r) {
		json_t *fl = json_object_get(r, "fields");
		json_t *att = json_array_get(json_object_get(fl, "CV"), 0);
		const char *fn = json_string_value(json_object_get(att, "filename"));
		if (!att || !strstr(fn, "_CV.pdf"))
			continue;
		snprintf(f->url, sizeof(f->url), "%s", json_string_value(json_object_get(att, "url")));
		snprintf(f->name, sizeof(f->name), "%s",
			 json_string_value(json_object_get(fl, "Full Name")));
		f->cv_bytes = (size_t)json_integer_value(json_object_get(att, "size"));
		break;
	}
	harness_sim_reply_free(&rep);
	if (!f->url[0])
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	http_client_free(&f->http);
	harness_sim_stop(f->sim);
	free(f);
	return 0;
}

static void attachment_downloads_and_extracts(void **state)
{
	struct fixture *f = *state;
	struct buf pdf, text;
	struct config cfg;
	enum pdf_status st;
	serr e;

	buf_init(&pdf, 0);
	buf_init(&text, 0);
	assert_int_equal(config_init(&cfg, &e), 0);
	if (pdf_fetch(&f->http, f->url, (size_t)20 * 1024 * 1024, &pdf, &e) != 0)
		fail_msg("%s", e.msg);
	assert_int_equal(pdf.len, f->cv_bytes);
	assert_int_equal(pdf_extract_text(&cfg, pdf.data, pdf.len, &text, &st, &e), 0);
	assert_non_null(strstr(text.data, f->name));
	config_free(&cfg);
	buf_free(&pdf);
	buf_free(&text);
}

static void attachment_over_the_cap_is_refused(void **state)
{
	struct fixture *f = *state;
	struct buf pdf;
	serr e;

	buf_init(&pdf, 0);
	assert_int_equal(pdf_fetch(&f->http, f->url, f->cv_bytes - 1, &pdf, &e), PDF_FETCH_TOO_LARGE);
	assert_int_equal(pdf.overflow, 1);
	assert_non_null(strstr(e.msg, "larger than"));
	assert_null(strchr(e.msg, '?'));
	buf_free(&pdf);
	buf_reset(&pdf);
	/* exactly the cap is fine */
	assert_int_equal(pdf_fetch(&f->http, f->url, f->cv_bytes, &pdf, &e), 0);
	buf_free(&pdf);
}

static void tampered_link_is_refused_without_leaking_its_signature(void **state)
{
	struct fixture *f = *state;
	char bad[2100];
	char *sig;
	struct buf pdf;
	serr e;

	buf_init(&pdf, 0);
	snprintf(bad, sizeof(bad), "%s", f->url);
	sig = strstr(bad, "sig=");
	assert_non_null(sig);
	sig[4] = sig[4] == 'a' ? 'b' : 'a';
	assert_int_equal(pdf_fetch(&f->http, bad, 1024 * 1024, &pdf, &e), -1);
	assert_non_null(strstr(e.msg, "list the record again"));
	assert_null(strstr(e.msg, "sig="));
	assert_int_equal(pdf.len, 0);
	buf_free(&pdf);
}

static void non_http_links_are_refused(void **state)
{
	struct fixture *f = *state;
	struct buf pdf;
	serr e;

	buf_init(&pdf, 0);
	assert_int_equal(pdf_fetch(&f->http, "file:///etc/passwd", 1024, &pdf, &e), -1);
	assert_non_null(strstr(e.msg, "not an http(s) url"));
	assert_int_equal(pdf_fetch(&f->http, NULL, 1024, &pdf, &e), -1);
	buf_free(&pdf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(attachment_downloads_and_extracts, setup, teardown),
		cmocka_unit_test_setup_teardown(attachment_over_the_cap_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(tampered_link_is_refused_without_leaking_its_signature, setup, teardown),
		cmocka_unit_test_setup_teardown(non_http_links_are_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
