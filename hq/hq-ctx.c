/*
 * Opening and creating a head-office directory. The configuration is INI
 * read with libinih; the keys are the core library's key files, so the same
 * tools read them on the van and at head office.
 */
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sodium.h>
#include <unistd.h>

#include "hq-ctx.h"
#include "hq-store.h"
#include "retas-i18n.h"
#include "retas-jws.h"
#include "retas-util.h"

static const char default_config[] =
    "# retas-hq configuration. Paths are relative to this directory.\n"
    "[server]\n"
    "# HOST:PORT; port 0 picks a free port (the readiness line names it)\n"
    "listen = 127.0.0.1:8080\n"
    "threads = 4\n"
    "# PEM certificate and key: both set turns on TLS\n"
    "tls_cert =\n"
    "tls_key =\n"
    "# the address vans use, written into each surat tugas\n"
    "public_url = https://retas.dukcapil.example/\n"
    "# seconds an idle connection is kept\n"
    "request_timeout = 60\n"
    "# largest JSON request body in bytes\n"
    "max_body = 1048576\n"
    "\n"
    "[upload]\n"
    "# largest batch in bytes (Tus-Max-Size)\n"
    "max_size = 1073741824\n"
    "# seconds a van's signed request time may differ from ours\n"
    "clock_skew = 300\n"
    "\n"
    "[surat_tugas]\n"
    "jabatan = Kepala Dinas Kependudukan dan Pencatatan Sipil Kota Jambi\n"
    "min_age = 16\n";

void hq_config_clear(struct hq_config *cfg)
{
	free(cfg->listen);
	free(cfg->tls_cert);
	free(cfg->tls_key);
	free(cfg->public_url);
	free(cfg->jabatan);
	memset(cfg, 0, sizeof(*cfg));
}

struct parse_state {
	struct hq_config *cfg;
	struct retas_error *err;
	int r;
};

static int parse_u64(const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long n;

	if (!*v || *v == '-')
		return -EINVAL;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || *end || n < min || n > max)
		return -EINVAL;
	*out = n;
	return 0;
}

static int set_str(char **dst, const char *v)
{
	char *dup = NULL;

	if (*v) {
		dup = strdup(v);
		if (!dup)
			return -ENOMEM;
	}
	free(*dst);
	*dst = dup;
	return 0;
}

static int on_value(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;
	struct hq_config *c = st->cfg;
	uint64_t n = 0;
	int r = -ENOENT;

	if (streq(section, "server")) {
		if (streq(name, "listen"))
			r = *value ? set_str(&c->listen, value) : -EINVAL;
		else if (streq(name, "threads") && (r = parse_u64(value, 1, 256, &n)) == 0)
			c->threads = (unsigned)n;
		else if (streq(name, "tls_cert"))
			r = set_str(&c->tls_cert, value);
		else if (streq(name, "tls_key"))
			r = set_str(&c->tls_key, value);
		else if (streq(name, "public_url"))
			r = *value ? set_str(&c->public_url, value) : -EINVAL;
		else if (streq(name, "request_timeout") && (r = parse_u64(value, 1, 3600, &n)) == 0)
			c->request_timeout_s = (unsigned)n;
		else if (streq(name, "max_body") &&
			 (r = parse_u64(value, 1024, 64 * 1024 * 1024, &n)) == 0)
			c->max_json = n;
	} else if (streq(section, "upload")) {
		if (streq(name, "max_size") &&
		    (r = parse_u64(value, 1024, UINT64_C(1) << 40, &n)) == 0)
			c->max_upload = n;
		else if (streq(name, "clock_skew") && (r = parse_u64(value, 1, 86400, &n)) == 0)
			c->clock_skew_ms = (int64_t)n * 1000;
	} else if (streq(section, "surat_tugas")) {
		if (streq(name, "jabatan"))
			r = *value ? set_str(&c->jabatan, value) : -EINVAL;
		else if (streq(name, "min_age") && (r = parse_u64(value, 1, 99, &n)) == 0)
			c->min_age = (int)n;
	}
	if (r == -ENOENT)
		st->r = retas_error_set(st->err, -EINVAL, "hq.config",
					N_("configuration: unknown setting %s.%s"), section, name);
	else if (r < 0)
		st->r = retas_error_set(st->err, r == -ENOMEM ? -ENOMEM : -EINVAL, "hq.config",
					N_("configuration: bad value for %s.%s: '%s'"), section,
					name, value);
	return st->r == 0;
}

