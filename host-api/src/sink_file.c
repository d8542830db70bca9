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
 * its directory, so a newly created file survives a crash too).
 *
 * Exactly once across kills. A file cannot roll back, so the sink rolls it back by hand: it
 * stores each source's state itself (store_state), in the host's state store, in one
 * transaction with a mark -- the file's length once everything before that state was fsync'd.
 * The mark also says whether the last run ended cleanly. A run that did not (killed,
 * interrupted, a source incomplete) left bytes past the mark that its sources will write again
 * from their stored states, so the next run cuts the file back to the mark before appending.
 * A crash can also leave a partial last line where no mark applies (a source that stores no
 * state); append mode cuts that too.
 *
 * One writer per file: the sink holds an exclusive flock() on the file from create to destroy;
 * a second run waits up to lockTimeoutMs for it, then fails naming the lock.
 */
#include "config.h"

#include "log.h"
#include "sink.h"
#include "sink_builtin.h"
#include "sink_common.h"
#include "omrest_json.h"
#include "state.h"
#include "workflow.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_parse.h>

#define FILE_BUFFER_BYTES (1 << 16)
#define LOCK_TIMEOUT_MS_DEFAULT 5000 /* as the sqlite sink's busyTimeoutMs */
#define LOCK_POLL_MS 50

struct file_sink {
  const char *type; /* "file" or "stdout"; static */
  FILE *out;        /* owned by a file sink, borrowed (stdout) by a stdout sink */
  bool owns_out;
  char *path;           /* owned: the file's path, or "stdout", for messages */
  const char *key;      /* static: "path" or "filename", the config key that named the file */
  bool dir_synced;      /* the directory entry of the file has been fsync'd */
  struct host_log *log; /* borrowed */
  yajl_gen gen;         /* owned: reused for every record */
  /* A file sink only (NULL/false for stdout): */
  struct host_state_store *store; /* owned: where states and marks go */
  bool regular;                   /* a regular file: locked, marked and cut back */
  char *mark_key;                 /* owned: the file's real path, the key of its mark */
  long long dev, ino;             /* the file's identity, stored with its mark */
  bool failed;                    /* an I/O error happened: the run did not end cleanly */
  bool unfinished;                /* a source ended incomplete: its states are behind the file */
};

/* The file sink's config, borrowed from its parsed JSON. */
struct file_config {
  const char *path;
  const char *key; /* "path" or "filename" */
  bool append;
  long long lock_timeout_ms;
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
  s->failed = true;
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

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One writer per file: two runs appending at once interleave their lines and each would cut the
 * other's unfinished last line. The lock is the file's own flock, held until destroy (the file
 * is closed); a second run waits up to timeout_ms for it. */
static etl_status lock_file(struct file_sink *s, int fd, long long timeout_ms) {
  long long start = now_ms(), waited = 0;
  while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR)
      return io_fail(s, errno, "cannot lock it (flock)");
    if (waited >= timeout_ms) {
      host_log_msg(s->log, ETL_SEV_ERROR, NULL, NULL,
                   "file sink: '%s' is locked (flock) by another writer, most likely another "
                   "etlhost run into the same file; gave up after %lld ms (sink.config."
                   "lockTimeoutMs)",
                   s->path, waited);
      return ETL_ERR_TRANSIENT;
    }
    if (waited == 0) /* a warning: a wait is never silent */
      host_log_msg(s->log, ETL_SEV_WARNING, NULL, NULL,
                   "file sink: '%s' is locked (flock) by another writer; waiting up to %lld ms",
                   s->path, timeout_ms);
    long long nap = timeout_ms - waited < LOCK_POLL_MS ? timeout_ms - waited : LOCK_POLL_MS;
    struct timespec ts = {0, (long)(nap > 0 ? nap : 1) * 1000000L};
    nanosleep(&ts, NULL);
    waited = now_ms() - start;
  }
  return ETL_OK;
}

