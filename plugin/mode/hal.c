/*
 * hal.c -- streaming field extraction from HAL+JSON with yajl's callback parser.
 *
 * The parser keeps the dotted path of the current position (keys joined by '.', "[]" for
 * array elements). When a map opens at the item path ("_embedded.<list>[]", or the root) a
 * record starts; a scalar whose path equals one of the item's field paths is stored; the
 * record is complete when that map closes. Everything else is read and forgotten.
 *
 * Long tokens. When a token is unfinished at the end of a yajl_parse() call, yajl keeps it and
 * lexes it again from its first byte on the next call, so a string of S bytes arriving in
 * pieces of P bytes would cost S*S/2P (64 MB in 16 KB pieces: about 100 s). The reader
 * therefore follows the token boundaries itself (a tiny scanner: in a string, in an escape, in
 * a bare number or literal, or between tokens) and, while a token is open, holds pieces back
 * until they are at least as large as the part of the token yajl already holds. Each call then
 * at least doubles what yajl has, and the total re-lexing is linear. The scanner decides only
 * when to call yajl, never what it sees: a wrong guess costs time, not correctness, and
 * mode_hal_finish() hands over whatever is held. The held bytes belong to one token, which the
 * caller's body cap already bounds.
 */
#include "config.h"

#include "hal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

const char *const mode_hal_envelope[MODE_HAL_ENV_N] = {"_links.next_page.href",
                                                        "pagination.total_pages"};

#define HAL_PATH_MAX 512
#define HAL_DEPTH_MAX 128

struct hal_frame {
  size_t base_len; /* path length when the container opened */
  int is_array;
};

struct mode_hal_parser {
  const struct mode_hal_spec *spec;
  size_t max_value;
  yajl_handle yajl;
  char **field_paths; /* owned: full paths of the fields */
  char *item_path;    /* owned: full path of an item */
  char *list_path;    /* owned: "_embedded.<list>" or NULL */
  char path[HAL_PATH_MAX];
  size_t path_len;
  struct hal_frame frames[HAL_DEPTH_MAX];
  int depth;
  int overflow;   /* >0 while inside a path too long or deep to track */
  int item_depth; /* depth of the current item's map, 0 when outside any item */
  struct mode_hal_record cur;
  int at_root;                     /* the list is the root's own (spec->list "/name") */
  struct mode_hal_record env;      /* owned: the envelope's values (at_root) */
  struct mode_hal_record *records; /* owned */
  size_t n_records, cap_records;
  int list_seen;
  int failed;
  char error[160];
  /* Pieces held back while a token is open (see the top of the file). */
  char *held;            /* owned: bytes not yet given to yajl */
  size_t held_len, held_cap;
  size_t tok_len;        /* bytes of the open token so far, 0 between tokens */
  size_t tok_in_yajl;    /* bytes of the open token yajl holds already */
  enum { TOK_NONE, TOK_STRING, TOK_ESCAPE, TOK_BARE } tok;
};

static void record_clear(struct mode_hal_record *r) {
  if (r->fields == NULL)
    return;
  for (size_t i = 0; i < r->n_fields; i++) {
    for (size_t j = 0; j < r->fields[i].n; j++)
      free(r->fields[i].v[j]);
    free(r->fields[i].v);
  }
  free(r->fields);
  r->fields = NULL;
  r->n_fields = 0;
}

static int fail(struct mode_hal_parser *p, const char *why) {
  if (!p->failed) {
    p->failed = 1;
    snprintf(p->error, sizeof p->error, "%s", why);
  }
  return 0; /* tells yajl to stop */
}

static int path_push_key(struct mode_hal_parser *p, const unsigned char *key, size_t len) {
  struct hal_frame *f = &p->frames[p->depth - 1];
  p->path_len = f->base_len;
  size_t need = len + (f->base_len ? 1 : 0);
  if (p->path_len + need >= HAL_PATH_MAX) {
    p->overflow = 1;
    p->path[p->path_len] = '\0';
    return 1;
  }
  p->overflow = 0;
  if (f->base_len)
    p->path[p->path_len++] = '.';
  memcpy(p->path + p->path_len, key, len);
  p->path_len += len;
  p->path[p->path_len] = '\0';
  return 1;
}

