/*
 * The in-memory mirror of the state machine, rebuilt from the store, and
 * the one transition no call triggers: the idle logout. The stored letter
 * is verified again whenever the state is loaded, because the trusted head
 * office key may have changed in the configuration since it was accepted.
 *
 * Lockouts and the idle logout are measured in elapsed time as well as on
 * the wall clock: a van's clock set a day forwards would otherwise lift a
 * lockout at once, and one set a day backwards would keep a login alive a
 * day longer. The rule: a lockout lasts login.lockout seconds of elapsed
 * time; a login ends after login.idle_timeout seconds by whichever of the
 * two clocks reaches it first (ending a login early is the safe mistake).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "daemon.h"
#include "retas-log.h"
#include "retas-time.h"
#include "retas-util.h"

int64_t rd_daemon_now(const struct rd_daemon *d)
{
	return retas_time_now_ms() + d->config->clock_offset_s * 1000;
}

/* Elapsed time in ms, counting suspend; never set by anyone. */
static int64_t boot_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void rd_format_time(int64_t ms, char *buf)
{
	retas_time_format_rfc3339(ms, RETAS_WIB_OFFSET_MIN, buf);
}

enum rd_phase rd_state_phase(const struct rd_daemon *d)
{
	if (!d->st)
		return RD_PHASE_NO_ASSIGNMENT;
	if (!d->have_session)
		return RD_PHASE_ASSIGNMENT_LOADED;
	return d->session.closed_at_ms ? RD_PHASE_SESSION_CLOSED : RD_PHASE_SESSION_OPEN;
}

const char *rd_phase_name(enum rd_phase p)
{
	switch (p) {
	case RD_PHASE_NO_ASSIGNMENT:
		return "no-assignment";
	case RD_PHASE_ASSIGNMENT_LOADED:
		return "assignment-loaded";
	case RD_PHASE_SESSION_OPEN:
		return "session-open";
	case RD_PHASE_SESSION_CLOSED:
		return "session-closed";
	}
	return "unknown";
}

void rd_state_clear(struct rd_daemon *d)
{
	retas_st_free(d->st);
	d->st = NULL;
	d->assignment_id = 0;
	d->assignment_sha256[0] = '\0';
	d->assignment_loaded_at = 0;
	d->logged_in = false;
	memset(&d->login, 0, sizeof(d->login));
	d->have_session = false;
	memset(&d->session, 0, sizeof(d->session));
	rd_enrolment_free(d->enrol);
	d->enrol = NULL;
}

int rd_state_petugas_index(const struct rd_daemon *d, const char *nip)
{
	for (size_t i = 0; d->st && i < d->st->n_petugas; i++)
		if (strcmp(d->st->petugas[i].nip, nip) == 0)
			return (int)i;
	return -1;
}