/* Cuts the file to `keep` bytes, durably: the bytes cut must not come back after a power loss
 * under the lines appended next. */
static etl_status cut_to(struct file_sink *s, int fd, off_t keep, const char *why) {
  if (ftruncate(fd, keep) != 0)
    return io_fail(s, errno, why);
  if (fsync(fd) != 0)
    return io_fail(s, errno, "fsync failed");
  return ETL_OK;
}

/* After a run that did not end cleanly, what lies past the mark was written after the last
 * stored state: the sources start again from that state and write it again, so it goes. A file
 * that is not the one marked, or shorter than the mark, was changed outside etlhost; it is left
 * alone. */
static etl_status cut_to_mark(struct file_sink *s, int fd, const struct stat *sb) {
  struct host_state_mark m;
  bool found = false;
  etl_status st = host_state_mark_load(s->store, s->mark_key, &m, &found);
  if (st != ETL_OK || !found || m.clean || sb->st_size == m.offset)
    return st;
  if (m.dev != (long long)sb->st_dev || m.ino != (long long)sb->st_ino || sb->st_size < m.offset) {
    host_log_msg(s->log, ETL_SEV_WARNING, NULL, NULL,
                 "file sink: '%s': the last run into it was interrupted, but the file was "
                 "replaced or shortened since (%lld bytes, %lld committed); nothing cut, so "
                 "records since the last stored state may appear twice",
                 s->path, (long long)sb->st_size, m.offset);
    return ETL_OK;
  }
  st = cut_to(s, fd, (off_t)m.offset, "cannot cut what an interrupted run wrote");
  if (st == ETL_OK)
    host_log_msg(s->log, ETL_SEV_WARNING, NULL, NULL,
                 "file sink: '%s': removed %lld bytes an interrupted run wrote after its last "
                 "stored state; they are written again from that state",
                 s->path, (long long)sb->st_size - m.offset);
  return st;
}

/* Saves the file's current length as its mark: clean after a run that ended well, else the
 * point the next run cuts back to. */
static etl_status save_mark(struct file_sink *s, int fd, bool clean) {
  off_t end = lseek(fd, 0, SEEK_END);
  if (end < 0)
    return io_fail(s, errno, "cannot find its end");
  struct host_state_mark m = {.offset = end, .dev = s->dev, .ino = s->ino, .clean = clean};
  return host_state_mark_save(s->store, s->mark_key, &m);
}

/* Makes a regular file ready for this run, under its lock: emptied (truncate), or cut back to
 * what stored states cover and to its last whole line (append); then marked as being written. */
static etl_status prepare_regular(struct file_sink *s, int fd, const struct file_config *fc) {
  struct stat sb;
  char real[PATH_MAX];
  etl_status st = lock_file(s, fd, fc->lock_timeout_ms);
  if (st != ETL_OK)
    return st;
  if (fstat(fd, &sb) != 0)
    return io_fail(s, errno, "cannot stat");
  s->dev = (long long)sb.st_dev;
  s->ino = (long long)sb.st_ino;
  if (!(s->mark_key = strdup(realpath(s->path, real) ? real : s->path)))
    return ETL_ERR_NOMEM;
  if (!fc->append)
    st = sb.st_size ? cut_to(s, fd, 0, "cannot empty it (mode truncate)") : ETL_OK;
  else if ((st = cut_to_mark(s, fd, &sb)) == ETL_OK)
    st = cut_partial_line(s, fd);
  if (st == ETL_OK)
    st = save_mark(s, fd, false);
  return st;
}

/* The state store named by workflowConfig.stateStore (the runner's default when absent). */
static etl_status open_store(struct file_sink *s, const char *workflow_json) {
  char err[128];
  yajl_val wf = host_json_parse(workflow_json ? workflow_json : "{}",
                                workflow_json ? strlen(workflow_json) : 2, err, sizeof err);
  const char *path = host_json_str(wf, "stateStore");
  etl_status st = host_state_open(path ? path : HOST_DEFAULT_STATE_STORE, s->log, &s->store);
  yajl_tree_free(wf);
  return st;
}