/* A copy of val[0..len) with each NUL replaced by U+FFFD (a NUL would cut the C string short
 * and make a token or a name silently shorter). Returns NULL on OOM. */
static char *copy_value(const char *val, size_t len, int *had_nul) {
  size_t nuls = 0;
  for (size_t i = 0; i < len; i++)
    nuls += val[i] == '\0';
  *had_nul = nuls > 0;
  char *out = malloc(len + 2 * nuls + 1);
  if (out == NULL)
    return NULL;
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    if (val[i] == '\0') {
      memcpy(out + o, "\xEF\xBF\xBD", 3);
      o += 3;
    } else {
      out[o++] = val[i];
    }
  }
  out[o] = '\0';
  return out;
}

/* Whether the current path is the field's: equal, or for a field "a.**.b" any path that starts
 * with "a." and ends with ".b" with at least one key between them (hal.h). */
static int path_matches(const struct mode_hal_parser *p, const char *field) {
  const char *star = strstr(field, "**");
  if (star == NULL)
    return strcmp(p->path, field) == 0;
  size_t plen = (size_t)(star - field), slen = strlen(star + 2);
  return p->path_len >= plen + slen + 1 && strncmp(p->path, field, plen) == 0 &&
         strcmp(p->path + p->path_len - slen, star + 2) == 0;
}

static int add_value(struct mode_hal_parser *p, const char *val, size_t len) {
  if (p->overflow)
    return 1;
  const char *const *paths = p->item_depth ? (const char *const *)p->field_paths : mode_hal_envelope;
  size_t n = p->item_depth ? p->spec->n_fields : p->env.fields ? MODE_HAL_ENV_N : 0;
  for (size_t i = 0; i < n; i++) {
    if (!path_matches(p, paths[i]))
      continue;
    if (len > p->max_value)
      return fail(p, "a value exceeds the size limit");
    struct mode_hal_value *v = p->item_depth ? &p->cur.fields[i] : &p->env.fields[i];
    char **nv = realloc(v->v, (v->n + 1) * sizeof *nv);
    if (nv == NULL)
      return fail(p, "out of memory");
    v->v = nv;
    int had_nul = 0;
    v->v[v->n] = copy_value(val, len, &had_nul);
    if (v->v[v->n] == NULL)
      return fail(p, "out of memory");
    v->had_nul |= had_nul;
    v->n++;
    return 1;
  }
  return 1;
}

static int push_record(struct mode_hal_parser *p, struct mode_hal_record rec) {
  if (p->n_records == p->cap_records) {
    size_t cap = p->cap_records ? p->cap_records * 2 : 16;
    struct mode_hal_record *r = realloc(p->records, cap * sizeof *r);
    if (r == NULL) {
      record_clear(&rec);
      return fail(p, "out of memory");
    }
    p->records = r;
    p->cap_records = cap;
  }
  p->records[p->n_records++] = rec;
  return 1;
}

/* The shape rules of a list body (hal.h): checked before each value or container. A list
 * element that is not an object becomes a record without fields. */
static int check_shape(struct mode_hal_parser *p, int is_map, int is_array, const char *what) {
  char why[160];
  if (p->spec->list == NULL || p->overflow || p->failed)
    return 1;
  if (p->depth == 0 && !is_map) {
    snprintf(why, sizeof why, "the body is %s, not an object", what);
    return fail(p, why);
  }
  if (!p->at_root && p->depth == 1 && strcmp(p->path, "_embedded") == 0 && !is_map) {
    snprintf(why, sizeof why, "_embedded is %s, not an object", what);
    return fail(p, why);
  }
  if (p->depth == (p->at_root ? 1 : 2) && strcmp(p->path, p->list_path) == 0 && !is_array) {
    snprintf(why, sizeof why, "%s is %s, not a list", p->list_path, what);
    return fail(p, why);
  }
  if (p->item_depth == 0 && !is_map && strcmp(p->path, p->item_path) == 0) {
    struct mode_hal_record rec = {
        calloc(p->spec->n_fields ? p->spec->n_fields : 1, sizeof *rec.fields), p->spec->n_fields};
    if (rec.fields == NULL)
      return fail(p, "out of memory");
    return push_record(p, rec);
  }
  return 1;
}

