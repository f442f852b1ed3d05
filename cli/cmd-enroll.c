/*
 * retas enroll NIK: records one student, telling the officer at each step
 * what to do now. It drives retasd's stepwise enrolment: EnrollBegin, each
 * finger of the letter's list (CaptureFinger, or MarkFingerException for a
 * finger that cannot be captured, with the reason confirmed), the photo
 * (CapturePhoto, retaken on demand), the signature (CaptureSignature, redone
 * on demand) and EnrollCommit. Questions are asked on the terminal; --yes
 * and the scripted answers (--exception, --retake-photo, --redo-signature)
 * answer them for scripts and tests. Ctrl-C, a refusal or a device failure
 * mid-way abandons the student (EnrollAbort): nothing of it is stored.
 * The connection of EnrollBegin stays open until the end: retasd abandons
 * the enrolment when it closes, so a killed command never leaves the van
 * blocked.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "retas-util.h"
#include "varlink.h"

#define CAPTURE_TIMEOUT_MS 180000

static int cmd_enroll_exec(struct cli_ctx *ctx, int argc, char **argv);

const struct cli_cmd_entry cli_cmd_enroll_entry = {
    .name = "enroll",
    .args = "NIK [--redo --reason TEXT] [--nama NAME --jk L|P --lahir YYYY-MM-DD [--kelas K]] "
	    "[--yes] [--exception POS:REASON]... [--retake-photo N] [--redo-signature N]",
    .summary = N_("Record one student: fingers, photo and signature."),
    .help = N_("Drives the enrolment step by step and says what to do now. A student not on "
	       "the list is added with --nama, --jk and --lahir, checked against the NIK. "
	       "--exception POS:REASON (missing, bandaged, scarred, unreadable) records that "
	       "finger POS cannot be captured; --yes confirms such questions without asking "
	       "(a finger below the quality threshold then becomes 'unreadable'); "
	       "--retake-photo N and --redo-signature N take the photo or signature again N "
	       "times. Ctrl-C abandons the student; nothing of it is stored."),
    .exec = cmd_enroll_exec,
};

static volatile int interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

struct enroll {
	struct cli_ctx *ctx;
	const char *id;
	bool yes;
	int exception_pos[10];
	const char *exception_reason[10];
	size_t n_exceptions;
	long retake_photo;
	long redo_signature;
	const char *finger; /* the finger being captured, for progress */
	unsigned last_attempt;
	const char *last_stage;
};

static json_object *id_params(const struct enroll *en)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "id", json_object_new_string(en->id));
	return p;
}

/* Asks a yes/no question; def when the officer just presses Enter, and
 * yes_answer under --yes. */
static bool ask(const struct enroll *en, bool def, bool yes_answer, const char *question)
{
	char line[64];

	if (en->yes)
		return yes_answer;
	printf("%s %s ", question, def ? _("[Y/n]") : _("[y/N]"));
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin) || interrupted)
		return def;
	if (line[0] == 'y' || line[0] == 'Y')
		return true;
	if (line[0] == 'n' || line[0] == 'N')
		return false;
	return def;
}

static void finger_progress(json_object *p, void *userdata)
{
	struct enroll *en = userdata;
	const char *stage = cli_str(p, "stage");
	unsigned attempt = (unsigned)json_object_get_int(json_object_object_get(p, "attempt"));

	if (streq(stage, "place_finger") &&
	    (!streq(en->last_stage, "place_finger") || attempt != en->last_attempt)) {
		if (attempt > 1)
			printf(_("Quality too low: place the %s on the reader again (attempt %u).\n"),
			       en->finger, attempt);
		else
			printf(_("Place the %s on the reader.\n"), en->finger);
	} else if (streq(stage, "wait_lift") && !streq(en->last_stage, "wait_lift")) {
		printf(_("Lift the finger from the reader.\n"));
	}
	en->last_stage = streq(stage, "place_finger") ? "place_finger"
			 : streq(stage, "wait_lift")  ? "wait_lift"
						      : "";
	en->last_attempt = attempt;
	fflush(stdout);
}

static void quiet_progress(json_object *p, void *userdata)
{
	const char *stage = cli_str(p, "stage");

	(void)userdata;
	if (streq(stage, "sign_now"))
		printf(_("The student signs on the pad now; it ends after a short pause.\n"));
	else if (streq(stage, "cleared"))
		printf(_("The pad was cleared; sign again.\n"));
	fflush(stdout);
}

/* A call that streams; CLI_EXIT_* or -EINTR. Refusals are reported. */
static int step(struct enroll *en, const char *method, json_object *params, cli_progress_fn fn,
		struct cli_reply *reply)
{
	int r = cli_call_stream(en->ctx, method, params, CAPTURE_TIMEOUT_MS, fn, en, &interrupted,
				reply);

	if (r == CLI_EXIT_OK && reply->error) {
		r = cli_report_error(reply);
		cli_reply_clear(reply);
	}
	return r;
}

