/*
 * Small helpers every part of the kit uses: scope-bound cleanup of locals,
 * explicit hand-off of ownership, and a few array and string helpers.
 * Header only; nothing here allocates on its own.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Hands a pointer over to the caller: returns it and clears the local so
 * its cleanup attribute does nothing. */
#define steal_ptr(p)                                                                               \
	({                                                                                         \
		__typeof__(p) _stolen = (p);                                                       \
		(p) = NULL;                                                                        \
		_stolen;                                                                           \
	})

#define steal_fd(fd)                                                                               \
	({                                                                                         \
		int _stolen = (fd);                                                                \
		(fd) = -1;                                                                         \
		_stolen;                                                                           \
	})

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

/* Declares NAMEp(type **) that calls NAME on a non-NULL pointer, for use
 * with _cleanup_. */
#define RETAS_DEFINE_CLEANUP(type, func)                                                           \
	static inline void func##p(type **p)                                                       \
	{                                                                                          \
		if (*p)                                                                            \
			func(*p);                                                                  \
	}

static inline int streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

/* Writes 2*len lowercase hex digits and a NUL into out. */
void retas_hex_encode(const uint8_t *in, size_t len, char *out);
/* Parses exactly 2*len hex digits from in; 0 or -EINVAL. */
int retas_hex_decode(const char *in, uint8_t *out, size_t len);
/* True when len bytes are well-formed UTF-8 (no overlong forms, surrogates
 * or values past U+10FFFF). Unless controls is set, C0 and C1 control
 * characters and DEL are refused too, as in a name or a title. */
bool retas_utf8_valid(const void *s, size_t len, bool controls);
/* How many words of name ("surat-tugas sign") the leading arguments of
 * argv spell out exactly, or 0 when they do not: how the command lines of
 * retas and retas-hq find a multi-word command. */
size_t retas_words_match(const char *name, int argc, char *const *argv);
/* Overwrites a secret before it is freed. NULL is a no-op. */
void retas_free_secret(void *p, size_t len);