int rd_state_load(struct rd_daemon *d)
{
	struct rd_store_assignment a = {0};
	struct retas_error err = {0};
	struct retas_st *st = NULL;
	/* An enrolment in progress survives a reload (SIGHUP) that leaves the
	 * same session open: its captures are in memory only. */
	struct rd_enrolment *keep = steal_ptr(d->enrol);
	int64_t keep_assignment = d->assignment_id;
	char keep_session[sizeof(d->session.uuid)];
	int r;

	memcpy(keep_session, d->session.uuid, sizeof(keep_session));
	rd_state_clear(d);
	r = rd_store_assignment_current(d->store, &a);
	if (r == -ENOENT) {
		r = 0;
		goto out;
	}
	if (r < 0) {
		log_error("store: cannot read the current assignment: %s", strerror(-r));
		goto out;
	}
	if (!d->config->have_hq_sign_key) {
		log_warning("the stored surat tugas cannot be verified without hq.sign_key; "
			    "treating the van as having no assignment");
		goto out;
	}
	if (retas_st_verify(a.token, strlen(a.token), d->config->hq_sign_key, d->regions, &st,
			    &err) < 0 ||
	    retas_st_check_van(st, d->device.pk, &err) < 0) {
		log_warning("the stored surat tugas no longer verifies (%s: %s); treating the van "
			    "as having no assignment",
			    err.reason, err.message);
		goto out;
	}
	d->st = st;
	st = NULL;
	d->assignment_id = a.id;
	snprintf(d->assignment_sha256, sizeof(d->assignment_sha256), "%s", a.sha256);
	d->assignment_loaded_at = a.loaded_at_ms;

	r = rd_store_login_get(d->store, &d->login);
	if (r == 0 && d->login.assignment_id == d->assignment_id &&
	    rd_state_petugas_index(d, d->login.nip) >= 0)
		d->logged_in = true;
	else if (r < 0 && r != -ENOENT)
		goto out;
	r = rd_store_session_latest(d->store, d->assignment_id, &d->session);
	if (r == 0)
		d->have_session = true;
	else if (r != -ENOENT)
		goto out;
	r = 0;
out:
	retas_st_free(st);
	rd_store_assignment_clear(&a);
	if (keep && r == 0 && rd_state_phase(d) == RD_PHASE_SESSION_OPEN &&
	    d->assignment_id == keep_assignment && streq(d->session.uuid, keep_session)) {
		d->enrol = keep;
	} else if (keep) {
		log_info("enrolment %s abandoned: its session is no longer open", keep->id);
		rd_enrolment_free(keep);
	}
	if (r == 0)
		rd_state_arm_idle(d);
	return r;
}

int64_t rd_state_idle_deadline(const struct rd_daemon *d)
{
	int64_t now, wall_elapsed, elapsed;

	if (!d->logged_in || d->config->login_idle_s == 0)
		return 0;
	now = rd_daemon_now(d);
	wall_elapsed = now - d->login.last_active_ms;
	elapsed = wall_elapsed;
	if (d->idle_anchor_wall == d->login.last_active_ms) {
		int64_t boot_elapsed = boot_now_ms() - d->idle_anchor_boot;

		/* Only a clock set back makes them differ by more than reading
		 * two clocks one after the other does: then elapsed time rules. */
		if (boot_elapsed > elapsed + 1000)
			elapsed = boot_elapsed;
	}
	return now + d->config->login_idle_s * 1000 - elapsed;
}

/* Ties the login's last activity to the elapsed-time clock the first time
 * it is seen (every activity re-arms the timer at once, so that is when it
 * happened; a login found at start is tied as of its wall-clock age). */
static void idle_anchor(struct rd_daemon *d)
{
	int64_t age;

	if (!d->logged_in || d->idle_anchor_wall == d->login.last_active_ms)
		return;
	age = rd_daemon_now(d) - d->login.last_active_ms;
	d->idle_anchor_wall = d->login.last_active_ms;
	d->idle_anchor_boot = boot_now_ms() - (age > 0 ? age : 0);
}

static struct rd_lockout *lockout_find(struct rd_daemon *d, const char *nip)
{
	for (size_t i = 0; i < RD_MAX_LOCKOUTS; i++)
		if (strcmp(d->lockouts[i].nip, nip) == 0)
			return &d->lockouts[i];
	return NULL;
}

void rd_state_lockout_start(struct rd_daemon *d, const char *nip, int64_t wall_until)
{
	struct rd_lockout *l = lockout_find(d, nip);
	int64_t boot = boot_now_ms();

	/* else a free slot, or the one that ends first (long over, most likely) */
	for (size_t i = 0; !l && i < RD_MAX_LOCKOUTS; i++)
		if (!d->lockouts[i].nip[0])
			l = &d->lockouts[i];
	if (!l) {
		l = &d->lockouts[0];
		for (size_t i = 1; i < RD_MAX_LOCKOUTS; i++)
			if (d->lockouts[i].boot_until < l->boot_until)
				l = &d->lockouts[i];
	}
	snprintf(l->nip, sizeof(l->nip), "%s", nip);
	l->wall_until = wall_until;
	l->boot_until = boot + (wall_until - rd_daemon_now(d));
}

