/*
 * The Draft Laporan RETAS as a printable PDF (A4 portrait, Indonesian, the
 * Dinas letterhead and page numbers on every page, tables that continue
 * across pages with their header repeated, a signature block for the
 * petugas). Part of the retas-render library (cairo).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "retas-error.h"
#include "retas-report.h"

/*
 * Renders r. *out is a new buffer of *len bytes the caller frees; *pages,
 * when not NULL, receives the page count. The output depends only on r
 * (the PDF's creation date is the session's). Errors: report.render (cairo
 * failed), report.memory.
 */
int retas_report_pdf(const struct retas_report *r, uint8_t **out, size_t *len, int *pages,
		     struct retas_error *err);