static int cb_null(void *ctx) {
  return check_shape(ctx, 0, 0, "null");
}
static int cb_boolean(void *ctx, int b) {
  return check_shape(ctx, 0, 0, "a boolean") && add_value(ctx, b ? "true" : "false", b ? 4 : 5);
}
static int cb_number(void *ctx, const char *s, size_t l) {
  return check_shape(ctx, 0, 0, "a number") && add_value(ctx, s, l);
}
static int cb_string(void *ctx, const unsigned char *s, size_t l) {
  return check_shape(ctx, 0, 0, "a string") && add_value(ctx, (const char *)s, l);
}

static int open_container(struct mode_hal_parser *p, int is_array) {
  if (p->depth >= HAL_DEPTH_MAX)
    return fail(p, "JSON nested too deeply");
  if (!check_shape(p, !is_array, is_array, is_array ? "an array" : "an object"))
    return 0;
  if (is_array && p->list_path && !p->overflow && strcmp(p->path, p->list_path) == 0)
    p->list_seen = 1;
  int starts_item =
      !is_array && p->item_depth == 0 && !p->overflow && strcmp(p->path, p->item_path) == 0;
  p->frames[p->depth].base_len = p->path_len;
  p->frames[p->depth].is_array = is_array;
  p->depth++;
  if (is_array) {
    if (p->path_len + 2 >= HAL_PATH_MAX) {
      p->overflow = 1;
    } else {
      memcpy(p->path + p->path_len, "[]", 3);
      p->path_len += 2;
    }
  }
  if (starts_item) {
    p->item_depth = p->depth;
    p->cur.n_fields = p->spec->n_fields;
    p->cur.fields = calloc(p->spec->n_fields ? p->spec->n_fields : 1, sizeof *p->cur.fields);
    if (p->cur.fields == NULL)
      return fail(p, "out of memory");
  }
  return 1;
}

static int close_container(struct mode_hal_parser *p) {
  if (p->item_depth == p->depth) {
    struct mode_hal_record rec = p->cur;
    p->cur.fields = NULL;
    p->cur.n_fields = 0;
    p->item_depth = 0;
    if (!push_record(p, rec))
      return 0;
  }
  p->depth--;
  p->path_len = p->frames[p->depth].base_len;
  p->path[p->path_len] = '\0';
  /* The enclosing map's key path is restored; the next key replaces it. */
  p->overflow = 0;
  return 1;
}

static int cb_start_map(void *ctx) {
  return open_container(ctx, 0);
}
static int cb_end_map(void *ctx) {
  return close_container(ctx);
}
static int cb_start_array(void *ctx) {
  return open_container(ctx, 1);
}
static int cb_end_array(void *ctx) {
  return close_container(ctx);
}
static int cb_map_key(void *ctx, const unsigned char *key, size_t len) {
  return path_push_key(ctx, key, len);
}

static char *hal_join(const char *a, const char *b, const char *c);

static const yajl_callbacks hal_callbacks = {cb_null,    cb_boolean,     NULL,         NULL,
                                             cb_number,  cb_string,      cb_start_map, cb_map_key,
                                             cb_end_map, cb_start_array, cb_end_array};

