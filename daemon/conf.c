/*
 * The configuration keys, their defaults and their validation. One table
 * describes every key; the INI reader, --set and the dump walk it, so a key
 * added here is accepted, checked and shown everywhere at once.
 */
#include <errno.h>
#include <ini.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "retas-b64.h"
#include "retas-log.h"
#include "retas-util.h"

enum key_type {
	KEY_STRING, /* any non-empty text up to 255 bytes */
	KEY_PATH,   /* an absolute path */
	KEY_INT,    /* a whole number in [min, max] */
	KEY_KEY32,  /* base64url of a 32-byte public key */
	KEY_LEVEL,  /* a log level name */
	KEY_URL,    /* an http(s):// URL up to 255 bytes */
	KEY_PIN,    /* CURLOPT_PINNEDPUBLICKEY: sha256//<base64>[;sha256//...] */
};

struct key_def {
	const char *name; /* "section.key" */
	enum key_type type;
	size_t offset;
	int64_t min, max;
	const char *unit; /* for messages about numbers */
};

#define STR(f, n, t)                                                                               \
	{                                                                                          \
		n, t, offsetof(struct rd_config, f), 0, 0, NULL                                    \
	}
#define INT(f, n, lo, hi, u)                                                                       \
	{                                                                                          \
		n, KEY_INT, offsetof(struct rd_config, f), lo, hi, u                               \
	}

static const struct key_def keys[] = {
    STR(state_dir, "daemon.state_dir", KEY_PATH),
    STR(socket_path, "daemon.socket", KEY_PATH),
    STR(log_level, "daemon.log_level", KEY_LEVEL),
    {"hq.sign_key", KEY_KEY32, offsetof(struct rd_config, hq_sign_key), 0, 0, NULL},
    STR(hq_url, "hq.url", KEY_STRING),
    INT(login_max_failures, "login.max_failures", 1, 100, "attempts"),
    INT(login_lockout_s, "login.lockout", 1, 7 * 86400, "seconds"),
    INT(login_idle_s, "login.idle_timeout", 0, 7 * 86400, "seconds"),
    INT(clock_offset_s, "clock.offset", -10LL * 365 * 86400, 10LL * 365 * 86400, "seconds"),
    INT(store_busy_timeout_ms, "store.busy_timeout", 0, 600000, "milliseconds"),
    INT(preflight_min_free_mb, "preflight.min_free_mb", 0, 1024 * 1024, "MiB"),
    STR(api_group, "api.group", KEY_STRING),
    INT(api_max_connections, "api.max_connections", 1, 4096, "connections"),
    INT(api_max_connections_per_uid, "api.max_connections_per_uid", 1, 4096, "connections"),
    INT(api_message_timeout_ms, "api.message_timeout", 0, 3600000, "milliseconds"),
    STR(fingerprint_device, "fingerprint.device", KEY_STRING),
    STR(camera_model, "camera.model", KEY_STRING),
    STR(camera_port, "camera.port", KEY_STRING),
    STR(signature_device, "signature.device", KEY_STRING),
    INT(fingerprint_quality, "fingerprint.quality_threshold", 0, 100, "points"),
    INT(fingerprint_retries, "fingerprint.retries", 0, 20, "presses"),
    INT(fingerprint_timeout_s, "fingerprint.timeout", 1, 600, "seconds"),
    STR(sync_url, "sync.url", KEY_URL),
    INT(sync_auto, "sync.auto", 0, 1, "(0 or 1)"),
    INT(sync_chunk_kib, "sync.chunk_size", 16, 64 * 1024, "KiB"),
    INT(sync_batch_mib, "sync.batch_size", 1, 1024, "MiB"),
    INT(sync_retention_s, "sync.retention", 0, 10LL * 365 * 86400, "seconds"),
    STR(sync_ca_file, "sync.ca_file", KEY_PATH),
    STR(sync_pinned_key, "sync.pinned_key", KEY_PIN),
    INT(sync_backoff_base_ms, "sync.backoff_base", 10, 3600000, "milliseconds"),
    INT(sync_backoff_cap_ms, "sync.backoff_cap", 10, 86400000, "milliseconds"),
    INT(sync_allow_http, "sync.allow_http", 0, 1, "(0 or 1)"),
};

static const struct key_def *find_key(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (streq(keys[i].name, name))
			return &keys[i];
	return NULL;
}

