/*
 * The JSON API under /api/v1/: batch receipts for vans (signed request
 * header), and for staff (bearer token) the RETAS workflow, reports and
 * card issuance. Every answer is JSON (reports also CSV and PDF); every
 * error is {"error": reason, "message": sentence} with its HTTP status.
 */
#pragma once

#include "hq-server.h"

/* Called once the request body is complete (r->body, r->body_len). */
enum MHD_Result hq_api_handle(struct hq_req *r);
