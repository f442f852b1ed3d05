/*
 * retasd's configuration: /etc/retas/retasd.conf (INI, parsed with libinih),
 * then --set SECTION.KEY=VALUE overrides, then --state-dir and --socket.
 * Every key is declared once in a table with its type and range, so the
 * file, the overrides and --check-config validate the same way and every
 * error names the key it is about.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "retas-error.h"

#define RD_DEFAULT_STATE_DIR "/var/lib/retas"
#define RD_DEFAULT_SOCKET "/run/retas/retasd.sock"

struct rd_config {
	char *state_dir;   /* daemon.state_dir */
	char *socket_path; /* daemon.socket */
	char *log_level;   /* daemon.log_level, NULL: leave as is */

	bool have_hq_sign_key;
	uint8_t hq_sign_key[32]; /* hq.sign_key: trusted surat tugas signer */
	char *hq_url;		 /* hq.url */

	int64_t login_max_failures; /* login.max_failures: wrong PINs before a lockout */
	int64_t login_lockout_s;    /* login.lockout: seconds a NIP stays locked */
	int64_t login_idle_s;	    /* login.idle_timeout: idle seconds before logout, 0 never */

	int64_t clock_offset_s; /* clock.offset: added to the system clock */

	int64_t store_busy_timeout_ms; /* store.busy_timeout */
	int64_t preflight_min_free_mb; /* preflight.min_free_mb */

	char *api_group;	     /* api.group: socket group, when it exists */
	int64_t api_max_connections; /* api.max_connections */
	int64_t api_max_connections_per_uid; /* api.max_connections_per_uid */
	int64_t api_message_timeout_ms;	     /* api.message_timeout: 0 no limit */

	char *fingerprint_device; /* fingerprint.device */
	char *camera_model;	  /* camera.model */
	char *camera_port;	  /* camera.port */
	char *signature_device;	  /* signature.device */
	int64_t fingerprint_quality;   /* fingerprint.quality_threshold: 0-100 */
	int64_t fingerprint_retries;   /* fingerprint.retries: presses after the first */
	int64_t fingerprint_timeout_s; /* fingerprint.timeout: one finger's whole series */

	/* [sync]: uploads to head office (daemon/sync.c) */
	char *sync_url;		      /* sync.url: HQ base URL; else hq.url, else the letter's */
	int64_t sync_auto;	      /* sync.auto: sync by itself when a network appears */
	int64_t sync_chunk_kib;	      /* sync.chunk_size: bytes per PATCH, in KiB */
	int64_t sync_batch_mib;	      /* sync.batch_size: the largest batch, in MiB */
	int64_t sync_retention_s;     /* sync.retention: seconds ciphertext stays after a receipt */
	char *sync_ca_file;	      /* sync.ca_file: PEM bundle; NULL: the system's */
	char *sync_pinned_key;	      /* sync.pinned_key: sha256//... */
	int64_t sync_backoff_base_ms; /* sync.backoff_base */
	int64_t sync_backoff_cap_ms;  /* sync.backoff_cap */
	int64_t sync_allow_http;      /* sync.allow_http: plain http:// (loopback tests only) */
};

/* What the command line said about the configuration; applied again on
 * every reload, in this order after the file. */
struct rd_options {
	const char *config_path;
	bool config_explicit; /* --config given: a missing file is an error */
	const char **sets;    /* --set SECTION.KEY=VALUE, in order */
	size_t n_sets;
	const char *state_dir;	 /* --state-dir */
	const char *socket_path; /* --socket */
};

/* Defaults, then the file, then the --set list, then --state-dir and
 * --socket. *out is new; errors name the key (or file and line). */
int rd_config_load_all(const struct rd_options *o, struct rd_config **out, struct retas_error *err);

/* A new configuration holding the defaults. */
int rd_config_new(struct rd_config **out);
void rd_config_free(struct rd_config *c);

/*
 * Sets one key ("section.key") from its text form, validating it. On error
 * err->reason is "config.unknown-key" or "config.value" and the message
 * names the key and what is wrong; c is left unchanged.
 */
int rd_config_set(struct rd_config *c, const char *key, const char *value, struct retas_error *err);
/* Parses "SECTION.KEY=VALUE" as given to --set and applies it. */
int rd_config_set_assignment(struct rd_config *c, const char *assignment, struct retas_error *err);
/*
 * Reads an INI file into c. When missing_ok and the file does not exist, c
 * is unchanged and 0 is returned. Errors name the file, the line and the
 * key; the first error wins and c may then hold the keys before it.
 */
int rd_config_load_file(struct rd_config *c, const char *path, bool missing_ok,
			struct retas_error *err);

/* Writes every key and its value in INI form (secrets are not among them). */
void rd_config_dump(const struct rd_config *c, FILE *f);
