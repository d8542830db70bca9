/*
 * sink_file.c -- the `file` and `stdout` sinks: one JSON Lines record per entity,
 *
 *   {"kind": K, "id": I, "source": S, <the members of the entity's JSON object>}
 *
 * (docs/entities.md). The entity JSON is never copied as text: yajl's callback parser streams
 * it into yajl_gen, which re-escapes every string, so whatever a plugin sends, each line is one
 * valid JSON object in valid UTF-8 with no raw control characters -- or the record is rejected
 * with the reason and the stream goes on. Numbers pass through verbatim (yajl_gen_number).
 *
 * Delivery: write() fills a stdio buffer; commit() flushes it and fsyncs the file (and, once,
 * its directory, so a newly created file survives a crash too). A line is written whole or, on a
 * crash, left partial at the very end; the next run in append mode cuts such a partial last line
 * before appending. Records since the last stored state come again after a crash, so a file
 * may hold a record twice; readers keep the last line per (source, kind, id).
 */
#include "config.h"

#include "log.h"
#include "sink.h"
#include "sink_builtin.h"
#include "sink_common.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#define FILE_BUFFER_BYTES (1 << 16)

struct file_sink {
  const char *type; /* "file" or "stdout"; static */
  FILE *out;        /* owned by a file sink, borrowed (stdout) by a stdout sink */
  bool owns_out;
  char *path;           /* owned: the file's path, or "stdout", for messages */
  bool dir_synced;      /* the directory entry of the file has been fsync'd */
  struct host_log *log; /* borrowed */
  yajl_gen gen;         /* owned: reused for every record */
};

/* ---- one record to one line ---------------------------------------------------------- */

/* Where the parser's callbacks write, and why a record was refused. */
struct reemit {
  yajl_gen gen;  /* borrowed */
  int depth;     /* nesting inside the entity JSON; its own outer object is depth 1 */
  char why[160]; /* set when a callback refuses */
};

static const char *gen_reason(yajl_gen_status gs) {
  switch (gs) {
  case yajl_gen_invalid_string:
    return "a string is not valid UTF-8";
  case yajl_max_depth_exceeded:
    return "the JSON is nested too deeply";
  case yajl_gen_invalid_number:
    return "a number is not finite";
  default:
    return "the JSON generator refused it";
  }
}

static int gen_check(struct reemit *r, yajl_gen_status gs) {
  if (gs == yajl_gen_status_ok)
    return 1;
  snprintf(r->why, sizeof r->why, "entity json: %s", gen_reason(gs));
  return 0;
}

/* A scalar or array where the entity's top-level object should start. */
static int not_object(struct reemit *r) {
  snprintf(r->why, sizeof r->why, "entity json is not a JSON object");
  return 0;
}

static int on_null(void *ctx) {
  struct reemit *r = ctx;
  return r->depth ? gen_check(r, yajl_gen_null(r->gen)) : not_object(r);
}

static int on_boolean(void *ctx, int value) {
  struct reemit *r = ctx;
  return r->depth ? gen_check(r, yajl_gen_bool(r->gen, value)) : not_object(r);
}

static int on_number(void *ctx, const char *s, size_t len) {
  struct reemit *r = ctx;
  return r->depth ? gen_check(r, yajl_gen_number(r->gen, s, len)) : not_object(r);
}

static int on_string(void *ctx, const unsigned char *s, size_t len) {
  struct reemit *r = ctx;
  return r->depth ? gen_check(r, yajl_gen_string(r->gen, s, len)) : not_object(r);
}

static int on_start_map(void *ctx) {
  struct reemit *r = ctx;
  /* The entity's own object is the record's: its members join kind, id and source. */
  if (r->depth++ == 0)
    return 1;
  return gen_check(r, yajl_gen_map_open(r->gen));
}

static int on_map_key(void *ctx, const unsigned char *key, size_t len) {
  struct reemit *r = ctx;
  static const char *const reserved[] = {"kind", "id", "source"};
  for (size_t i = 0; r->depth == 1 && i < 3; i++) {
    if (len == strlen(reserved[i]) && memcmp(key, reserved[i], len) == 0) {
      snprintf(r->why, sizeof r->why,
               "entity json has a top-level member \"%s\", which the record itself sets",
               reserved[i]);
      return 0;
    }
  }
  return gen_check(r, yajl_gen_string(r->gen, key, len));
}

static int on_end_map(void *ctx) {
  struct reemit *r = ctx;
  if (--r->depth == 0)
    return 1;
  return gen_check(r, yajl_gen_map_close(r->gen));
}

