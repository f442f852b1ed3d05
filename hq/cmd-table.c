/* The commands of retas-hq, in the order 'retas-hq help' lists them. One
 * line per command. */
#include <stddef.h>

#include "hq-cli.h"
extern const struct hq_cmd_entry hq_cmd_init_entry;
extern const struct hq_cmd_entry hq_cmd_serve_entry;
extern const struct hq_cmd_entry hq_cmd_van_register_entry;
extern const struct hq_cmd_entry hq_cmd_staff_add_entry;
extern const struct hq_cmd_entry hq_cmd_staff_revoke_entry;
extern const struct hq_cmd_entry hq_cmd_import_entry;
extern const struct hq_cmd_entry hq_cmd_usulan_create_entry;
extern const struct hq_cmd_entry hq_cmd_usulan_list_entry;
extern const struct hq_cmd_entry hq_cmd_usulan_approve_entry;
extern const struct hq_cmd_entry hq_cmd_usulan_reject_entry;
extern const struct hq_cmd_entry hq_cmd_st_draft_entry;
extern const struct hq_cmd_entry hq_cmd_st_sign_entry;
extern const struct hq_cmd_entry hq_cmd_st_export_entry;
extern const struct hq_cmd_entry hq_cmd_st_tanda_terima_entry;
extern const struct hq_cmd_entry hq_cmd_report_pull_entry;
extern const struct hq_cmd_entry hq_cmd_issuance_scan_entry;
extern const struct hq_cmd_entry hq_cmd_issuance_verify_entry;
extern const struct hq_cmd_entry hq_cmd_issuance_enter_entry;
extern const struct hq_cmd_entry hq_cmd_issuance_print_entry;
extern const struct hq_cmd_entry hq_cmd_issuance_handover_entry;
extern const struct hq_cmd_entry hq_cmd_issuance_summary_entry;

/* clang-format off */
const struct hq_cmd_entry *const hq_commands[] = {
	&hq_cmd_init_entry,
	&hq_cmd_serve_entry,
	&hq_cmd_van_register_entry,
	&hq_cmd_staff_add_entry,
	&hq_cmd_staff_revoke_entry,
	&hq_cmd_import_entry,
	&hq_cmd_usulan_create_entry,
	&hq_cmd_usulan_list_entry,
	&hq_cmd_usulan_approve_entry,
	&hq_cmd_usulan_reject_entry,
	&hq_cmd_st_draft_entry,
	&hq_cmd_st_sign_entry,
	&hq_cmd_st_export_entry,
	&hq_cmd_st_tanda_terima_entry,
	&hq_cmd_report_pull_entry,
	&hq_cmd_issuance_scan_entry,
	&hq_cmd_issuance_verify_entry,
	&hq_cmd_issuance_enter_entry,
	&hq_cmd_issuance_print_entry,
	&hq_cmd_issuance_handover_entry,
	&hq_cmd_issuance_summary_entry,
	NULL,
};
/* clang-format on */
