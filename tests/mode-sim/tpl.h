/*
 * A tiny JSON template engine over yajl: a template is JSON text parsed once (yajl_tree);
 * rendering walks it into a yajl_gen, replacing a string value that is exactly "${name}" by the
 * typed value a resolver gives, and "${name}" inside a longer string by the value's text. Keys
 * are never substituted, so a rendered body has exactly the template's keys (Mode's, in
 * templates.c). Templates are immutable after parsing and may be rendered from many threads.
 */
#ifndef SIM_TPL_H
#define SIM_TPL_H

#include <stddef.h>
#include <yajl/yajl_gen.h>

enum tpl_kind { TPL_STR, TPL_INT, TPL_BOOL, TPL_NULL, TPL_EMIT };

/* A resolved placeholder. s is borrowed (must live until the render call returns); emit writes
 * any JSON value itself (an object, an array) and returns 0 on success. */
struct tpl_value {
  enum tpl_kind kind;
  const char *s;
  long long i;
  int (*emit)(yajl_gen g, const void *ctx);
};

/* Looks name[0..len) up for ctx; returns 0 and fills *out, or -1 when the name is unknown (a
 * programming error, reported by tpl_render). */
struct tpl_resolver {
  int (*resolve)(const void *ctx, const char *name, size_t len, struct tpl_value *out);
  const void *ctx;
};

struct tpl;

/* Parses text; on success *out owns the template (free with tpl_free). On failure writes a
 * message naming what_for into err and returns -1. */
int tpl_parse(const char *text, const char *what_for, struct tpl **out, char *err, size_t errlen);

/* Frees *t and sets it to NULL; NULL-safe. */
void tpl_free(struct tpl **t);

/* Renders t into g. Returns 0, or -1 if a placeholder is unknown or the generator fails. */
int tpl_render(const struct tpl *t, yajl_gen g, const struct tpl_resolver *r);

#endif