int rd_config_new(struct rd_config **out)
{
	struct rd_config *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->state_dir = strdup(RD_DEFAULT_STATE_DIR);
	c->socket_path = strdup(RD_DEFAULT_SOCKET);
	c->api_group = strdup("retas");
	if (!c->state_dir || !c->socket_path || !c->api_group) {
		rd_config_free(c);
		return -ENOMEM;
	}
	c->login_max_failures = 5;
	c->login_lockout_s = 300;
	c->login_idle_s = 900;
	c->store_busy_timeout_ms = 5000;
	c->preflight_min_free_mb = 512;
	c->api_max_connections = 64;
	c->api_max_connections_per_uid = 32;
	c->api_message_timeout_ms = 30000;
	c->fingerprint_quality = 40;
	c->fingerprint_retries = 2;
	c->fingerprint_timeout_s = 30;
	c->sync_auto = 1;
	c->sync_chunk_kib = 1024;
	c->sync_batch_mib = 64;
	c->sync_retention_s = 30LL * 86400;
	c->sync_backoff_base_ms = 1000;
	c->sync_backoff_cap_ms = 300000;
	*out = c;
	return 0;
}

void rd_config_free(struct rd_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (keys[i].type != KEY_INT && keys[i].type != KEY_KEY32)
			free(*(char **)((char *)c + keys[i].offset));
	free(c);
}

