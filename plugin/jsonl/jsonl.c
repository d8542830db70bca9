/*
 * jsonl.c -- the `jsonl` source: replays entity records from JSON Lines files, the format the
 * `file` sink writes (docs/entities.md):
 *
 *   {"kind": "chart", "id": "abc", "source": "mode-prod", "data": {...}, <other members>}
 *
 * Each line becomes one entity: kind and id from the record, json = the record without kind,
 * id and source (which the host adds back for the new serviceName). A line that is not such a
 * record is a diagnostic naming file:line, marked as a lost item, and the rest goes on.
 *
 * It is also the worked example of the ABI (docs/abi.md): one exported entry function, a
 * static descriptor, an instance that owns everything it hands out, no globals, interrupt()
 * that only sets a flag, and every service call through the table the host gave to open(): diag
 * always (a host of our major passes at least that much), count, cancelled and test_step only
 * when the table's struct_size says it has them, and nothing at all under another major.
 */
#include "config.h"

#include <etl/plugin.h>

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>
#include <yajl/yajl_tree.h>

#define JSONL_MAX_LINE (64u * 1024 * 1024) /* a record larger than this is refused */
/* A record nested deeper than this is refused (yajl_gen, which writes it out again, stops at
 * 128). */
#define JSONL_MAX_DEPTH 100

/* One running replay. Everything here is owned by the instance. */
struct jsonl {
  const struct etl_host_services *svc; /* the host's table (static in the host) */
  struct etl_run *run;                 /* the host's handle for this source */
  char **paths;                        /* the files, in order */
  size_t n_paths;
  size_t next_path; /* index of the file after the current one */
  FILE *file;       /* the file being read, or NULL between files */
  const char *file_name;
  unsigned long line_no;
  char *line; /* getline's buffer */
  size_t line_cap;
  yajl_gen gen;    /* holds the json handed out until the next call */
  char *kind, *id; /* of the entity handed out */
  struct etl_entity entity;
  atomic_int stop;  /* set by interrupt() from another thread: atomic, not volatile, for that */
  etl_status final; /* once the stream has ended: the status returned ever after */
};

static const char config_schema[] =
    "{\"$schema\": \"http://json-schema.org/draft-07/schema#\","
    " \"title\": \"jsonl source\","
    " \"type\": \"object\","
    " \"properties\": {"
    "  \"type\": {\"type\": \"string\", \"description\": \"ignored (OpenMetadata's habit)\"},"
    "  \"path\": {\"description\": \"JSON Lines file(s) written by the file sink\","
    "   \"oneOf\": [{\"type\": \"string\", \"minLength\": 1},"
    "    {\"type\": \"array\", \"items\": {\"type\": \"string\", \"minLength\": 1},"
    " \"minItems\": 1}]}},"
    " \"required\": [\"path\"],"
    " \"additionalProperties\": false}";

