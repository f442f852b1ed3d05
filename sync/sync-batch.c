/*
 * Batch framing. Bounds come from the core library's own limits so that a
 * frame cannot announce more than the next step would accept anyway, and a
 * hostile length is refused before anything is allocated for it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "retas-i18n.h"
#include "retas-jws.h"
#include "retas-manifest.h"
#include "retas-record.h"
#include "sync-batch.h"

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

void sync_batch_free(struct sync_batch *b)
{
	if (!b)
		return;
	free(b->records);
	free(b);
}

int sync_batch_parse(const uint8_t *buf, size_t len, struct sync_batch **out,
		     struct retas_error *err)
{
	struct sync_batch *b = NULL;
	size_t pos = 0;
	uint32_t mlen, count;
	int r;

	if (len < SYNC_BATCH_MAGIC_LEN || memcmp(buf, SYNC_BATCH_MAGIC, SYNC_BATCH_MAGIC_LEN) != 0)
		return retas_error_set(err, -EBADMSG, "batch.magic",
				       N_("this is not a RETAS batch file"));
	pos = SYNC_BATCH_MAGIC_LEN;
	if (len - pos < 4)
		goto truncated;
	mlen = get_u32(buf + pos);
	pos += 4;
	if (mlen == 0 || mlen > RETAS_JWS_MAX_LEN)
		return retas_error_set(err, -EBADMSG, "batch.manifest",
				       N_("the batch's manifest length %u is out of bounds"), mlen);
	if (len - pos < mlen)
		goto truncated;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->manifest = (const char *)buf + pos;
	b->manifest_len = mlen;
	pos += mlen;
	if (len - pos < 4)
		goto truncated;
	count = get_u32(buf + pos);
	pos += 4;
	if (count > RETAS_MANIFEST_MAX_RECORDS || (size_t)count > (len - pos) / 4) {
		r = retas_error_set(err, -EBADMSG, "batch.count",
				    N_("the batch announces %u records, more than it can hold"),
				    count);
		goto fail;
	}
	if (count) {
		b->records = calloc(count, sizeof(*b->records));
		if (!b->records) {
			r = -ENOMEM;
			goto fail;
		}
	}
	for (uint32_t i = 0; i < count; i++) {
		uint32_t rlen;

		if (len - pos < 4)
			goto truncated;
		rlen = get_u32(buf + pos);
		pos += 4;
		if (rlen == 0 || rlen > RETAS_RECORD_MAX_LEN) {
			r = retas_error_set(
			    err, -EBADMSG, "batch.record",
			    N_("record %u of the batch has an impossible length %u"), i + 1, rlen);
			goto fail;
		}
		if (len - pos < rlen)
			goto truncated;
		b->records[i].data = buf + pos;
		b->records[i].len = rlen;
		pos += rlen;
		b->n_records++;
	}
	if (pos != len) {
		r = retas_error_set(err, -EBADMSG, "batch.trailing",
				    N_("the batch has %zu bytes after its last record"), len - pos);
		goto fail;
	}
	*out = b;
	return 0;
truncated:
	r = retas_error_set(err, -EBADMSG, "batch.truncated", N_("the batch file is truncated"));
fail:
	sync_batch_free(b);
	return r;
}

size_t sync_batch_size(size_t manifest_len, const size_t *lens, size_t n)
{
	size_t total = SYNC_BATCH_MAGIC_LEN + 4 + manifest_len + 4;

	if (manifest_len == 0 || manifest_len > RETAS_JWS_MAX_LEN || n > RETAS_MANIFEST_MAX_RECORDS)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (lens[i] == 0 || lens[i] > RETAS_RECORD_MAX_LEN)
			return 0;
		total += 4 + lens[i];
	}
	return total;
}

int sync_batch_encode(const char *manifest, size_t manifest_len, const uint8_t *const *records,
		      const size_t *lens, size_t n, uint8_t **out, size_t *outlen)
{
	size_t total = sync_batch_size(manifest_len, lens, n), pos = 0;
	uint8_t *buf;

	if (!total)
		return -EINVAL;
	buf = malloc(total);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, SYNC_BATCH_MAGIC, SYNC_BATCH_MAGIC_LEN);
	pos = SYNC_BATCH_MAGIC_LEN;
	put_u32(buf + pos, (uint32_t)manifest_len);
	pos += 4;
	memcpy(buf + pos, manifest, manifest_len);
	pos += manifest_len;
	put_u32(buf + pos, (uint32_t)n);
	pos += 4;
	for (size_t i = 0; i < n; i++) {
		put_u32(buf + pos, (uint32_t)lens[i]);
		pos += 4;
		memcpy(buf + pos, records[i], lens[i]);
		pos += lens[i];
	}
	*out = buf;
	*outlen = total;
	return 0;
}