int64_t rd_state_lockout_until(struct rd_daemon *d, const char *nip, int64_t stored_until)
{
	struct rd_lockout *l;
	int64_t now = rd_daemon_now(d), left;

	if (stored_until == 0)
		return 0;
	l = lockout_find(d, nip);
	if (l && l->wall_until == stored_until) {
		int64_t boot = boot_now_ms(), skew;

		left = l->boot_until - boot;
		if (left <= 0)
			return 0;
		/* The clocks still agree (reading them is not simultaneous):
		 * the stored end stands, to the millisecond. */
		skew = (now - boot) - (l->wall_until - l->boot_until);
		if (skew > -1000 && skew < 1000)
			return stored_until;
		return now + left;
	}
	/* Set before this process started: only the wall clock knows it. A
	 * clock set back since cannot make it last longer than a lockout. */
	left = stored_until - now;
	if (left <= 0)
		return 0;
	if (left > d->config->login_lockout_s * 1000)
		left = d->config->login_lockout_s * 1000;
	rd_state_lockout_start(d, nip, now + left);
	/* the entry must match the stored end it stands for */
	l = lockout_find(d, nip);
	l->wall_until = stored_until;
	return now + left;
}

int rd_state_idle_logout(struct rd_daemon *d)
{
	char detail[64];
	struct rd_audit_entry e = {
	    .at_ms = rd_daemon_now(d),
	    .event = "IdleLogout",
	    .outcome = "ok",
	    .reason = "login.idle",
	    .uid = -1,
	    .pid = 0,
	    .detail = detail,
	};
	int r;

	if (!d->logged_in)
		return 0;
	snprintf(detail, sizeof(detail), "{\"petugas\":%d}",
		 rd_state_petugas_index(d, d->login.nip));
	r = rd_store_txn_begin(d->store);
	if (r < 0)
		goto out;
	r = rd_store_login_clear(d->store);
	if (r == 0)
		r = rd_audit_append(d->store, &e, NULL);
	if (r == 0)
		r = rd_store_txn_commit(d->store);
	else
		rd_store_txn_rollback(d->store);
out:
	if (r < 0) {
		log_error("idle logout: cannot write the store: %s", strerror(-r));
		return r;
	}
	log_info("officer %d logged out after %" PRId64 " s without activity",
		 rd_state_petugas_index(d, d->login.nip), d->config->login_idle_s);
	d->logged_in = false;
	memset(&d->login, 0, sizeof(d->login));
	rd_state_arm_idle(d);
	return 0;
}

static int on_idle_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct rd_daemon *d = userdata;
	int64_t deadline = rd_state_idle_deadline(d);

	/* The clock may have moved since the timer was armed: decide on the
	 * daemon's clock, not on the timer having fired. */
	if (deadline && rd_daemon_now(d) >= deadline)
		rd_state_idle_logout(d);
	else
		rd_state_arm_idle(d);
	return 0;
}

int rd_state_arm_idle(struct rd_daemon *d)
{
	int64_t deadline, delay;
	int r;

	d->idle_timer = sd_event_source_disable_unref(d->idle_timer);
	idle_anchor(d);
	deadline = rd_state_idle_deadline(d);
	if (!deadline || !d->event)
		return 0;
	delay = deadline - rd_daemon_now(d);
	/* Already due (a restart or a clock change passed the deadline): end
	 * the login now, so no call sees it alive first. */
	if (delay <= 0)
		return rd_state_idle_logout(d);
	r = sd_event_add_time_relative(d->event, &d->idle_timer, CLOCK_BOOTTIME,
				       (uint64_t)delay * 1000, 100 * 1000, on_idle_timer, d);
	if (r < 0) {
		log_error("cannot arm the idle-logout timer: %s", strerror(-r));
		return r;
	}
	(void)sd_event_source_set_description(d->idle_timer, "idle-logout");
	return 0;
}