static etl_status open_file(struct file_sink *s, const struct file_config *fc,
                            const char *workflow_json) {
  int fd = open(s->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  struct stat sb;
  if (fd < 0) {
    host_log_msg(s->log, ETL_SEV_ERROR, NULL, NULL,
                 "sink.config.%s: file sink: cannot open '%s' for writing: %s", s->key, s->path,
                 strerror(errno));
    return ETL_ERR_CONFIG;
  }
  etl_status st = open_store(s, workflow_json);
  if (st == ETL_OK && fstat(fd, &sb) != 0)
    st = io_fail(s, errno, "cannot stat");
  s->regular = st == ETL_OK && S_ISREG(sb.st_mode);
  if (st == ETL_OK && s->regular)
    st = prepare_regular(s, fd, fc);
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

/* Flushes and fsyncs what a run that ended well wrote, and marks the file clean: the next run
 * appends after it and cuts nothing. */
static void mark_clean(struct file_sink *s) {
  if (!s->store || !s->regular || s->failed || s->unfinished)
    return;
  errno = 0;
  if (fflush(s->out) != 0 || ferror(s->out) || fsync(fileno(s->out)) != 0) {
    io_fail(s, errno ? errno : EIO, "write failed");
    return;
  }
  save_mark(s, fileno(s->out), true);
}

static void file_destroy(void **sinkp) {
  if (!sinkp || !*sinkp)
    return;
  struct file_sink *s = *sinkp;
  if (s->out && s->owns_out) {
    mark_clean(s);
    fclose(s->out); /* releases the lock */
  } else if (s->out) {
    fflush(s->out);
  }
  if (s->gen)
    yajl_gen_free(s->gen);
  host_state_close(&s->store);
  free(s->mark_key);
  free(s->path);
  free(s);
  *sinkp = NULL;
}

static struct file_sink *sink_new(const char *type, const char *path, struct host_log *log) {
  struct file_sink *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->type = type;
  s->key = "path";
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

/* The file's path: `path`, or `filename` as OpenMetadata's and DataHub's file sinks call it;
 * both may be given only when they agree. */
static etl_status config_path(yajl_val cfg, struct host_log *log, struct file_config *fc) {
  const char *path = NULL, *filename = NULL;
  etl_status st = host_sink_config_string(cfg, "path", NULL, log, &path);
  if (st == ETL_OK)
    st = host_sink_config_string(cfg, "filename", NULL, log, &filename);
  if (st != ETL_OK)
    return st;
  if (path && filename && strcmp(path, filename) != 0) {
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL,
                 "sink.config.filename: \"%s\" differs from sink.config.path \"%s\"; give one "
                 "of them (filename is OpenMetadata's and DataHub's name for path)",
                 filename, path);
    return ETL_ERR_CONFIG;
  }
  fc->path = path ? path : filename;
  fc->key = path || !filename ? "path" : "filename";
  if (!fc->path || !fc->path[0]) {
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL,
                 "sink.config.%s: the file sink needs the path of its JSON Lines file (path, "
                 "or filename as in OpenMetadata's workflows)",
                 fc->key);
    return ETL_ERR_CONFIG;
  }
  return ETL_OK;
}

/* Reads the file sink's config into *fc, whose strings are borrowed from *cfg, which the caller
 * frees (yajl_tree_free) whatever the result. Logs what is wrong naming the key. */
static etl_status parse_file_config(const char *config_json, struct host_log *log, yajl_val *cfg,
                                    struct file_config *fc) {
  static const char *const keys[] = {"path", "filename", "mode", "lockTimeoutMs", NULL};
  const char *mode = NULL;
  *cfg = NULL;
  etl_status st = host_sink_config_parse(config_json, "file", keys, log, cfg);
  if (st == ETL_OK)
    st = config_path(*cfg, log, fc);
  if (st == ETL_OK)
    st = host_sink_config_string(*cfg, "mode", "append", log, &mode);
  if (st == ETL_OK && strcmp(mode, "append") != 0 && strcmp(mode, "truncate") != 0) {
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL,
                 "sink.config.mode: \"%s\" is not one of append, truncate", mode);
    st = ETL_ERR_CONFIG;
  }
  if (st == ETL_OK)
    fc->append = strcmp(mode, "append") == 0;
  if (st == ETL_OK)
    st = host_sink_config_int(*cfg, "lockTimeoutMs", LOCK_TIMEOUT_MS_DEFAULT, 0, 3600000, log,
                              &fc->lock_timeout_ms);
  return st;
}

