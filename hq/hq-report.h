/*
 * Reports per surat tugas: head office recomputes every count from the
 * records it holds and puts them beside the van's draft report (the latest
 * one a batch carried), flagging each difference; adds the quarantine, the
 * van's sequence anomalies, the workflow timings (SOP RETAS) and the
 * issuance progress (SOP KTP-el). The JSON model is the report; CSV and PDF
 * are renderings of it.
 */
#pragma once

#include <json-c/json.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "hq-ctx.h"
#include "retas-error.h"

struct hq_report_filter {
	const char *from;      /* YYYY-MM-DD or NULL */
	const char *to;	       /* YYYY-MM-DD or NULL, inclusive */
	const char *npsn;      /* 8 digits or NULL */
	const char *kecamatan; /* 6 digits or NULL */
};

enum hq_report_format {
	HQ_REPORT_JSON,
	HQ_REPORT_CSV,
	HQ_REPORT_PDF,
};

int hq_report_format_parse(const char *s, enum hq_report_format *out);
const char *hq_report_content_type(enum hq_report_format f);

/* The report of one surat tugas. -ENOENT (report.unknown) when neither the
 * workflow nor any record knows nomor. */
int hq_report_get(const struct hq_ctx *ctx, sqlite3 *db, const char *nomor, int64_t now_ms,
		  json_object **out, struct retas_error *err);
/* {"reports": [summary, ...]} for every surat tugas matching f. -EINVAL
 * (report.filter) for a malformed filter. */
int hq_report_list(const struct hq_ctx *ctx, sqlite3 *db, const struct hq_report_filter *f,
		   int64_t now_ms, json_object **out, struct retas_error *err);

/* Renders a report (is_list: the list's model) as format; *out is a new
 * buffer (JSON and CSV NUL-terminated). */
int hq_report_render(json_object *report, int is_list, enum hq_report_format format, uint8_t **out,
		     size_t *len);

/* Releases what cairo and fontconfig keep for the process's lifetime, so
 * leak checkers see a clean exit. Call once, at exit, when no rendering is
 * running. */
void hq_render_cleanup(void);
