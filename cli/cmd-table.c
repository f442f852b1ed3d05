/* The commands of retas, in the order `retas help` lists them. One line
 * per command file. */
#include <stddef.h>

#include "cli.h"

extern const struct cli_cmd_entry cli_cmd_help_entry;
extern const struct cli_cmd_entry cli_cmd_assignment_verify_entry;
extern const struct cli_cmd_entry cli_cmd_nik_entry;

const struct cli_cmd_entry *const cli_commands[] = {
	&cli_cmd_help_entry,
	&cli_cmd_nik_entry,
	&cli_cmd_assignment_verify_entry,
	NULL,
};