static void diag(struct jsonl *j, enum etl_severity sev, unsigned flags, const char *item,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void diag(struct jsonl *j, enum etl_severity sev, unsigned flags, const char *item,
                 const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  j->svc->diag(j->run, sev, flags, item, msg);
}

/* The services after diag, each used only when the host's table has it (plugin.h). */
static bool cancelled(struct jsonl *j) {
  if (atomic_load(&j->stop))
    return true;
  return ETL_HAS_MEMBER(j->svc, struct etl_host_services, cancelled) && j->svc->cancelled &&
         j->svc->cancelled(j->run);
}

static void count_bytes(const struct jsonl *j, int64_t n) {
  if (ETL_HAS_MEMBER(j->svc, struct etl_host_services, count) && j->svc->count)
    j->svc->count(j->run, ETL_COUNTER_BYTES, n);
}

static void test_step(const struct jsonl *j, const char *step, enum etl_test_verdict verdict,
                      const char *message) {
  if (ETL_HAS_MEMBER(j->svc, struct etl_host_services, test_step) && j->svc->test_step)
    j->svc->test_step(j->run, step, verdict, message);
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

static void jsonl_close(void *instance) {
  struct jsonl *j = instance;
  if (!j)
    return;
  if (j->file)
    fclose(j->file);
  for (size_t i = 0; i < j->n_paths; i++)
    free(j->paths[i]);
  free(j->paths);
  free(j->line);
  free(j->kind);
  free(j->id);
  if (j->gen)
    yajl_gen_free(j->gen);
  free(j);
}

static int add_path(struct jsonl *j, yajl_val v, const char *where) {
  const char *s = YAJL_GET_STRING(v); /* NULL unless v is a string */
  if (!s || !*s) {
    diag(j, ETL_SEV_ERROR, 0, NULL, "serviceConnection.config.%s: expected a non-empty string",
         where);
    return -1;
  }
  char **grown = realloc(j->paths, (j->n_paths + 1) * sizeof *grown);
  if (!grown)
    return -1;
  j->paths = grown;
  if (!(j->paths[j->n_paths] = strdup(s)))
    return -1;
  j->n_paths++;
  return 0;
}

/* Reads {"path": "x" | ["x", ...]} into j->paths, naming the key at fault on error. */
static etl_status parse_config(struct jsonl *j, const char *text, size_t len) {
  char err[256] = "";
  char *copy = strndup(text, len);
  if (!copy)
    return ETL_ERR_NOMEM;
  yajl_val root = yajl_tree_parse(copy, err, sizeof err);
  free(copy);
  etl_status st = ETL_ERR_CONFIG;
  if (!YAJL_IS_OBJECT(root)) {
    diag(j, ETL_SEV_ERROR, 0, NULL, "serviceConnection.config: expected a mapping");
    goto out;
  }
  yajl_val path = NULL;
  for (size_t i = 0; i < root->u.object.len; i++) {
    const char *key = root->u.object.keys[i];
    if (strcmp(key, "path") == 0)
      path = root->u.object.values[i];
    else if (strcmp(key, "type") != 0) {
      diag(j, ETL_SEV_ERROR, 0, NULL, "serviceConnection.config.%s: unknown key (expected: path)",
           key);
      goto out;
    }
  }
  if (!path) {
    diag(j, ETL_SEV_ERROR, 0, NULL,
         "serviceConnection.config.path: required key is missing (a file or a list of files)");
    goto out;
  }
  if (YAJL_IS_ARRAY(path)) {
    for (size_t i = 0; i < path->u.array.len; i++) {
      char where[32];
      snprintf(where, sizeof where, "path[%zu]", i);
      if (add_path(j, path->u.array.values[i], where) != 0)
        goto out;
    }
  } else if (add_path(j, path, "path") != 0) {
    goto out;
  }
  if (j->n_paths == 0) {
    diag(j, ETL_SEV_ERROR, 0, NULL, "serviceConnection.config.path: the list is empty");
    goto out;
  }
  st = ETL_OK;
out:
  yajl_tree_free(root);
  return st;
}

static etl_status jsonl_open(const struct etl_open_args *args, void **instance) {
  *instance = NULL;
  /* Under another major not even diag may be called: the table's layout is unknown. */
  if (!args->services || args->services->abi_major != ETL_ABI_MAJOR ||
      args->services->struct_size < ETL_HOST_SERVICES_MIN_SIZE)
    return ETL_ERR_UNSUPPORTED;
  struct jsonl *j = calloc(1, sizeof *j);
  if (!j)
    return ETL_ERR_NOMEM;
  atomic_init(&j->stop, 0);
  j->svc = args->services;
  j->run = args->run;
  j->gen = yajl_gen_alloc(NULL);
  if (!j->gen) {
    jsonl_close(j);
    return ETL_ERR_NOMEM;
  }
  /* The replay has no cursor worth saving: a file is cheap to read again, and a full replay
   * lets the sink mark what is gone. So args->state_json is ignored and no state is emitted. */
  etl_status st = parse_config(j, args->config_json, args->config_json_len);
  if (st != ETL_OK) {
    jsonl_close(j);
    return st;
  }
  *instance = j;
  return ETL_OK;
}

static etl_status jsonl_test(void *instance) {
  struct jsonl *j = instance;
  etl_status st = ETL_OK;
  for (size_t i = 0; i < j->n_paths; i++) {
    char step[64];
    snprintf(step, sizeof step, "file %zu", i + 1);
    FILE *f = fopen(j->paths[i], "r");
    if (f) {
      fclose(f);
      test_step(j, step, ETL_TEST_PASS, j->paths[i]);
      continue;
    }
    char msg[1024];
    snprintf(msg, sizeof msg, "%s: %s", j->paths[i], strerror(errno));
    test_step(j, step, ETL_TEST_FAIL, msg);
    st = ETL_ERR_CONFIG;
  }
  return st;
}

static void jsonl_interrupt(void *instance) {
  struct jsonl *j = instance;
  atomic_store(&j->stop, 1);
}

/* ---- one record --------------------------------------------------------------------------- */

/*
 * A line is read with yajl's callback parser, not its tree: the tree parser has no depth limit
 * and yajl_tree_free recurses, so a line nested 300000 deep overflowed the stack, and its
 * strings carry no length, so an id with \u0000 was silently cut short. The callbacks re-emit
 * the record into j->gen as they go, leaving out the top-level `kind`, `id` and `source`
 * members, which they keep aside; depth is counted and a line nested deeper than
 * JSONL_MAX_DEPTH is refused at the first bracket too many.
 */

enum member { MEMBER_OTHER, MEMBER_KIND, MEMBER_ID, MEMBER_SOURCE, MEMBER_DATA };

/* The state of one line's parse. */
struct record {
  struct jsonl *j;
  int depth;          /* containers open */
  int skip_depth;     /* > 0: inside the value of a member left out, opened at this depth */
  bool root_is_map;   /* the line is an object */
  bool data_is_map;   /* its `data` is an object */
  enum member member; /* what the value being read at depth 1 is */
  char *kind, *id;    /* owned: the members' values, NULL when absent or not strings */
  size_t kind_len, id_len;
  bool kind_seen, id_seen;
  bool too_deep;          /* a callback stopped the parse at JSONL_MAX_DEPTH */
  const char *why;        /* otherwise why a callback stopped it, for the message */
  yajl_gen_status gen_st; /* the first failure re-emitting the record */
};

/* Whether this value is re-emitted: inside the root object, outside a member left out. */
static bool emitting(const struct record *r) {
  return r->root_is_map && r->skip_depth == 0 && r->depth >= 1;
}

static int gen_ok(struct record *r, yajl_gen_status st) {
  if (st != yajl_gen_status_ok && r->gen_st == yajl_gen_status_ok)
    r->gen_st = st;
  return 1;
}

/* A value of a top-level member left out: `kind` and `id` are kept when they are strings. */
static int take_member(struct record *r, const unsigned char *s, size_t len, bool is_string) {
  char **slot = r->member == MEMBER_KIND ? &r->kind : r->member == MEMBER_ID ? &r->id : NULL;
  size_t *slot_len = r->member == MEMBER_KIND ? &r->kind_len : &r->id_len;
  r->member = MEMBER_OTHER;
  if (!slot || !is_string)
    return 1;
  if (!(*slot = malloc(len + 1))) {
    r->why = "out of memory";
    return 0;
  }
  memcpy(*slot, s, len);
  (*slot)[len] = '\0';
  *slot_len = len;
  return 1;
}

/* Every scalar goes through here: at depth 1 it may be a member left out. */
static bool scalar_taken(struct record *r, int *rc, const unsigned char *s, size_t len,
                         bool is_string) {
  if (r->depth != 1 || r->skip_depth != 0 || !r->root_is_map || r->member == MEMBER_OTHER ||
      r->member == MEMBER_DATA) {
    if (r->depth == 1)
      r->member = MEMBER_OTHER;
    return false;
  }
  *rc = take_member(r, s, len, is_string);
  return true;
}

static int on_null(void *ctx) {
  struct record *r = ctx;
  int rc = 1;
  if (scalar_taken(r, &rc, NULL, 0, false))
    return rc;
  return emitting(r) ? gen_ok(r, yajl_gen_null(r->j->gen)) : 1;
}

static int on_boolean(void *ctx, int b) {
  struct record *r = ctx;
  int rc = 1;
  if (scalar_taken(r, &rc, NULL, 0, false))
    return rc;
  return emitting(r) ? gen_ok(r, yajl_gen_bool(r->j->gen, b)) : 1;
}

/* Numbers pass through as their original text: no precision lost. */
static int on_number(void *ctx, const char *s, size_t len) {
  struct record *r = ctx;
  int rc = 1;
  if (scalar_taken(r, &rc, NULL, 0, false))
    return rc;
  return emitting(r) ? gen_ok(r, yajl_gen_number(r->j->gen, s, len)) : 1;
}

/* Strings keep their length, so a \u0000 inside one is re-emitted, not cut short. */
static int on_string(void *ctx, const unsigned char *s, size_t len) {
  struct record *r = ctx;
  int rc = 1;
  if (scalar_taken(r, &rc, s, len, true))
    return rc;
  return emitting(r) ? gen_ok(r, yajl_gen_string(r->j->gen, s, len)) : 1;
}

static int on_key(void *ctx, const unsigned char *s, size_t len) {
  struct record *r = ctx;
  if (r->depth == 1 && r->root_is_map && r->skip_depth == 0) {
    static const struct {
      const char *name;
      enum member m;
    } left_out[] = {{"kind", MEMBER_KIND}, {"id", MEMBER_ID}, {"source", MEMBER_SOURCE}};
    r->member = len == 4 && memcmp(s, "data", 4) == 0 ? MEMBER_DATA : MEMBER_OTHER;
    for (size_t i = 0; i < sizeof left_out / sizeof left_out[0]; i++)
      if (len == strlen(left_out[i].name) && memcmp(s, left_out[i].name, len) == 0)
        r->member = left_out[i].m;
    bool *seen = r->member == MEMBER_KIND ? &r->kind_seen
                 : r->member == MEMBER_ID ? &r->id_seen
                                          : NULL;
    if (seen && *seen) {
      r->why = r->member == MEMBER_KIND ? "`kind` appears twice" : "`id` appears twice";
      return 0;
    }
    if (seen)
      *seen = true;
    if (r->member != MEMBER_OTHER && r->member != MEMBER_DATA)
      return 1;
  }
  return emitting(r) ? gen_ok(r, yajl_gen_string(r->j->gen, s, len)) : 1;
}

static int on_open(struct record *r, bool map) {
  if (++r->depth > JSONL_MAX_DEPTH) {
    r->too_deep = true;
    return 0;
  }
  if (r->depth == 1)
    r->root_is_map = map;
  if (r->depth == 2 && r->skip_depth == 0 && r->root_is_map) {
    if (r->member == MEMBER_DATA && map)
      r->data_is_map = true;
    if (r->member != MEMBER_OTHER && r->member != MEMBER_DATA)
      r->skip_depth = 2; /* a `kind`, `id` or `source` that is no scalar: left out */
    r->member = MEMBER_OTHER;
  }
  if (!emitting(r))
    return 1;
  return gen_ok(r, map ? yajl_gen_map_open(r->j->gen) : yajl_gen_array_open(r->j->gen));
}

static int on_close(struct record *r, bool map) {
  if (emitting(r))
    gen_ok(r, map ? yajl_gen_map_close(r->j->gen) : yajl_gen_array_close(r->j->gen));
  if (r->skip_depth == r->depth)
    r->skip_depth = 0;
  r->depth--;
  return 1;
}

static int on_start_map(void *ctx) {
  return on_open(ctx, true);
}
static int on_end_map(void *ctx) {
  return on_close(ctx, true);
}
static int on_start_array(void *ctx) {
  return on_open(ctx, false);
}
static int on_end_array(void *ctx) {
  return on_close(ctx, false);
}

static const yajl_callbacks record_callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_boolean,
    .yajl_number = on_number,
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_key,
    .yajl_end_map = on_end_map,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end_array,
};

/* Parses j->line (len bytes) into r, re-emitting it into j->gen. Returns 0, or -1 with the
 * reason in why (cap bytes). */
static int parse_record(struct jsonl *j, size_t len, struct record *r, char *why, size_t cap) {
  yajl_gen_clear(j->gen);
  yajl_gen_reset(j->gen, NULL);
  yajl_handle h = yajl_alloc(&record_callbacks, NULL, r);
  if (!h) {
    snprintf(why, cap, "out of memory");
    return -1;
  }
  yajl_config(h, yajl_allow_comments, 1); /* as yajl_tree_parse, which read lines before */
  yajl_status st = yajl_parse(h, (const unsigned char *)j->line, len);
  if (st == yajl_status_ok)
    st = yajl_complete_parse(h);
  int rc = 0;
  if (st == yajl_status_client_canceled && r->too_deep) {
    snprintf(why, cap, "nested deeper than %d levels", JSONL_MAX_DEPTH);
    rc = -1;
  } else if (st == yajl_status_client_canceled) {
    snprintf(why, cap, "%s", r->why ? r->why : "refused");
    rc = -1;
  } else if (st != yajl_status_ok) {
    unsigned char *err = yajl_get_error(h, 1, (const unsigned char *)j->line, len);
    /* yajl's message spans lines; the first says it */
    snprintf(why, cap, "not JSON (%.*s)", err ? (int)strcspn((char *)err, "\n") : 0,
             err ? (char *)err : "");
    yajl_free_error(h, err);
    rc = -1;
  }
  yajl_free(h);
  return rc;
}

/* What is wrong with a parsed line as an entity record, or NULL. */
static const char *record_problem(const struct record *r) {
  if (!r->root_is_map || !r->kind || !*r->kind || !r->id || !*r->id || !r->data_is_map)
    return "not an entity record (needs string `kind`, string `id` and object `data`)";
  if (memchr(r->kind, '\0', r->kind_len))
    return "`kind` contains \\u0000 (a NUL character)";
  if (memchr(r->id, '\0', r->id_len))
    return "`id` contains \\u0000 (a NUL character), which would cut it short";
  if (r->gen_st != yajl_gen_status_ok)
    return "cannot be written out again as JSON";
  return NULL;
}

/* Turns the current line into j->entity. Returns 1 when it did, 0 when the line was skipped
 * (reported), or a negative status. */
static int take_line(struct jsonl *j, size_t len) {
  char item[1100];
  snprintf(item, sizeof item, "%s:%lu", j->file_name, j->line_no);
  if (len > JSONL_MAX_LINE) {
    diag(j, ETL_SEV_ERROR, ETL_DIAG_ITEM_LOST, item, "record longer than %u bytes, skipped",
         JSONL_MAX_LINE);
    return 0;
  }
  struct record r = {.j = j};
  char why[300];
  int rc = 0;
  const char *problem = NULL;
  if (parse_record(j, len, &r, why, sizeof why) != 0)
    problem = why;
  else
    problem = record_problem(&r);
  if (problem) {
    diag(j, ETL_SEV_ERROR, ETL_DIAG_ITEM_LOST, item, "%s, skipped", problem);
    goto out;
  }
  if (strcmp(r.kind, "state") == 0) { /* states are the host's business, never in a file */
    diag(j, ETL_SEV_WARNING, 0, item, "a `state` record, skipped");
    goto out;
  }
  const unsigned char *buf = NULL;
  size_t buf_len = 0;
  if (yajl_gen_get_buf(j->gen, &buf, &buf_len) != yajl_gen_status_ok) {
    rc = ETL_ERR_NOMEM;
    goto out;
  }
  free(j->kind);
  free(j->id);
  j->kind = r.kind; /* the entity's now */
  j->id = r.id;
  r.kind = r.id = NULL;
  j->entity = (struct etl_entity){.struct_size = sizeof j->entity,
                                  .kind = j->kind,
                                  .id = j->id,
                                  .json = (const char *)buf,
                                  .json_len = buf_len};
  rc = 1;
out:
  free(r.kind);
  free(r.id);
  return rc;
}

/* Opens the next file; ETL_DONE when there is none. */
static etl_status next_file(struct jsonl *j) {
  if (j->file) {
    fclose(j->file);
    j->file = NULL;
  }
  if (j->next_path == j->n_paths)
    return ETL_DONE;
  j->file_name = j->paths[j->next_path++];
  j->line_no = 0;
  j->file = fopen(j->file_name, "r");
  if (!j->file) {
    diag(j, ETL_SEV_ERROR, 0, j->file_name, "cannot open: %s", strerror(errno));
    return ETL_ERR_CONFIG;
  }
  return ETL_OK;
}

static etl_status jsonl_next(void *instance, const struct etl_entity **out) {
  struct jsonl *j = instance;
  *out = NULL;
  while (!j->final) {
    if (cancelled(j)) {
      j->final = ETL_ERR_CANCELLED;
      break;
    }
    if (!j->file) {
      etl_status st = next_file(j);
      if (st != ETL_OK)
        j->final = st;
      continue;
    }
    errno = 0;
    ssize_t n = getline(&j->line, &j->line_cap, j->file);
    if (n < 0) {
      if (ferror(j->file)) {
        diag(j, ETL_SEV_ERROR, 0, j->file_name, "read error: %s", strerror(errno));
        j->final = ETL_ERR_INTERNAL;
        break;
      }
      fclose(j->file);
      j->file = NULL;
      continue;
    }
    j->line_no++;
    count_bytes(j, n);
    size_t len = (size_t)n;
    while (len && (j->line[len - 1] == '\n' || j->line[len - 1] == '\r'))
      j->line[--len] = '\0';
    if (len == 0 || strspn(j->line, " \t") == len)
      continue; /* blank lines are allowed */
    if (strlen(j->line) != len) {
      diag(j, ETL_SEV_ERROR, ETL_DIAG_ITEM_LOST, j->file_name, "line %lu: contains a NUL byte",
           j->line_no);
      continue;
    }
    int rc = take_line(j, len);
    if (rc < 0) {
      j->final = rc;
      break;
    }
    if (rc == 1) {
      *out = &j->entity;
      return ETL_OK;
    }
  }
  return j->final;
}

static const struct etl_plugin descriptor = {
    .struct_size = sizeof(struct etl_plugin),
    .abi_major = ETL_ABI_MAJOR,
    .abi_minor = ETL_ABI_MINOR,
    .name = "jsonl",
    .version = PACKAGE_VERSION,
    .description = "replays entity records from JSON Lines files (the file sink's format)",
    .config_schema = config_schema,
    .open = jsonl_open,
    .test = jsonl_test,
    .next_entity = jsonl_next,
    .close = jsonl_close,
    .interrupt = jsonl_interrupt,
};

ETL_PLUGIN_DEFINE(jsonl)(const struct etl_host_services *services) {
  (void)services; /* nothing to negotiate: the host checks our major against its own */
  return &descriptor;
}