static int on_start_array(void *ctx) {
  struct reemit *r = ctx;
  if (r->depth++ == 0)
    return not_object(r);
  return gen_check(r, yajl_gen_array_open(r->gen));
}

static int on_end_array(void *ctx) {
  struct reemit *r = ctx;
  r->depth--;
  return gen_check(r, yajl_gen_array_close(r->gen));
}

static const yajl_callbacks reemit_callbacks = {
    .yajl_null = on_null,
    .yajl_boolean = on_boolean,
    .yajl_number = on_number, /* verbatim: no precision lost through double */
    .yajl_string = on_string,
    .yajl_start_map = on_start_map,
    .yajl_map_key = on_map_key,
    .yajl_end_map = on_end_map,
    .yajl_start_array = on_start_array,
    .yajl_end_array = on_end_array,
};

/* Generates one record's line (without the newline) into s->gen. */
static bool encode_record(struct file_sink *s, const struct host_record *rec, char *why,
                          size_t cap) {
  static const char *const names[] = {"kind", "id", "source"};
  const char *values[] = {rec->kind, rec->id, rec->source};
  if (!host_sink_names_ok(rec, why, cap))
    return false;
  yajl_gen_reset(s->gen, NULL);
  yajl_gen_clear(s->gen);
  yajl_gen_map_open(s->gen);
  for (size_t i = 0; i < 3; i++) {
    yajl_gen_string(s->gen, (const unsigned char *)names[i], strlen(names[i]));
    if (yajl_gen_string(s->gen, (const unsigned char *)values[i], strlen(values[i])) !=
        yajl_gen_status_ok) {
      snprintf(why, cap, "the record's %s is not valid UTF-8", names[i]);
      return false;
    }
  }
  struct reemit r = {.gen = s->gen};
  if (!host_sink_parse_entity(rec->json, rec->json_len, &reemit_callbacks, &r, why, cap)) {
    if (r.why[0]) /* a callback refused: its reason */
      snprintf(why, cap, "%s", r.why);
    return false;
  }
  yajl_gen_map_close(s->gen);
  return true;
}

/* ---- the file ------------------------------------------------------------------------ */

static etl_status io_fail(struct file_sink *s, int err, const char *action) {
  host_log_msg(s->log, ETL_SEV_ERROR, NULL, NULL, "%s sink: '%s': %s: %s%s", s->type, s->path,
               action, strerror(err), err == ENOSPC || err == EDQUOT ? " (disk full)" : "");
  return err == ENOSPC || err == EDQUOT ? ETL_ERR_TRANSIENT : ETL_ERR_INTERNAL;
}

/* Finds the length of the file up to and including its last newline. */
static int last_line_end(int fd, off_t size, off_t *keep) {
  char buf[4096];
  off_t end = size;
  while (end > 0) {
    off_t start = end > (off_t)sizeof buf ? end - (off_t)sizeof buf : 0;
    ssize_t n = pread(fd, buf, (size_t)(end - start), start);
    if (n != end - start)
      return -1;
    for (ssize_t i = n - 1; i >= 0; i--) {
      if (buf[i] == '\n') {
        *keep = start + i + 1;
        return 0;
      }
    }
    end = start;
  }
  *keep = 0;
  return 0;
}

/* A crash can leave a partial last line (never committed, so never acknowledged); appending
 * after it would glue two records into one invalid line, so it is cut. */
static etl_status cut_partial_line(struct file_sink *s, int fd) {
  struct stat sb;
  if (fstat(fd, &sb) != 0)
    return io_fail(s, errno, "cannot stat");
  if (!S_ISREG(sb.st_mode) || sb.st_size == 0)
    return ETL_OK;
  off_t keep = 0;
  if (last_line_end(fd, sb.st_size, &keep) != 0)
    return io_fail(s, errno ? errno : EIO, "cannot read its end");
  if (keep == sb.st_size)
    return ETL_OK;
  if (ftruncate(fd, keep) != 0)
    return io_fail(s, errno, "cannot cut an incomplete last line");
  host_log_msg(s->log, ETL_SEV_WARNING, NULL, NULL,
               "file sink: '%s': removed an incomplete last line (%lld bytes) left by an "
               "interrupted run",
               s->path, (long long)(sb.st_size - keep));
  return ETL_OK;
}

