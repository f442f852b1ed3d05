/*
 * The batch file (docs/sync-protocol.md, "Batch file"): what a van uploads
 * over tus or writes to removable media. A small framing around the signed
 * manifest JWS and the sealed records it lists, in manifest order:
 *
 *   "RETASBT1"                      8 bytes, magic and version
 *   u32 manifest length, manifest   the JWS compact serialization (ASCII)
 *   u32 record count
 *   count x (u32 length, record)    sealed records (lib/retas-record.h)
 *
 * All integers little-endian, as in docs/record-format.md; nothing may
 * follow the last record. Only the framing is checked here; the
 * manifest's signature and the records are the reader's next steps.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "retas-error.h"

#define SYNC_BATCH_MAGIC "RETASBT1"
#define SYNC_BATCH_MAGIC_LEN 8
/* The file name extension used on removable media. */
#define SYNC_BATCH_EXT ".retas-batch"

struct sync_batch_record {
	const uint8_t *data; /* borrowed from the parsed buffer */
	size_t len;
};

struct sync_batch {
	const char *manifest; /* borrowed, not NUL-terminated */
	size_t manifest_len;
	struct sync_batch_record *records;
	size_t n_records;
};

/* Parses buf (len bytes). The result borrows from buf. Errors: -EBADMSG
 * with reason batch.magic, batch.truncated, batch.manifest, batch.count,
 * batch.record, batch.trailing. */
int sync_batch_parse(const uint8_t *buf, size_t len, struct sync_batch **out,
		     struct retas_error *err);
void sync_batch_free(struct sync_batch *b);

/* The encoded size of a batch, or 0 when a part is out of bounds. */
size_t sync_batch_size(size_t manifest_len, const size_t *lens, size_t n);
/* Encodes a batch into a new buffer (caller frees). -EINVAL when a part is
 * out of bounds (empty or oversize manifest or record, too many records). */
int sync_batch_encode(const char *manifest, size_t manifest_len, const uint8_t *const *records,
		      const size_t *lens, size_t n, uint8_t **out, size_t *outlen);
