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
 * that only sets a flag, and every service call through the table the host gave to open().
 */
#include "config.h"

#include <etl/plugin.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#define JSONL_MAX_LINE (64u * 1024 * 1024) /* a record larger than this is refused */

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
  volatile sig_atomic_t stop; /* set by interrupt() from another thread */
  etl_status final;           /* once the stream has ended: the status returned ever after */
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
  struct jsonl *j = calloc(1, sizeof *j);
  if (!j)
    return ETL_ERR_NOMEM;
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
      j->svc->test_step(j->run, step, ETL_TEST_PASS, j->paths[i]);
      continue;
    }
    char msg[1024];
    snprintf(msg, sizeof msg, "%s: %s", j->paths[i], strerror(errno));
    j->svc->test_step(j->run, step, ETL_TEST_FAIL, msg);
    st = ETL_ERR_CONFIG;
  }
  return st;
}

static void jsonl_interrupt(void *instance) {
  struct jsonl *j = instance;
  j->stop = 1;
}

/* ---- one record --------------------------------------------------------------------------- */

static yajl_gen_status gen_value(yajl_gen g, yajl_val v) {
  yajl_gen_status st = yajl_gen_status_ok;
  if (YAJL_IS_STRING(v)) {
    const char *s = YAJL_GET_STRING(v);
    return yajl_gen_string(g, (const unsigned char *)s, strlen(s));
  }
  if (YAJL_IS_NUMBER(v)) /* the number's original text: no precision lost */
    return yajl_gen_number(g, v->u.number.r, strlen(v->u.number.r));
  if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v))
    return yajl_gen_bool(g, YAJL_IS_TRUE(v));
  if (YAJL_IS_NULL(v))
    return yajl_gen_null(g);
  if (YAJL_IS_ARRAY(v)) {
    st = yajl_gen_array_open(g);
    for (size_t i = 0; st == yajl_gen_status_ok && i < v->u.array.len; i++)
      st = gen_value(g, v->u.array.values[i]);
    return st == yajl_gen_status_ok ? yajl_gen_array_close(g) : st;
  }
  st = yajl_gen_map_open(g);
  for (size_t i = 0; st == yajl_gen_status_ok && i < v->u.object.len; i++) {
    const char *k = v->u.object.keys[i];
    st = yajl_gen_string(g, (const unsigned char *)k, strlen(k));
    if (st == yajl_gen_status_ok)
      st = gen_value(g, v->u.object.values[i]);
  }
  return st == yajl_gen_status_ok ? yajl_gen_map_close(g) : st;
}

static const char *string_member(yajl_val obj, const char *key) {
  const char *path[] = {key, NULL};
  yajl_val v = yajl_tree_get(obj, path, yajl_t_string);
  return v ? YAJL_GET_STRING(v) : NULL;
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
  char err[256] = "";
  yajl_val rec = yajl_tree_parse(j->line, err, sizeof err);
  int rc = 0;
  if (!rec) {
    char *nl = strchr(err, '\n'); /* yajl's message spans lines; the first says it */
    if (nl)
      *nl = '\0';
    diag(j, ETL_SEV_ERROR, ETL_DIAG_ITEM_LOST, item, "not JSON (%s), skipped", err);
    return 0;
  }
  const char *kind = string_member(rec, "kind");
  const char *id = string_member(rec, "id");
  const char *data_path[] = {"data", NULL};
  if (!YAJL_IS_OBJECT(rec) || !kind || !*kind || !id || !*id ||
      !yajl_tree_get(rec, data_path, yajl_t_object)) {
    diag(j, ETL_SEV_ERROR, ETL_DIAG_ITEM_LOST, item,
         "not an entity record (needs string `kind`, string `id` and object `data`), skipped");
    goto out;
  }
  if (strcmp(kind, "state") == 0) { /* states are the host's business, never in a file */
    diag(j, ETL_SEV_WARNING, 0, item, "a `state` record, skipped");
    goto out;
  }
  yajl_gen_clear(j->gen);
  yajl_gen_reset(j->gen, NULL);
  yajl_gen_status st = yajl_gen_map_open(j->gen);
  for (size_t i = 0; st == yajl_gen_status_ok && i < rec->u.object.len; i++) {
    const char *k = rec->u.object.keys[i];
    if (strcmp(k, "kind") == 0 || strcmp(k, "id") == 0 || strcmp(k, "source") == 0)
      continue;
    st = yajl_gen_string(j->gen, (const unsigned char *)k, strlen(k));
    if (st == yajl_gen_status_ok)
      st = gen_value(j->gen, rec->u.object.values[i]);
  }
  if (st == yajl_gen_status_ok)
    st = yajl_gen_map_close(j->gen);
  free(j->kind);
  free(j->id);
  j->kind = strdup(kind);
  j->id = strdup(id);
  const unsigned char *buf = NULL;
  size_t buf_len = 0;
  if (st != yajl_gen_status_ok || !j->kind || !j->id ||
      yajl_gen_get_buf(j->gen, &buf, &buf_len) != yajl_gen_status_ok) {
    rc = ETL_ERR_NOMEM;
    goto out;
  }
  j->entity = (struct etl_entity){.struct_size = sizeof j->entity,
                                  .kind = j->kind,
                                  .id = j->id,
                                  .json = (const char *)buf,
                                  .json_len = buf_len};
  rc = 1;
out:
  yajl_tree_free(rec);
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
    if (j->stop || j->svc->cancelled(j->run)) {
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
    j->svc->count(j->run, ETL_COUNTER_BYTES, n);
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