static etl_status open_file(struct file_sink *s, bool append) {
  int flags = O_RDWR | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
  int fd = open(s->path, flags, 0644);
  if (fd < 0) {
    host_log_msg(s->log, ETL_SEV_ERROR, NULL, NULL,
                 "sink.config.path: file sink: cannot open '%s' for writing: %s", s->path,
                 strerror(errno));
    return ETL_ERR_CONFIG;
  }
  etl_status st = append ? cut_partial_line(s, fd) : ETL_OK;
  if (st == ETL_OK) {
    s->out = fdopen(fd, "w");
    if (!s->out)
      st = io_fail(s, errno, "cannot open");
  }
  if (st != ETL_OK) {
    close(fd);
    return st;
  }
  s->owns_out = true;
  setvbuf(s->out, NULL, _IOFBF, FILE_BUFFER_BYTES);
  return ETL_OK;
}

/* fsync where it means something: a regular file (a pipe or a terminal cannot be synced). */
static int sync_fd(int fd) {
  struct stat sb;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
    return 0;
  return fsync(fd);
}

static int sync_parent_dir(const char *path) {
  char *copy = strdup(path);
  if (!copy)
    return -1;
  int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  free(copy);
  if (fd < 0)
    return -1;
  int rc = fsync(fd);
  close(fd);
  return rc;
}

/* ---- the sink operations --------------------------------------------------------------- */

static void file_destroy(void **sinkp) {
  if (!sinkp || !*sinkp)
    return;
  struct file_sink *s = *sinkp;
  if (s->out && s->owns_out)
    fclose(s->out);
  else if (s->out)
    fflush(s->out);
  if (s->gen)
    yajl_gen_free(s->gen);
  free(s->path);
  free(s);
  *sinkp = NULL;
}

static struct file_sink *sink_new(const char *type, const char *path, struct host_log *log) {
  struct file_sink *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->type = type;
  s->log = log;
  s->path = strdup(path);
  s->gen = yajl_gen_alloc(NULL);
  if (!s->path || !s->gen) {
    void *tmp = s;
    file_destroy(&tmp);
    return NULL;
  }
  yajl_gen_config(s->gen, yajl_gen_validate_utf8, 1);
  return s;
}

/* Reads the file sink's config: *path and *mode are borrowed from *cfg, which the caller frees
 * (yajl_tree_free) whatever the result. Logs what is wrong naming the key. */
static etl_status parse_file_config(const char *config_json, struct host_log *log, yajl_val *cfg,
                                    const char **path, const char **mode) {
  static const char *const keys[] = {"path", "mode", NULL};
  *cfg = NULL;
  etl_status st = host_sink_config_parse(config_json, "file", keys, log, cfg);
  if (st == ETL_OK)
    st = host_sink_config_string(*cfg, "path", NULL, log, path);
  if (st == ETL_OK && (!*path || !(*path)[0])) {
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL,
                 "sink.config.path: the file sink needs the path of its JSON Lines file");
    st = ETL_ERR_CONFIG;
  }
  if (st == ETL_OK)
    st = host_sink_config_string(*cfg, "mode", "append", log, mode);
  if (st == ETL_OK && strcmp(*mode, "append") != 0 && strcmp(*mode, "truncate") != 0) {
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL,
                 "sink.config.mode: \"%s\" is not one of append, truncate", *mode);
    st = ETL_ERR_CONFIG;
  }
  return st;
}

static etl_status file_create(const char *config_json, const char *workflow_json,
                              struct host_log *log, void **sinkp) {
  yajl_val cfg = NULL;
  const char *path = NULL, *mode = NULL;
  struct file_sink *s = NULL;
  *sinkp = NULL;
  etl_status st = parse_file_config(config_json, log, &cfg, &path, &mode);
  if (st != ETL_OK)
    goto out;
  s = sink_new("file", path, log);
  if (!s) {
    st = ETL_ERR_NOMEM;
    goto out;
  }
  st = open_file(s, strcmp(mode, "append") == 0);
  if (st != ETL_OK)
    goto out;
  *sinkp = s;
  s = NULL;
out:
  if (s) {
    void *tmp = s;
    file_destroy(&tmp);
  }
  yajl_tree_free(cfg);
  return st;
}

static etl_status stdout_create(const char *config_json, const char *workflow_json,
                                struct host_log *log, void **sinkp) {
  static const char *const keys[] = {NULL};
  yajl_val cfg = NULL;
  *sinkp = NULL;
  etl_status st = host_sink_config_parse(config_json, "stdout", keys, log, &cfg);
  yajl_tree_free(cfg);
  if (st != ETL_OK)
    return st;
  struct file_sink *s = sink_new("stdout", "stdout", log);
  if (!s)
    return ETL_ERR_NOMEM;
  s->out = stdout;
  *sinkp = s;
  return ETL_OK;
}

