/*
 * A head-office directory: its configuration (retas-hq.conf, INI), its keys
 * (keys/: the X25519 seal key pair that records are sealed to, the Ed25519
 * signing key pair that signs surat tugas and receipts), the SQLite store
 * (hq.db) and the tus staging directory. Every command and the server open
 * the same directory through hq_ctx_open.
 */
#pragma once

#include <stdint.h>

#include "retas-error.h"
#include "retas-keys.h"
#include "retas-regions.h"

#define HQ_CONFIG_FILE "retas-hq.conf"
#define HQ_DB_FILE "hq.db"
#define HQ_STAGING_DIR "staging"
#define HQ_KEYS_DIR "keys"

struct hq_config {
	char *listen;		    /* server.listen, HOST:PORT */
	unsigned threads;	    /* server.threads, the thread pool size */
	char *tls_cert;		    /* server.tls_cert (PEM path) or NULL */
	char *tls_key;		    /* server.tls_key or NULL */
	char *public_url;	    /* server.public_url: what surat tugas name as hq.url */
	unsigned request_timeout_s; /* server.request_timeout: idle connection cut-off */
	uint64_t max_upload;	    /* upload.max_size: Tus-Max-Size in bytes */
	int64_t clock_skew_ms;	    /* upload.clock_skew: accepted |now - signed time| */
	uint64_t max_json;	    /* server.max_body: largest JSON request body */
	char *jabatan;		    /* surat_tugas.jabatan of the signer */
	int min_age;		    /* surat_tugas.min_age */
};

struct hq_ctx {
	char *dir;
	char *db_path;
	char *staging_dir;
	struct hq_config cfg;
	struct retas_box_keypair seal;
	struct retas_sign_keypair sign;
	char sign_kid[17];
	struct retas_regions *regions; /* kode wilayah, to check kecamatan */
};

/* Creates DIR (when missing) with keys, configuration, staging directory and
 * store. Refuses (-EEXIST, reason hq.exists) a directory that already holds
 * a configuration. */
int hq_ctx_init_dir(const char *dir, struct retas_error *err);

/* Opens an initialised directory: reads and validates the configuration,
 * loads the keys (never creating them) and applies pending store
 * migrations. The caller frees *out with hq_ctx_free. */
int hq_ctx_open(const char *dir, struct hq_ctx **out, struct retas_error *err);
void hq_ctx_free(struct hq_ctx *ctx);

/* Parses configuration text (the file's content) into cfg, defaults first.
 * Unknown sections and keys are errors naming the line (hq.config). */
int hq_config_parse(const char *text, struct hq_config *cfg, struct retas_error *err);
void hq_config_clear(struct hq_config *cfg);

#include "retas-util.h"
RETAS_DEFINE_CLEANUP(struct hq_ctx, hq_ctx_free)