struct mode_hal_parser *mode_hal_parser_new(const struct mode_hal_spec *spec, size_t max_value) {
  struct mode_hal_parser *p = calloc(1, sizeof *p);
  if (p == NULL)
    return NULL;
  p->spec = spec;
  p->max_value = max_value;
  if (spec->list) {
    p->at_root = spec->list[0] == '/';
    const char *under = p->at_root ? "" : "_embedded.";
    p->list_path = hal_join(under, spec->list + p->at_root, "");
    p->item_path = hal_join(under, spec->list + p->at_root, "[]");
    if (p->at_root) {
      p->env.n_fields = MODE_HAL_ENV_N;
      if ((p->env.fields = calloc(MODE_HAL_ENV_N, sizeof *p->env.fields)) == NULL)
        goto fail_alloc;
    }
  } else {
    p->item_path = hal_join("", "", "");
  }
  p->field_paths = calloc(spec->n_fields ? spec->n_fields : 1, sizeof *p->field_paths);
  if (p->item_path == NULL || (spec->list && p->list_path == NULL) || p->field_paths == NULL)
    goto fail_alloc;
  for (size_t i = 0; i < spec->n_fields; i++) {
    p->field_paths[i] = hal_join(p->item_path, *p->item_path ? "." : "", spec->fields[i]);
    if (p->field_paths[i] == NULL)
      goto fail_alloc;
  }
  p->yajl = yajl_alloc(&hal_callbacks, NULL, p);
  if (p->yajl == NULL)
    goto fail_alloc;
  return p;
fail_alloc:
  mode_hal_parser_free(&p);
  return NULL;
}

static char *hal_join(const char *a, const char *b, const char *c) {
  size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
  char *s = malloc(la + lb + lc + 1);
  if (s == NULL)
    return NULL;
  memcpy(s, a, la);
  memcpy(s + la, b, lb);
  memcpy(s + la + lb, c, lc + 1);
  return s;
}

static void set_yajl_error(struct mode_hal_parser *p, const unsigned char *buf, size_t len) {
  if (p->failed)
    return;
  unsigned char *msg = yajl_get_error(p->yajl, 0, buf, len);
  fail(p, msg ? (const char *)msg : "invalid JSON");
  if (msg)
    yajl_free_error(p->yajl, msg);
}

/* Follows token boundaries over buf: updates p->tok and p->tok_len. */
static void scan_tokens(struct mode_hal_parser *p, const char *buf, size_t len) {
  for (size_t i = 0; i < len; i++) {
    char c = buf[i];
    switch (p->tok) {
    case TOK_ESCAPE:
      p->tok = TOK_STRING;
      p->tok_len++;
      continue;
    case TOK_STRING: {
      /* Strings are where long tokens live: skip to the next quote or backslash. */
      const char *q = buf + i, *end = buf + len;
      while (q < end && *q != '"' && *q != '\\')
        q++;
      p->tok_len += (size_t)(q - (buf + i));
      i = (size_t)(q - buf);
      if (q == end)
        return;
      p->tok_len++;
      if (*q == '"') {
        p->tok = TOK_NONE;
        p->tok_len = 0;
      } else {
        p->tok = TOK_ESCAPE;
      }
      continue;
    }
    case TOK_BARE:
      if (strchr("{}[]:,\" \t\r\n", c) == NULL || c == '\0') {
        p->tok_len++;
        continue;
      }
      p->tok = TOK_NONE;
      p->tok_len = 0;
      /* c starts something new */
      __attribute__((fallthrough));
    case TOK_NONE:
      if (c == '"') {
        p->tok = TOK_STRING;
        p->tok_len = 1;
      } else if (strchr("{}[]:, \t\r\n", c) == NULL || c == '\0') {
        p->tok = TOK_BARE;
        p->tok_len = 1;
      }
      continue;
    }
  }
}

/* Gives yajl everything held. */
static int flush_held(struct mode_hal_parser *p) {
  const unsigned char *buf = (const unsigned char *)p->held;
  size_t len = p->held_len;
  p->held_len = 0;
  p->tok_in_yajl = p->tok_len;
  if (yajl_parse(p->yajl, buf, len) != yajl_status_ok) {
    set_yajl_error(p, buf, len);
    return -1;
  }
  return 0;
}

