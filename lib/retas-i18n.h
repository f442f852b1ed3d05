/*
 * Gettext for officer-facing text. Msgids are English; po/id.po holds the
 * Indonesian. Programs call retas_i18n_init() once at start.
 */
#pragma once

#include <libintl.h>

#include "config.h"

#define _(s) dgettext(GETTEXT_PACKAGE, s)
#define N_(s) s

/* setlocale(LC_ALL, "") and binds the text domain. The catalogue directory
 * is RETAS_LOCALEDIR from the environment when set (tests and running from
 * the build tree), the installed one otherwise. */
void retas_i18n_init(void);
