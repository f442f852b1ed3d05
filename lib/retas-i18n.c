/* Locale and text domain set-up for the programs. */
#include <locale.h>
#include <stdlib.h>

#include "retas-i18n.h"

void retas_i18n_init(void)
{
	const char *dir = getenv("RETAS_LOCALEDIR");

	setlocale(LC_ALL, "");
	bindtextdomain(GETTEXT_PACKAGE, dir && *dir ? dir : RETAS_LOCALEDIR);
	bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
	textdomain(GETTEXT_PACKAGE);
}
