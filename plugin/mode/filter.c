/*
 * filter.c -- include/exclude patterns (see filter.h).
 */
#include "config.h"

#include "filter.h"

#include <stdlib.h>
#include <string.h>

int mode_filter_add(struct mode_filter *f, int is_include, const char *pattern, char *err,
                    size_t errlen) {
  regex_t **list = is_include ? &f->includes : &f->excludes;
  size_t *n = is_include ? &f->n_includes : &f->n_excludes;
  regex_t *grown = realloc(*list, (*n + 1) * sizeof *grown);
  if (grown == NULL) {
    if (errlen)
      strncpy(err, "out of memory", errlen - 1), err[errlen - 1] = '\0';
    return -1;
  }
  *list = grown;
  /* OpenMetadata matches with re.match(regex, name, re.IGNORECASE). */
  int rc = regcomp(&grown[*n], pattern, REG_EXTENDED | REG_ICASE);
  if (rc != 0) {
    regerror(rc, &grown[*n], err, errlen);
    return -1;
  }
  (*n)++;
  return 0;
}

static int matches_at_start(const regex_t *re, const char *name) {
  regmatch_t m;
  return regexec(re, name, 1, &m, 0) == 0 && m.rm_so == 0;
}

int mode_filter_empty(const struct mode_filter *f) {
  return f->n_includes == 0 && f->n_excludes == 0;
}

int mode_filter_allows(const struct mode_filter *f, const char *name) {
  if (mode_filter_empty(f))
    return 1;
  if (name == NULL)
    return 0;
  if (f->n_includes > 0) {
    for (size_t i = 0; i < f->n_includes; i++)
      if (matches_at_start(&f->includes[i], name))
        return 1;
    return 0;
  }
  for (size_t i = 0; i < f->n_excludes; i++)
    if (matches_at_start(&f->excludes[i], name))
      return 0;
  return 1;
}

void mode_filter_free(struct mode_filter *f) {
  if (f == NULL)
    return;
  for (size_t i = 0; i < f->n_includes; i++)
    regfree(&f->includes[i]);
  for (size_t i = 0; i < f->n_excludes; i++)
    regfree(&f->excludes[i]);
  free(f->includes);
  free(f->excludes);
  memset(f, 0, sizeof *f);
}
