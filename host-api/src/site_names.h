/*
 * site_names.h -- file names of the site's pages, derived from ids and FQNs (hostile input: a
 * report may be named "../../etc/passwd", a table FQN holds "*").
 *
 * A name keeps letters, digits, '_' and '-' of its key, and '.' where it does not follow another
 * '.' or start the name; anything else becomes '_'. It is capped at SITE_SLUG_MAX bytes. Keys
 * whose names would collide, even only by case (macOS and Windows file systems fold case), and
 * names that were cut, get "-" and 8 hex digits of a hash of the whole key, so each key keeps the
 * same file from one build of the site to the next; a collision left after that gets "-2", "-3".
 */
#ifndef HOST_SITE_NAMES_H
#define HOST_SITE_NAMES_H

#include <stddef.h>

#define SITE_SLUG_MAX 80

/* Sets names[i] to "<prefix><slug of keys[i]>.html" for i < n, all distinct ignoring case.
 * prefix must itself be a safe name ("d-", "t-"). 0 on success (each names[i] malloc'd, owned
 * by the caller); -1 on OOM with every names[i] NULL. */
int site_page_names(const char *prefix, const char *const *keys, size_t n, char **names);

#endif
