/*
 * Batch ingest: everything that happens once the last byte of a batch is
 * in, whether it came over tus or from removable media. The batch file
 * (sync/sync-batch.h) is parsed, its manifest verified against the van's
 * registered key, every record checked (size, SHA-256, signature, the
 * van's sequence and hash chain) and opened with the seal key, and the
 * whole stored in one transaction together with the signed receipt.
 */
#pragma once

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "hq-auth.h"
#include "hq-ctx.h"
#include "retas-error.h"

struct hq_ingest_result {
	char batch_id[37];
	char van_id[64];
	size_t stored, already, quarantined, anomalies;
	char *receipt; /* the receipt JWS, owned */
};

/*
 * Ingests the batch in buf. van is the authenticated uploader, or NULL when
 * the batch comes from removable media (the manifest's device id then names
 * the van, whose registered key must verify it). source is stored with the
 * receipt ("tus", "import").
 *
 * A batch that cannot be trusted as a whole (framing, manifest signature or
 * fields, another van's manifest, a record count that disagrees) is refused
 * with -EBADMSG (or -EPERM for an unregistered van) and nothing is stored.
 * Records that fail their own checks are quarantined with a reason; that is
 * a success for the batch. Store failures are -EIO/-EBUSY/-ENOSPC and leave
 * nothing behind either.
 */
int hq_ingest_batch(const struct hq_ctx *ctx, sqlite3 *db, const uint8_t *buf, size_t len,
		    const struct hq_van *van, const char *source, int64_t now_ms,
		    struct hq_ingest_result *res, struct retas_error *err);
/* The same for a batch that came over tus: the upload upload_id is marked
 * ingested (with the batch id) in the batch's own transaction. */
int hq_ingest_upload(const struct hq_ctx *ctx, sqlite3 *db, const uint8_t *buf, size_t len,
		     const struct hq_van *van, const char *source, const char *upload_id,
		     int64_t now_ms, struct hq_ingest_result *res, struct retas_error *err);
void hq_ingest_result_clear(struct hq_ingest_result *res);

/* The latest receipt JWS for batch_id when it belongs to van_id (NULL: any
 * van). -ENOENT otherwise. *out is a new string. */
int hq_ingest_receipt(sqlite3 *db, const char *batch_id, const char *van_id, char **out);
