/*
 * render.c -- sql_render_template: Mode's templating into plain SQL, in two passes:
 * definition references first (definitions.c), so that Liquid inside a definition's body is
 * rendered like inline Liquid, then Liquid (liquid.c).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>

#include "sql_internal.h"

static int render(const char *text, size_t len, const struct sql_definitions *defs,
                  bool all_variants, const struct sql_cancel *cancel, char **out, size_t *out_len,
                  char *err, size_t errlen) {
  struct sql_poll poll = {.cancel = cancel};
  struct strbuf expanded, rendered;
  int rc;

  *out = NULL;
  if (out_len)
    *out_len = 0;
  if (err && errlen)
    err[0] = '\0';
  if (!text && len)
    return sql_fail(SQL_ERR_SYNTAX, err, errlen, "no template text");
  if (len > SQL_MAX_INPUT)
    return sql_fail(SQL_ERR_LIMIT, err, errlen, "template of %zu bytes exceeds the limit of %zu",
                    len, SQL_MAX_INPUT);
  sb_init(&expanded, SQL_MAX_RENDERED);
  sb_init(&rendered, SQL_MAX_RENDERED);
  rc = sql_definitions_expand(defs, text ? text : "", len, &poll, &expanded, err, errlen);
  if (rc)
    goto out;
  rc = sql_liquid_render(expanded.data ? expanded.data : "", expanded.len, all_variants, &poll,
                         &rendered, err, errlen);
  if (rc)
    goto out;
  rc = sb_finish(&rendered, out, out_len);
  if (rc)
    sql_fail(rc, err, errlen, "out of memory");
out:
  sb_free(&expanded);
  sb_free(&rendered);
  return rc;
}

int sql_render_template(const char *text, size_t len, const struct sql_definitions *defs,
                        char **out, size_t *out_len, char *err, size_t errlen) {
  return render(text, len, defs, true, NULL, out, out_len, err, errlen);
}

int sql_render_template_cancellable(const char *text, size_t len,
                                    const struct sql_definitions *defs,
                                    const struct sql_cancel *cancel, char **out, size_t *out_len,
                                    char *err, size_t errlen) {
  return render(text, len, defs, true, cancel, out, out_len, err, errlen);
}

int sql_render_preview(const char *text, size_t len, const struct sql_definitions *defs, char **out,
                       size_t *out_len, char *err, size_t errlen) {
  return render(text, len, defs, false, NULL, out, out_len, err, errlen);
}