static int mark_exception(struct enroll *en, int pos, const char *name, const char *reason)
{
	struct cli_reply reply = {0};
	json_object *p;
	char q[256];
	int r;

	snprintf(q, sizeof(q), _("Record the %s as an exception (%s)?"), name, reason);
	if (!ask(en, true, true, q))
		return CLI_EXIT_REFUSED;
	p = id_params(en);
	json_object_object_add(p, "position", json_object_new_int(pos));
	json_object_object_add(p, "reason", json_object_new_string(reason));
	json_object_object_add(p, "confirmed", json_object_new_boolean(true));
	r = step(en, "MarkFingerException", p, NULL, &reply);
	if (r == CLI_EXIT_OK) {
		printf(_("%s: exception recorded (%s).\n"), name, reason);
		cli_reply_clear(&reply);
	}
	return r;
}

static int do_finger(struct enroll *en, int pos, const char *name)
{
	struct cli_reply reply = {0};
	json_object *p;
	int r;

	for (size_t i = 0; i < en->n_exceptions; i++)
		if (en->exception_pos[i] == pos)
			return mark_exception(en, pos, name, en->exception_reason[i]);
	for (;;) {
		en->finger = name;
		en->last_stage = "";
		en->last_attempt = 0;
		p = id_params(en);
		json_object_object_add(p, "position", json_object_new_int(pos));
		r = step(en, "CaptureFinger", p, finger_progress, &reply);
		if (r != CLI_EXIT_OK)
			return r;
		if (json_object_get_boolean(json_object_object_get(reply.params, "accepted"))) {
			printf(_("%s captured (quality %d).\n"), name,
			       json_object_get_int(json_object_object_get(reply.params, "quality")));
			cli_reply_clear(&reply);
			return CLI_EXIT_OK;
		}
		printf(_("%s: the best quality was %d, below the threshold of %d.\n"), name,
		       json_object_get_int(json_object_object_get(reply.params, "quality")),
		       json_object_get_int(json_object_object_get(reply.params, "threshold")));
		cli_reply_clear(&reply);
		if (!ask(en, true, false, _("Try this finger again?")))
			return mark_exception(en, pos, name, "unreadable");
	}
}

static int do_photo(struct enroll *en)
{
	struct cli_reply reply = {0};
	long takes = 0;
	int r;

	for (;;) {
		json_object *hints;

		printf(_("Photo: the student looks into the camera.\n"));
		fflush(stdout);
		r = step(en, "CapturePhoto", id_params(en), quiet_progress, &reply);
		if (r != CLI_EXIT_OK)
			return r;
		takes++;
		hints = json_object_object_get(reply.params, "hints");
		for (size_t i = 0; hints && i < json_object_array_length(hints); i++)
			printf("  %s\n", cli_str(json_object_array_get_idx(hints, i), "text"));
		printf(_("Photo taken (quality %d).\n"),
		       json_object_get_int(json_object_object_get(reply.params, "quality")));
		cli_reply_clear(&reply);
		if (en->yes ? takes > en->retake_photo : !ask(en, false, false, _("Retake the photo?")))
			return CLI_EXIT_OK;
		printf(_("Retaking the photo.\n"));
	}
}

static int do_signature(struct enroll *en)
{
	struct cli_reply reply = {0};
	long takes = 0;
	int r;

	for (;;) {
		r = step(en, "CaptureSignature", id_params(en), quiet_progress, &reply);
		if (r != CLI_EXIT_OK)
			return r;
		takes++;
		printf(_("Signature captured (%d strokes).\n"),
		       json_object_get_int(json_object_object_get(reply.params, "strokes")));
		cli_reply_clear(&reply);
		if (en->yes ? takes > en->redo_signature : ask(en, true, true, _("Keep this signature?")))
			return CLI_EXIT_OK;
		printf(_("Signing again.\n"));
	}
}

static void abandon(struct enroll *en, const char *why)
{
	struct cli_reply reply = {0};
	json_object *p;

	if (!en->id)
		return;
	p = id_params(en);
	json_object_object_add(p, "why", json_object_new_string(why));
	if (cli_call(en->ctx, "EnrollAbort", p, &reply) == CLI_EXIT_OK)
		cli_reply_clear(&reply);
	printf(_("The enrolment was abandoned; nothing of this student was stored.\n"));
}

static int parse_exception(struct enroll *en, const char *arg)
{
	static const char *const reasons[] = {"missing", "bandaged", "scarred", "unreadable"};
	const char *colon = strchr(arg, ':');
	char *end;
	long pos = strtol(arg, &end, 10);

	if (!colon || end != colon || pos < 1 || pos > 10 || en->n_exceptions >= 10)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(reasons); i++)
		if (streq(colon + 1, reasons[i])) {
			en->exception_pos[en->n_exceptions] = (int)pos;
			en->exception_reason[en->n_exceptions++] = reasons[i];
			return 0;
		}
	return -EINVAL;
}