static int hold(struct mode_hal_parser *p, const char *buf, size_t len) {
  if (len > p->held_cap - p->held_len) {
    size_t cap = p->held_cap ? p->held_cap : 16384;
    while (cap - p->held_len < len) {
      if (cap > SIZE_MAX / 2) {
        fail(p, "out of memory");
        return -1;
      }
      cap *= 2;
    }
    char *h = realloc(p->held, cap);
    if (h == NULL) {
      fail(p, "out of memory");
      return -1;
    }
    p->held = h;
    p->held_cap = cap;
  }
  memcpy(p->held + p->held_len, buf, len);
  p->held_len += len;
  return 0;
}

int mode_hal_feed(struct mode_hal_parser *p, const char *buf, size_t len) {
  if (p->failed)
    return -1;
  scan_tokens(p, buf, len);
  if (p->tok == TOK_NONE || p->held_len + len >= p->tok_in_yajl) {
    /* The common case, nothing held: hand curl's piece straight to yajl. */
    if (p->held_len == 0) {
      p->tok_in_yajl = p->tok_len;
      if (yajl_parse(p->yajl, (const unsigned char *)buf, len) != yajl_status_ok) {
        set_yajl_error(p, (const unsigned char *)buf, len);
        return -1;
      }
      return 0;
    }
    if (hold(p, buf, len) != 0)
      return -1;
    return flush_held(p);
  }
  return hold(p, buf, len) != 0 ? -1 : 0;
}

int mode_hal_finish(struct mode_hal_parser *p) {
  if (p->failed)
    return -1;
  if (p->held_len > 0 && flush_held(p) != 0)
    return -1;
  if (yajl_complete_parse(p->yajl) != yajl_status_ok) {
    set_yajl_error(p, NULL, 0);
    return -1;
  }
  if (p->depth != 0 || (p->n_records == 0 && p->spec->list == NULL)) {
    fail(p, "body is not a JSON object");
    return -1;
  }
  return 0;
}

const char *mode_hal_error(const struct mode_hal_parser *p) {
  return p->failed ? p->error : "no error";
}

int mode_hal_list_seen(const struct mode_hal_parser *p) {
  return p->list_seen;
}

void mode_hal_take(struct mode_hal_parser *p, struct mode_hal_record **records, size_t *n) {
  *records = p->records;
  *n = p->n_records;
  p->records = NULL;
  p->n_records = p->cap_records = 0;
}

struct mode_hal_record *mode_hal_take_envelope(struct mode_hal_parser *p) {
  struct mode_hal_record *rec = p->env.fields ? malloc(sizeof *rec) : NULL;
  if (rec == NULL)
    return NULL;
  *rec = p->env;
  p->env.fields = NULL;
  p->env.n_fields = 0;
  return rec;
}

void mode_hal_parser_free(struct mode_hal_parser **pp) {
  if (pp == NULL || *pp == NULL)
    return;
  struct mode_hal_parser *p = *pp;
  if (p->yajl)
    yajl_free(p->yajl);
  if (p->field_paths)
    for (size_t i = 0; i < p->spec->n_fields; i++)
      free(p->field_paths[i]);
  free(p->field_paths);
  free(p->item_path);
  free(p->list_path);
  record_clear(&p->cur);
  record_clear(&p->env);
  mode_hal_records_free(p->records, p->n_records);
  free(p->held);
  free(p);
  *pp = NULL;
}

const char *mode_hal_get(const struct mode_hal_record *r, size_t i) {
  if (r == NULL || i >= r->n_fields || r->fields[i].n == 0)
    return NULL;
  return r->fields[i].v[0];
}

void mode_hal_records_free(struct mode_hal_record *records, size_t n) {
  if (records == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    record_clear(&records[i]);
  free(records);
}