static etl_status file_create(const char *config_json, const char *workflow_json,
                              struct host_log *log, void **sinkp) {
  yajl_val cfg = NULL;
  struct file_config fc = {0};
  struct file_sink *s = NULL;
  *sinkp = NULL;
  etl_status st = parse_file_config(config_json, log, &cfg, &fc);
  if (st != ETL_OK)
    goto out;
  s = sink_new("file", fc.path, log);
  if (!s) {
    st = ETL_ERR_NOMEM;
    goto out;
  }
  s->key = fc.key;
  st = open_file(s, &fc, workflow_json);
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

/* The state and the mark of the file's length, fsync'd first, in one transaction (see the top
 * of this file). A file that cannot be cut back (a pipe, a device) stores the state alone. */
static etl_status file_store_state(void *sink, const char *source, const char *state_json,
                                   size_t len) {
  struct file_sink *s = sink;
  etl_status st = file_commit(s);
  if (st != ETL_OK)
    return st;
  if (!s->regular)
    return host_state_save(s->store, source, state_json, len);
  off_t end = lseek(fileno(s->out), 0, SEEK_END);
  if (end < 0)
    return io_fail(s, errno, "cannot find its end");
  struct host_state_mark m = {.offset = end, .dev = s->dev, .ino = s->ino, .clean = false};
  return host_state_save_marked(s->store, source, state_json, len, s->mark_key, &m);
}

static etl_status file_load_state(void *sink, const char *source, char **json, size_t *len) {
  struct file_sink *s = sink;
  return host_state_load(s->store, source, json, len);
}

/* A source that ended incomplete resumes from a state behind the file's end: the run does not
 * end cleanly, so the next one cuts back to the mark. */
static etl_status file_end_source(void *sink, const char *source,
                                  const struct host_source_outcome *o) {
  struct file_sink *s = sink;
  if (!o->complete)
    s->unfinished = true;
  return ETL_OK;
}

/* `etlhost test`: the file's directory exists and a file can be written there. An existing
 * file is opened for writing without being changed; a new one is created with O_EXCL and
 * removed at once, so nothing is left behind. */
static etl_status file_test(const char *config_json, const char *workflow_json,
                            struct host_log *log, host_sink_step_fn step, void *ctx) {
  (void)workflow_json;
  yajl_val cfg = NULL;
  struct file_config fc = {0};
  char msg[4096 + 256], dir[4096];
  struct stat sb;
  etl_status st = parse_file_config(config_json, log, &cfg, &fc);
  if (st != ETL_OK) {
    step(ctx, "file", ETL_TEST_FAIL, "the sink's configuration is wrong (see above)");
    goto out;
  }
  const char *path = fc.path, *mode = fc.append ? "append" : "truncate";
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
    .store_state = file_store_state, /* with the mark the next run cuts back to */
    .load_state = file_load_state,
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
    .store_state = NULL, /* the runner commits, then saves state in its own store */
    .load_state = NULL,
    .end_source = file_end_source,
    .destroy = file_destroy,
};
