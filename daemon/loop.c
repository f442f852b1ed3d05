/*
 * retasd's life: set-up in the order each part needs the one before (state
 * directory and its lock, device key, store, loop, worker, state, socket),
 * then the sd-event loop with SIGTERM/SIGINT for a clean stop, SIGHUP for a
 * reload, sd_notify READY/RELOADING/STOPPING and the watchdog, then
 * teardown in reverse. Failures at start are fatal and logged once; after
 * READY the daemon logs and carries on.
 */
#include <cairo.h>
#include <errno.h>
#include <fontconfig/fontconfig.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "config.h" /* the build's: RETAS_VERSION */
#include "daemon.h"
#include "index.h"
#include "retas-jws.h"
#include "retas-log.h"
#include "sync.h"

static int path_in(const struct rd_config *c, const char *name, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s", c->state_dir, name);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int ensure_state_dir(const struct rd_config *c, struct retas_error *err)
{
	struct stat st;

	if (mkdir(c->state_dir, 0700) < 0 && errno != EEXIST)
		return retas_error_set(err, -errno, "state.dir", "%s: cannot create: %s",
				       c->state_dir, strerror(errno));
	if (stat(c->state_dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return retas_error_set(err, -ENOTDIR, "state.dir", "%s: not a directory",
				       c->state_dir);
	return 0;
}

int rd_daemon_device_key(const struct rd_config *config, struct retas_sign_keypair *out,
			 struct retas_error *err)
{
	char path[512];
	int r;

	r = ensure_state_dir(config, err);
	if (r < 0)
		return r;
	if (path_in(config, "device.key", path, sizeof(path)) < 0)
		return retas_error_set(err, -ENAMETOOLONG, "state.dir", "%s: path too long",
				       config->state_dir);
	r = retas_sign_keypair_load(path, 1, out, err);
	if (r < 0)
		retas_error_prefix(err, "%s", path);
	return r;
}

static void apply_log_level(const struct rd_config *c)
{
	if (c->log_level)
		retas_log_set_level(retas_log_parse_level(c->log_level));
}

static int on_terminate(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct rd_daemon *d = userdata;

	log_info("received %s, stopping", strsignal((int)si->ssi_signo));
	(void)sd_notify(0, "STOPPING=1");
	return sd_event_exit(d->event, 0);
}

static void reload(struct rd_daemon *d)
{
	struct rd_config *c = NULL;
	struct retas_error err = {0};
	struct timespec ts;
	char msg[96];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ULL +
		     (unsigned long long)ts.tv_nsec / 1000);
	(void)sd_notify(0, msg);
	if (rd_config_load_all(d->opts, &c, &err) < 0) {
		log_error("reload: %s; keeping the running configuration", err.message);
		(void)sd_notify(0, "READY=1\nSTATUS=Reload failed; running with the old "
				   "configuration");
		return;
	}
	if (strcmp(c->state_dir, d->config->state_dir) != 0 ||
	    strcmp(c->socket_path, d->config->socket_path) != 0)
		log_warning("reload: daemon.state_dir and daemon.socket change only at restart");
	free(c->state_dir);
	c->state_dir = strdup(d->config->state_dir);
	free(c->socket_path);
	c->socket_path = strdup(d->config->socket_path);
	if (!c->state_dir || !c->socket_path) {
		log_error("reload: out of memory");
		rd_config_free(c);
		(void)sd_notify(0, "READY=1");
		return;
	}
	rd_config_free(d->config);
	d->config = c;
	apply_log_level(c);
	rd_store_set_busy_timeout(d->store, c->store_busy_timeout_ms);
	rd_varlink_set_limits(d->varlink, (unsigned)c->api_max_connections,
			      (unsigned)c->api_max_connections_per_uid,
			      (uint64_t)c->api_message_timeout_ms * 1000);
	/* The trusted key or the clock may have changed: see the stored state
	 * with the new eyes. */
	if (rd_state_load(d) < 0)
		log_error("reload: cannot read the state back from the store");
	rd_sync_reconfigure(d->sync);
	log_info("configuration reloaded");
	(void)sd_notify(0, "READY=1\nSTATUS=Running");
}

static int on_hangup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	reload(userdata);
	return 0;
}

static int open_lock(struct rd_daemon *d, struct retas_error *err)
{
	char path[512];

	if (path_in(d->config, "retasd.lock", path, sizeof(path)) < 0)
		return retas_error_set(err, -ENAMETOOLONG, "state.dir", "path too long");
	d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (d->lock_fd < 0)
		return retas_error_set(err, -errno, "state.lock", "%s: %s", path, strerror(errno));
	if (flock(d->lock_fd, LOCK_EX | LOCK_NB) < 0)
		return retas_error_set(err, -EBUSY, "state.lock", "%s is in use by another retasd",
				       d->config->state_dir);
	return 0;
}

static int open_store(struct rd_daemon *d, struct retas_error *err)
{
	char path[512];

	if (path_in(d->config, "retasd.db", path, sizeof(path)) < 0)
		return retas_error_set(err, -ENAMETOOLONG, "state.dir", "path too long");
	return rd_store_open(path, d->config->store_busy_timeout_ms, &d->store, err);
}

static int open_socket(struct rd_daemon *d)
{
	const struct rd_varlink_config vc = {
	    .interface = RD_INTERFACE,
	    .methods = rd_api_methods,
	    .check = rd_api_check,
	    .hangup = rd_enroll_hangup,
	    .max_connections = (unsigned)d->config->api_max_connections,
	    .max_connections_per_uid = (unsigned)d->config->api_max_connections_per_uid,
	    .message_timeout_usec = (uint64_t)d->config->api_message_timeout_ms * 1000,
	    .userdata = d,
	};
	int fd = -1, n = sd_listen_fds(1);

	/* Socket activation hands over a bound socket; else bind our own. */
	if (n == 1)
		fd = SD_LISTEN_FDS_START;
	else if (n > 1)
		log_warning("got %d sockets from the service manager, using none", n);
	return rd_varlink_new(d->event, &vc, fd, d->config->socket_path, d->config->api_group,
			      &d->varlink);
}

static int setup(struct rd_daemon *d)
{
	struct retas_error err = {0};
	sigset_t mask;
	int r;

	r = ensure_state_dir(d->config, &err);
	if (r == 0)
		r = open_lock(d, &err);
	if (r == 0)
		r = rd_daemon_device_key(d->config, &d->device, &err);
	if (r < 0) {
		log_error("%s", err.message);
		return r;
	}
	retas_key_id(d->device.pk, d->device_key_id);
	{
		char path[512];

		if (path_in(d->config, "local.key", path, sizeof(path)) < 0)
			r = retas_error_set(&err, -ENAMETOOLONG, "state.dir", "%s: path too long",
					    d->config->state_dir);
		else
			r = rd_index_key_load(path, d->local_key, &err);
		if (r < 0) {
			log_error("local index key: %s", err.message);
			return r;
		}
	}
	if (retas_regions_load_default(&d->regions, &err) < 0) {
		log_warning("region data: %s; the kecamatan of a surat tugas goes unchecked",
			    err.message);
		d->regions = NULL;
	}
	r = open_store(d, &err);
	if (r < 0) {
		log_error("store: %s", err.message);
		return r;
	}

	r = sd_event_default(&d->event);
	if (r < 0)
		goto fail;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	r = sd_event_add_signal(d->event, NULL, SIGTERM, on_terminate, d);
	if (r >= 0)
		r = sd_event_add_signal(d->event, NULL, SIGINT, on_terminate, d);
	if (r >= 0)
		r = sd_event_add_signal(d->event, NULL, SIGHUP, on_hangup, d);
	if (r < 0)
		goto fail;
	r = sd_event_set_watchdog(d->event, 1);
	if (r < 0)
		goto fail;
	r = rd_worker_new(d->event, RD_MAX_PIN_CHECKS, &d->worker);
	if (r >= 0)
		r = rd_worker_new(d->event, RD_MAX_DOC_JOBS, &d->doc_worker);
	if (r < 0)
		goto fail;
	r = rd_state_load(d);
	if (r < 0) {
		log_error("cannot read the state from the store: %s", strerror(-r));
		return r;
	}
	r = rd_sync_new(d, &d->sync);
	if (r < 0) {
		log_error("cannot set up sync: %s", strerror(-r));
		return r;
	}
	r = open_socket(d);
	if (r < 0) {
		log_error("cannot listen on %s: %s", d->config->socket_path, strerror(-r));
		return r;
	}
	return 0;
fail:
	log_error("cannot set up the event loop: %s", strerror(-r));
	return r;
}

static void teardown(struct rd_daemon *d)
{
	/* The workers go first: a PIN check that finishes now still writes
	 * its result to the store, and may still answer its caller. */
	rd_worker_free(d->worker);
	rd_worker_free(d->doc_worker);
	/* A capture still running is stopped while its caller can be told. */
	rd_enrolment_free(d->enrol);
	d->enrol = NULL;
	rd_capture_free_devices(d);
	rd_sync_free(d->sync);
	rd_varlink_free(d->varlink);
	d->idle_timer = sd_event_source_disable_unref(d->idle_timer);
	rd_state_clear(d);
	rd_store_free(d->store);
	retas_regions_free(d->regions);
	/* cairo and fontconfig keep the fonts the receipts looked up for the
	 * life of the process; let them go so a leak checker sees real leaks. */
	cairo_debug_reset_static_data();
	FcFini();
	sodium_memzero(&d->device, sizeof(d->device));
	sodium_memzero(d->local_key, sizeof(d->local_key));
	sd_event_unref(d->event);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
}

int rd_daemon_run(const struct rd_options *opts, struct rd_config *config)
{
	struct rd_daemon d = {.opts = opts, .config = config, .lock_fd = -1};
	int r;

	apply_log_level(config);
	r = setup(&d);
	if (r < 0)
		goto out;
	log_info("retasd %s ready on %s (device key %s, state %s)", RETAS_VERSION,
		 config->socket_path, d.device_key_id, rd_phase_name(rd_state_phase(&d)));
	(void)sd_notify(0, "READY=1\nSTATUS=Running");
	r = sd_event_loop(d.event);
	if (r < 0)
		log_error("event loop failed: %s", strerror(-r));
out:
	teardown(&d);
	rd_config_free(d.config);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