static int cmd_enroll_exec(struct cli_ctx *ctx, int argc, char **argv)
{
	const struct cli_cmd_entry *e = &cli_cmd_enroll_entry;
	struct enroll en = {.ctx = ctx, .last_stage = ""};
	struct cli_reply begin = {0}, reply = {0};
	const char *nik = NULL, *reason = NULL, *nama = NULL, *jk = NULL, *lahir = NULL,
		   *kelas = NULL;
	struct sigaction sa = {.sa_handler = on_sigint};
	bool redo = false;
	json_object *params, *jari;
	_cleanup_(closep) int hold = -1;
	char *idcopy = NULL;
	int r;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool more = i + 1 < argc;

		if (streq(a, "--redo"))
			redo = true;
		else if (streq(a, "--yes"))
			en.yes = true;
		else if (streq(a, "--reason") && more)
			reason = argv[++i];
		else if (streq(a, "--nama") && more)
			nama = argv[++i];
		else if (streq(a, "--jk") && more)
			jk = argv[++i];
		else if (streq(a, "--lahir") && more)
			lahir = argv[++i];
		else if (streq(a, "--kelas") && more)
			kelas = argv[++i];
		else if (streq(a, "--exception") && more) {
			if (parse_exception(&en, argv[++i]) < 0)
				return cli_usage_error(e, _("--exception wants POS:REASON, e.g. "
							    "2:bandaged"));
		} else if (streq(a, "--retake-photo") && more)
			en.retake_photo = strtol(argv[++i], NULL, 10);
		else if (streq(a, "--redo-signature") && more)
			en.redo_signature = strtol(argv[++i], NULL, 10);
		else if (a[0] == '-' || nik)
			return cli_usage_error(e, _("unexpected argument '%s'"), a);
		else
			nik = a;
	}
	if (!nik)
		return cli_usage_error(e, _("give the student's NIK"));
	if (strlen(nik) != 16)
		return cli_usage_error(e, _("a NIK has 16 digits"));
	if (redo && !reason)
		return cli_usage_error(e, _("--redo needs --reason TEXT"));
	params = json_object_new_object();
	json_object_object_add(params, "nik", json_object_new_string(nik));
	if (redo) {
		json_object_object_add(params, "redo", json_object_new_boolean(true));
		json_object_object_add(params, "reason", json_object_new_string(reason));
	}
	if (nama)
		json_object_object_add(params, "nama", json_object_new_string(nama));
	if (jk)
		json_object_object_add(params, "jenis_kelamin", json_object_new_string(jk));
	if (lahir)
		json_object_object_add(params, "tanggal_lahir", json_object_new_string(lahir));
	if (kelas)
		json_object_object_add(params, "kelas", json_object_new_string(kelas));
	/* retasd keeps the enrolment while this connection is open: were this
	 * process killed, the kernel closes it and the van is free again. */
	r = cli_call_keep(ctx, "EnrollBegin", params, &begin, &hold);
	if (r != CLI_EXIT_OK)
		return r;
	if (begin.error) {
		r = cli_report_error(&begin);
		cli_reply_clear(&begin);
		return r;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	idcopy = strdup(cli_str(begin.params, "id"));
	en.id = idcopy;
	printf(_("Recording %s (NIK %s).\n"), cli_str(begin.params, "student.nama"),
	       cli_str(begin.params, "student.nik"));
	if (json_object_get_boolean(
		json_object_object_get(json_object_object_get(begin.params, "student"), "record_only")))
		printf(_("Under 17: record only; the card can be printed from %s.\n"),
		       cli_str(begin.params, "student.eligible_on"));
	fflush(stdout);
	jari = json_object_object_get(begin.params, "jari");
	r = idcopy ? CLI_EXIT_OK : CLI_EXIT_REFUSED;
	for (size_t i = 0; r == CLI_EXIT_OK && jari && i < json_object_array_length(jari); i++) {
		json_object *f = json_object_array_get_idx(jari, i);

		r = do_finger(&en, json_object_get_int(json_object_object_get(f, "position")),
			      cli_str(f, "name"));
	}
	if (r == CLI_EXIT_OK)
		r = do_photo(&en);
	if (r == CLI_EXIT_OK)
		r = do_signature(&en);
	if (r == CLI_EXIT_OK && !interrupted)
		r = step(&en, "EnrollCommit", id_params(&en), NULL, &reply);
	if (r == CLI_EXIT_OK && interrupted)
		r = -EINTR;
	if (r != CLI_EXIT_OK) {
		if (r == -EINTR)
			printf(_("Interrupted.\n"));
		abandon(&en, r == -EINTR ? "interrupted" : "failed");
		r = r == CLI_EXIT_UNREACHABLE ? r : CLI_EXIT_REFUSED;
	} else {
		if (ctx->json)
			cli_print_json(&reply);
		else
			printf(_("Recorded: record %s. Receipt: %s\n"),
			       cli_str(reply.params, "record_id"),
			       cli_str(reply.params, "receipt_pdf"));
		cli_reply_clear(&reply);
	}
	free(idcopy);
	cli_reply_clear(&begin);
	return r;
}