static int parse_int(const char *s, int64_t *out)
{
	char *end = NULL;
	long long v;

	if (!*s || strchr(" \t", *s))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || !end || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

static int set_value(struct rd_config *c, const struct key_def *k, const char *value,
		     struct retas_error *err)
{
	void *field = (char *)c + k->offset;
	char *dup;
	int64_t v;

	switch (k->type) {
	case KEY_INT:
		if (parse_int(value, &v) < 0 || v < k->min || v > k->max)
			return retas_error_set(err, -EINVAL, "config.value",
					       "%s: expected a whole number of %s from %" PRId64
					       " to %" PRId64 ", got '%s'",
					       k->name, k->unit, k->min, k->max, value);
		*(int64_t *)field = v;
		return 0;
	case KEY_KEY32: {
		uint8_t key[32];

		if (retas_b64url_decode_key(value, key, sizeof(key)) < 0)
			return retas_error_set(err, -EINVAL, "config.value",
					       "%s: expected a base64url Ed25519 public key "
					       "(43 characters, no padding), got '%s'",
					       k->name, value);
		memcpy(c->hq_sign_key, key, sizeof(key));
		c->have_hq_sign_key = true;
		return 0;
	}
	case KEY_PATH:
		if (value[0] != '/' || strlen(value) > 200)
			return retas_error_set(err, -EINVAL, "config.value",
					       "%s: expected an absolute path of at most 200 "
					       "bytes, got '%s'",
					       k->name, value);
		break;
	case KEY_LEVEL:
		if (retas_log_parse_level(value) < 0)
			return retas_error_set(err, -EINVAL, "config.value",
					       "%s: expected one of debug, info, notice, warning, "
					       "err, got '%s'",
					       k->name, value);
		break;
	case KEY_URL:
		if ((strncmp(value, "https://", 8) != 0 && strncmp(value, "http://", 7) != 0) ||
		    strlen(value) > 255 || strpbrk(value, " \t\r\n"))
			return retas_error_set(err, -EINVAL, "config.value",
					       "%s: expected an https:// URL of at most 255 bytes, "
					       "got '%s'",
					       k->name, value);
		break;
	case KEY_PIN:
		if (strncmp(value, "sha256//", 8) != 0 || strlen(value) > 255 ||
		    strpbrk(value, " \t\r\n"))
			return retas_error_set(err, -EINVAL, "config.value",
					       "%s: expected sha256//<base64 of the key's SHA-256>"
					       "[;sha256//...], got '%s'",
					       k->name, value);
		break;
	case KEY_STRING:
		if (!*value || strlen(value) > 255)
			return retas_error_set(err, -EINVAL, "config.value",
					       "%s: expected a value of 1 to 255 bytes", k->name);
		break;
	}
	dup = strdup(value);
	if (!dup)
		return retas_error_set(err, -ENOMEM, "config.memory", "%s: out of memory", k->name);
	free(*(char **)field);
	*(char **)field = dup;
	return 0;
}

int rd_config_set(struct rd_config *c, const char *key, const char *value, struct retas_error *err)
{
	const struct key_def *k = find_key(key);

	if (!k)
		return retas_error_set(err, -ENOENT, "config.unknown-key",
				       "unknown key '%s' (see retasd --check-config for the keys)",
				       key);
	return set_value(c, k, value, err);
}

int rd_config_set_assignment(struct rd_config *c, const char *assignment, struct retas_error *err)
{
	const char *eq = strchr(assignment, '=');
	char key[64];

	if (!eq || eq == assignment || (size_t)(eq - assignment) >= sizeof(key) ||
	    !memchr(assignment, '.', (size_t)(eq - assignment)))
		return retas_error_set(err, -EINVAL, "config.set",
				       "--set expects SECTION.KEY=VALUE, got '%s'", assignment);
	memcpy(key, assignment, (size_t)(eq - assignment));
	key[eq - assignment] = '\0';
	return rd_config_set(c, key, eq + 1, err);
}

struct ini_ctx {
	struct rd_config *c;
	struct retas_error err;
	bool failed;
	int handled; /* lines the handler has seen, to tell its errors from syntax errors */
};

static int on_ini_line(void *user, const char *section, const char *name, const char *value)
{
	struct ini_ctx *ctx = user;
	char key[128];

	ctx->handled++;
	if (ctx->failed)
		return 0;
	if (!*section) {
		retas_error_set(&ctx->err, -EINVAL, "config.section",
				"key '%s' is outside any [section]", name);
		ctx->failed = true;
		return 0;
	}
	snprintf(key, sizeof(key), "%s.%s", section, name);
	if (rd_config_set(ctx->c, key, value, &ctx->err) < 0) {
		ctx->failed = true;
		return 0;
	}
	return 1;
}

int rd_config_load_file(struct rd_config *c, const char *path, bool missing_ok,
			struct retas_error *err)
{
	struct ini_ctx ctx = {.c = c};
	FILE *f = fopen(path, "re");
	int line, r = 0;

	if (!f) {
		r = -errno;
		if (r == -ENOENT && missing_ok)
			return 0;
		return retas_error_set(err, r, "config.open", "%s: cannot read: %s", path,
				       strerror(-r));
	}
	line = ini_parse_file(f, on_ini_line, &ctx);
	fclose(f);
	if (line == 0)
		return 0;
	if (ctx.failed) {
		r = retas_error_set(err, ctx.err.code, ctx.err.reason, "%s:%d: %s", path, line,
				    ctx.err.message);
	} else if (line < 0) {
		r = retas_error_set(err, -ENOMEM, "config.memory", "%s: out of memory", path);
	} else {
		r = retas_error_set(err, -EINVAL, "config.syntax",
				    "%s:%d: not a [section] or key = value line", path, line);
	}
	return r;
}

void rd_config_dump(const struct rd_config *c, FILE *f)
{
	char section[32] = "";

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const struct key_def *k = &keys[i];
		const char *dot = strchr(k->name, '.');
		const void *field = (const char *)c + k->offset;
		int len = (int)(dot - k->name);

		if (strncmp(section, k->name, (size_t)len) != 0 || section[len] != '\0') {
			snprintf(section, sizeof(section), "%.*s", len, k->name);
			fprintf(f, "%s[%s]\n", i ? "\n" : "", section);
		}
		if (k->type == KEY_INT) {
			fprintf(f, "%s = %" PRId64 "\n", dot + 1, *(const int64_t *)field);
		} else if (k->type == KEY_KEY32) {
			char *b64 = NULL;

			if (c->have_hq_sign_key &&
			    retas_b64url_encode(c->hq_sign_key, 32, &b64) == 0)
				fprintf(f, "%s = %s\n", dot + 1, b64);
			else
				fprintf(f, "# %s = (not set)\n", dot + 1);
			free(b64);
		} else {
			const char *s = *(char *const *)field;

			if (s)
				fprintf(f, "%s = %s\n", dot + 1, s);
			else
				fprintf(f, "# %s = (not set)\n", dot + 1);
		}
	}
}

int rd_config_load_all(const struct rd_options *o, struct rd_config **out, struct retas_error *err)
{
	struct rd_config *c = NULL;
	int r;

	r = rd_config_new(&c);
	if (r < 0)
		return retas_error_set(err, r, "config.memory", "out of memory");
	r = rd_config_load_file(c, o->config_path, !o->config_explicit, err);
	for (size_t i = 0; r == 0 && i < o->n_sets; i++)
		r = rd_config_set_assignment(c, o->sets[i], err);
	if (r == 0 && o->state_dir)
		r = rd_config_set(c, "daemon.state_dir", o->state_dir, err);
	if (r == 0 && o->socket_path)
		r = rd_config_set(c, "daemon.socket", o->socket_path, err);
	if (r < 0) {
		rd_config_free(c);
		return r;
	}
	*out = c;
	return 0;
}
