/*
 * filter.h -- OpenMetadata's include/exclude name patterns, with its semantics: a pattern
 * matches when it matches at the start of the name, ignoring case (Python's re.match with
 * re.IGNORECASE); when includes are given, a name is kept only if one matches (excludes are
 * then not consulted); otherwise a name is dropped when any exclude matches. Patterns are
 * POSIX extended regexes.
 */
#ifndef MODE_FILTER_H
#define MODE_FILTER_H

#include <regex.h>
#include <stddef.h>

struct mode_filter {
  regex_t *includes; /* owned */
  size_t n_includes;
  regex_t *excludes; /* owned */
  size_t n_excludes;
};

/* Compiles pattern into the include (is_include) or exclude list. Returns 0, or -1 with a
 * reason in err (the regex error) . */
int mode_filter_add(struct mode_filter *f, int is_include, const char *pattern, char *err,
                    size_t errlen);
/* Whether name passes the filter (1) or is filtered out (0). A NULL or empty name passes only
 * an empty filter. */
int mode_filter_allows(const struct mode_filter *f, const char *name);
int mode_filter_empty(const struct mode_filter *f);
void mode_filter_free(struct mode_filter *f);

#endif