int hq_config_parse(const char *text, struct hq_config *cfg, struct retas_error *err)
{
	struct parse_state st = {.cfg = cfg, .err = err};
	int line;

	memset(cfg, 0, sizeof(*cfg));
	cfg->threads = 4;
	cfg->request_timeout_s = 60;
	cfg->max_upload = UINT64_C(1) << 30;
	cfg->clock_skew_ms = 300 * 1000;
	cfg->max_json = 1024 * 1024;
	cfg->min_age = 16;
	if (set_str(&cfg->listen, "127.0.0.1:8080") < 0 ||
	    set_str(&cfg->public_url, "https://retas.dukcapil.example/") < 0 ||
	    set_str(&cfg->jabatan, "Kepala Dinas Kependudukan dan Pencatatan Sipil Kota Jambi") <
		0) {
		hq_config_clear(cfg);
		return -ENOMEM;
	}
	line = ini_parse_string(text, on_value, &st);
	if (st.r == 0 && line != 0)
		st.r = retas_error_set(err, -EINVAL, "hq.config",
				       N_("configuration line %d: not an INI line"), line);
	if (st.r == 0 && (!cfg->tls_cert) != (!cfg->tls_key))
		st.r = retas_error_set(err, -EINVAL, "hq.config",
				       N_("configuration: tls_cert and tls_key go together"));
	if (st.r < 0)
		hq_config_clear(cfg);
	return st.r;
}