static etl_status file_begin_source(void *sink, const char *source, const char *plugin_type) {
  return ETL_OK;
}

static etl_status file_write(void *sink, const struct host_record *rec, bool *rejected) {
  struct file_sink *s = sink;
  char why[200], item[128];
  const unsigned char *line;
  size_t len;
  *rejected = false;
  if (!encode_record(s, rec, why, sizeof why)) {
    host_log_msg(s->log, ETL_SEV_ERROR, rec->source, host_sink_item(rec, item, sizeof item),
                 "rejected by the %s sink: %s", s->type, why);
    *rejected = true;
    return ETL_OK;
  }
  yajl_gen_get_buf(s->gen, &line, &len);
  errno = 0;
  if (fwrite(line, 1, len, s->out) != len || putc('\n', s->out) == EOF)
    return io_fail(s, errno ? errno : EIO, "write failed");
  return ETL_OK;
}

static etl_status file_commit(void *sink) {
  struct file_sink *s = sink;
  errno = 0;
  if (fflush(s->out) != 0 || ferror(s->out))
    return io_fail(s, errno ? errno : EIO, "write failed");
  if (sync_fd(fileno(s->out)) != 0)
    return io_fail(s, errno, "fsync failed");
  if (s->owns_out && !s->dir_synced) {
    if (sync_parent_dir(s->path) != 0)
      return io_fail(s, errno, "fsync of its directory failed");
    s->dir_synced = true;
  }
  return ETL_OK;
}

static etl_status file_end_source(void *sink, const char *source,
                                  const struct host_source_outcome *o) {
  return ETL_OK;
}

/* `etlhost test`: the file's directory exists and a file can be written there. An existing
 * file is opened for writing without being changed; a new one is created with O_EXCL and
 * removed at once, so nothing is left behind. */
static etl_status file_test(const char *config_json, const char *workflow_json,
                            struct host_log *log, host_sink_step_fn step, void *ctx) {
  (void)workflow_json;
  yajl_val cfg = NULL;
  const char *path = NULL, *mode = NULL;
  char msg[4096 + 256], dir[4096];
  struct stat sb;
  etl_status st = parse_file_config(config_json, log, &cfg, &path, &mode);
  if (st != ETL_OK) {
    step(ctx, "file", ETL_TEST_FAIL, "the sink's configuration is wrong (see above)");
    goto out;
  }
  const char *slash = strrchr(path, '/');
  size_t n = slash ? (slash == path ? 1 : (size_t)(slash - path)) : 0;
  snprintf(dir, sizeof dir, "%.*s", n ? (int)n : 1, n ? path : ".");
  st = ETL_ERR_CONFIG;
  if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
    snprintf(msg, sizeof msg,
             "the directory '%s' of '%s' does not exist; create it or choose another path", dir,
             path);
  } else if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
    snprintf(msg, sizeof msg, "'%s' is a directory; give the path of a file in it", path);
  } else if (stat(path, &sb) == 0) {
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) {
      snprintf(msg, sizeof msg, "cannot open '%s' for writing: %s", path, strerror(errno));
    } else {
      close(fd);
      snprintf(msg, sizeof msg, "'%s' exists and is writable (mode %s)", path, mode);
      st = ETL_OK;
    }
  } else {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
      snprintf(msg, sizeof msg, "cannot create '%s' in '%s': %s", path, dir, strerror(errno));
    } else {
      close(fd);
      unlink(path);
      snprintf(msg, sizeof msg, "'%s' does not exist yet and can be created", path);
      st = ETL_OK;
    }
  }
  step(ctx, "file", st == ETL_OK ? ETL_TEST_PASS : ETL_TEST_FAIL, msg);
out:
  yajl_tree_free(cfg);
  return st;
}

const struct host_sink_ops host_sink_file_ops = {
    .type = "file",
    .create = file_create,
    .begin_source = file_begin_source,
    .write = file_write,
    .commit = file_commit,
    .store_state = NULL, /* the runner commits, then saves state in its own store */
    .load_state = NULL,
    .end_source = file_end_source,
    .destroy = file_destroy,
    .test = file_test,
};

const struct host_sink_ops host_sink_stdout_ops = {
    .type = "stdout",
    .create = stdout_create,
    .begin_source = file_begin_source,
    .write = file_write,
    .commit = file_commit,
    .store_state = NULL,
    .load_state = NULL,
    .end_source = file_end_source,
    .destroy = file_destroy,
};
