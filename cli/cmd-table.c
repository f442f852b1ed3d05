/* The commands of retas, in the order `retas help` lists them. One line
 * per command file. */
#include <stddef.h>

#include "cli.h"

extern const struct cli_cmd_entry cli_cmd_help_entry;
extern const struct cli_cmd_entry cli_cmd_assignment_verify_entry;
extern const struct cli_cmd_entry cli_cmd_nik_entry;
extern const struct cli_cmd_entry cli_cmd_status_entry;
extern const struct cli_cmd_entry cli_cmd_assignment_load_entry;
extern const struct cli_cmd_entry cli_cmd_assignment_show_entry;
extern const struct cli_cmd_entry cli_cmd_login_entry;
extern const struct cli_cmd_entry cli_cmd_logout_entry;
extern const struct cli_cmd_entry cli_cmd_session_open_entry;
extern const struct cli_cmd_entry cli_cmd_session_close_entry;
extern const struct cli_cmd_entry cli_cmd_audit_verify_entry;
extern const struct cli_cmd_entry cli_cmd_devices_entry;
extern const struct cli_cmd_entry cli_cmd_devices_test_fingerprint_entry;
extern const struct cli_cmd_entry cli_cmd_devices_test_camera_entry;
extern const struct cli_cmd_entry cli_cmd_devices_test_signature_entry;
extern const struct cli_cmd_entry cli_cmd_students_import_entry;
extern const struct cli_cmd_entry cli_cmd_students_list_entry;
extern const struct cli_cmd_entry cli_cmd_students_absent_entry;
extern const struct cli_cmd_entry cli_cmd_enroll_entry;
extern const struct cli_cmd_entry cli_cmd_receipt_entry;
extern const struct cli_cmd_entry cli_cmd_report_entry;
extern const struct cli_cmd_entry cli_cmd_queue_entry;
extern const struct cli_cmd_entry cli_cmd_sync_entry;
extern const struct cli_cmd_entry cli_cmd_sync_export_entry;
extern const struct cli_cmd_entry cli_cmd_sync_import_receipt_entry;

const struct cli_cmd_entry *const cli_commands[] = {
	&cli_cmd_help_entry,
	&cli_cmd_nik_entry,
	&cli_cmd_assignment_verify_entry,
	&cli_cmd_status_entry,
	&cli_cmd_assignment_load_entry,
	&cli_cmd_assignment_show_entry,
	&cli_cmd_login_entry,
	&cli_cmd_logout_entry,
	&cli_cmd_session_open_entry,
	&cli_cmd_session_close_entry,
	&cli_cmd_audit_verify_entry,
	&cli_cmd_devices_entry,
	&cli_cmd_devices_test_fingerprint_entry,
	&cli_cmd_devices_test_camera_entry,
	&cli_cmd_devices_test_signature_entry,
	&cli_cmd_students_import_entry,
	&cli_cmd_students_list_entry,
	&cli_cmd_students_absent_entry,
	&cli_cmd_enroll_entry,
	&cli_cmd_receipt_entry,
	&cli_cmd_report_entry,
	&cli_cmd_queue_entry,
	&cli_cmd_sync_entry,
	&cli_cmd_sync_export_entry,
	&cli_cmd_sync_import_receipt_entry,
	NULL,
};