static int read_text_file(const char *path, char **out)
{
	_cleanup_(freep) char *buf = NULL;
	FILE *f = fopen(path, "re");
	size_t len = 0, cap = 0, n;
	int r = 0;

	if (!f)
		return -errno;
	do {
		if (len + 4096 + 1 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 8192;
			if (cap > 1024 * 1024) {
				r = -E2BIG;
				goto out;
			}
			nb = realloc(buf, cap);
			if (!nb) {
				r = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, 4096, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		r = -EIO;
		goto out;
	}
	buf[len] = 0;
	*out = steal_ptr(buf);
out:
	fclose(f);
	return r;
}

static char *path_join(const char *dir, const char *name)
{
	char *p = NULL;

	if (name[0] == '/')
		return strdup(name);
	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

static int load_keys(struct hq_ctx *ctx, int create, struct retas_error *err)
{
	_cleanup_(freep) char *seal = path_join(ctx->dir, HQ_KEYS_DIR "/seal.key");
	_cleanup_(freep) char *sign = path_join(ctx->dir, HQ_KEYS_DIR "/sign.key");
	_cleanup_(freep) char *seal_pub = path_join(ctx->dir, HQ_KEYS_DIR "/seal.pub");
	_cleanup_(freep) char *sign_pub = path_join(ctx->dir, HQ_KEYS_DIR "/sign.pub");
	int r;

	if (!seal || !sign || !seal_pub || !sign_pub)
		return -ENOMEM;
	r = retas_box_keypair_load(seal, create, &ctx->seal, err);
	if (r < 0)
		return r;
	r = retas_sign_keypair_load(sign, create, &ctx->sign, err);
	if (r < 0)
		return r;
	if (create) {
		r = retas_pubkey_write(seal_pub, ctx->seal.pk, err);
		if (r < 0)
			return r;
		r = retas_pubkey_write(sign_pub, ctx->sign.pk, err);
		if (r < 0)
			return r;
	}
	retas_key_id(ctx->sign.pk, ctx->sign_kid);
	return 0;
}

static int ctx_alloc(const char *dir, struct hq_ctx **out)
{
	struct hq_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return -ENOMEM;
	ctx->dir = strdup(dir);
	ctx->db_path = path_join(dir, HQ_DB_FILE);
	ctx->staging_dir = path_join(dir, HQ_STAGING_DIR);
	if (!ctx->dir || !ctx->db_path || !ctx->staging_dir) {
		hq_ctx_free(ctx);
		return -ENOMEM;
	}
	*out = ctx;
	return 0;
}

void hq_ctx_free(struct hq_ctx *ctx)
{
	if (!ctx)
		return;
	hq_config_clear(&ctx->cfg);
	retas_regions_free(ctx->regions);
	sodium_memzero(&ctx->seal, sizeof(ctx->seal));
	sodium_memzero(&ctx->sign, sizeof(ctx->sign));
	free(ctx->dir);
	free(ctx->db_path);
	free(ctx->staging_dir);
	free(ctx);
}

static int mkdir_mode(const char *path, mode_t mode)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int write_new_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	size_t len = strlen(text), off = 0;
	int r = 0;

	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		off += (size_t)n;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

int hq_ctx_init_dir(const char *dir, struct retas_error *err)
{
	_cleanup_(hq_ctx_freep) struct hq_ctx *ctx = NULL;
	_cleanup_(freep) char *conf = NULL, *keys = NULL;
	sqlite3 *db = NULL;
	int r;

	r = ctx_alloc(dir, &ctx);
	if (r < 0)
		return r;
	conf = path_join(dir, HQ_CONFIG_FILE);
	keys = path_join(dir, HQ_KEYS_DIR);
	if (!conf || !keys)
		return -ENOMEM;
	if (access(conf, F_OK) == 0)
		return retas_error_set(err, -EEXIST, "hq.exists",
				       N_("%s already holds a head-office configuration"), dir);
	r = mkdir_mode(dir, 0700);
	if (r == 0)
		r = mkdir_mode(keys, 0700);
	if (r == 0)
		r = mkdir_mode(ctx->staging_dir, 0700);
	if (r < 0)
		return retas_error_set(err, r, "hq.mkdir",
				       N_("cannot create directories in %s: %s"), dir,
				       strerror(-r));
	r = load_keys(ctx, 1, err);
	if (r < 0)
		return r;
	r = hq_store_open(ctx->db_path, &db, err);
	if (r < 0)
		return r;
	sqlite3_close(db);
	/* The configuration comes last: its presence marks a finished init. */
	r = write_new_file(conf, default_config, 0600);
	if (r < 0)
		return retas_error_set(err, r, "hq.config", N_("cannot write %s: %s"), conf,
				       strerror(-r));
	return 0;
}

int hq_ctx_open(const char *dir, struct hq_ctx **out, struct retas_error *err)
{
	_cleanup_(hq_ctx_freep) struct hq_ctx *ctx = NULL;
	_cleanup_(freep) char *conf = NULL, *text = NULL;
	struct stat stt;
	sqlite3 *db = NULL;
	int r;

	r = ctx_alloc(dir, &ctx);
	if (r < 0)
		return r;
	conf = path_join(dir, HQ_CONFIG_FILE);
	if (!conf)
		return -ENOMEM;
	r = read_text_file(conf, &text);
	if (r == -ENOENT)
		return retas_error_set(
		    err, r, "hq.not-initialised",
		    N_("%s is not a head-office directory (run 'retas-hq init %s')"), dir, dir);
	if (r < 0)
		return retas_error_set(err, r, "hq.config", N_("cannot read %s: %s"), conf,
				       strerror(-r));
	r = hq_config_parse(text, &ctx->cfg, err);
	if (r < 0)
		return r;
	/* TLS paths are relative to the directory. */
	char **tls[] = {&ctx->cfg.tls_cert, &ctx->cfg.tls_key};
	for (size_t i = 0; i < ARRAY_SIZE(tls); i++) {
		char *abs;

		if (!*tls[i])
			continue;
		abs = path_join(dir, *tls[i]);
		if (!abs)
			return -ENOMEM;
		free(*tls[i]);
		*tls[i] = abs;
	}
	r = load_keys(ctx, 0, err);
	if (r < 0)
		return r;
	r = retas_regions_load_default(&ctx->regions, err);
	if (r < 0)
		return r;
	if (stat(ctx->staging_dir, &stt) < 0 || !S_ISDIR(stt.st_mode))
		return retas_error_set(err, -ENOENT, "hq.staging",
				       N_("the staging directory %s is missing"), ctx->staging_dir);
	r = hq_store_open(ctx->db_path, &db, err);
	if (r < 0)
		return r;
	sqlite3_close(db);
	*out = steal_ptr(ctx);
	return 0;
}
