/*
 * services.c -- the host's side of the ABI (see services.h): the services table, the run
 * handle behind it, and cancellation by SIGINT/SIGTERM.
 */
#include "config.h"

#include "services.h"

#include "log.h"
#include "progress.h"
#include "runner.h"
#include "workflow.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- cancellation ------------------------------------------------------------------------- */

/* Set by the signal handler; read by cancelled() from any thread: a lock-free atomic, which
 * is both async-signal-safe and free of data races between threads (a volatile sig_atomic_t is
 * only the first). */
static int interrupted;

static int interrupted_now(void) {
  return __atomic_load_n(&interrupted, __ATOMIC_SEQ_CST);
}
/* The instance being driven, so the handler can ask it to stop. Changed only with the signals
 * blocked, and the handler runs on the driving thread, so it never sees a closed instance. */
static const struct etl_plugin *volatile current_plugin;
static void *volatile current_instance;

/* The first SIGINT or SIGTERM asks for a clean stop; the second, of either kind, means "now":
 * a sink call can wait on a server for minutes without looking at the flag. Both signals
 * count together, so SIGTERM from a supervisor followed by an operator's Ctrl-C escalates
 * (SA_RESETHAND reset only the signal that came first and left the other one ignored). What
 * is committed is safe: every sink and the state store survive a kill at any instant. */
static void on_signal(int sig) {
  int saved_errno = errno; /* the interrupted code may be about to read it */
  if (__atomic_exchange_n(&interrupted, 1, __ATOMIC_SEQ_CST)) {
    static const char msg[] = "etlhost: second signal, stopping now\n";
    ssize_t n = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)n;
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    raise(sig); /* delivered when the handler returns: the process ends by that signal */
    errno = saved_errno;
    return;
  }
  const struct etl_plugin *p = current_plugin;
  void *inst = current_instance;
  if (p && inst && ETL_HAS_MEMBER(p, struct etl_plugin, interrupt) && p->interrupt)
    p->interrupt(inst);
  errno = saved_errno;
}

void host_signals_install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  /* Each handler blocks the other signal too, so two arriving together cannot both see the
   * flag unset. No SA_RESETHAND: the handler itself escalates on the second signal. */
  sigaddset(&sa.sa_mask, SIGINT);
  sigaddset(&sa.sa_mask, SIGTERM);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

void host_services_set_current(const struct etl_plugin *p, void *instance) {
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigprocmask(SIG_BLOCK, &block, &old);
  current_plugin = p;
  current_instance = instance;
  sigprocmask(SIG_SETMASK, &old, NULL);
}

/* ---- the reports' lock --------------------------------------------------------------------- */

/* Sources that fetch at once (workflowConfig.parallelSources) count into their reports from
 * their own threads while the writer counts what the sink did and the progress line reads
 * them all. Held only around counter updates and reads, never across a call out. */
static pthread_mutex_t report_mu = PTHREAD_MUTEX_INITIALIZER;

void host_report_lock(void) {
  pthread_mutex_lock(&report_mu);
}

void host_report_unlock(void) {
  pthread_mutex_unlock(&report_mu);
}

/* ---- the services table ------------------------------------------------------------------- */

/* A plugin names a config key by its path inside the source ("serviceConnection.config.
 * workspaceName: required"); the user edits a file, so such a message is printed the way the
 * host's own config errors are: "workflow.yaml:7: error: source.serviceConnection.config.
 * workspaceName: required". Returns false when message does not start with a key path. */
static bool config_diag(struct etl_run *run, enum etl_severity sev, const char *message) {
  static const char *const roots[] = {"serviceConnection.", "sourceConfig.", NULL};
  const struct host_source_cfg *src = run->src;
  if (!src || !src->node || !src->file)
    return false;
  bool keyed = false;
  for (size_t i = 0; roots[i] && !keyed; i++)
    keyed = strncmp(message, roots[i], strlen(roots[i])) == 0;
  const char *colon = keyed ? strstr(message, ": ") : NULL;
  if (!colon || memchr(message, ' ', (size_t)(colon - message)))
    return false;
  char *relpath = strndup(message, (size_t)(colon - message));
  char *where = NULL, *keypath = NULL;
  bool done = false;
  if (!relpath || asprintf(&where, "%s:%d", src->file, host_source_line(src, relpath)) < 0 ||
      asprintf(&keypath, "%s.%s", src->keypath, relpath) < 0)
    goto out;
  host_log_msg(run->log, sev, where, keypath, "%s", colon + 2);
  if (sev == ETL_SEV_ERROR)
    run->keyed_errors++;
  done = true;
out:
  free(relpath), free(where), free(keypath);
  return done;
}

void host_services_diag(struct etl_run *run, enum etl_severity sev, unsigned flags,
                        const char *item, const char *message) {
  if (!run)
    return;
  if (sev > ETL_SEV_ERROR)
    sev = ETL_SEV_ERROR;
  host_report_lock();
  if (sev == ETL_SEV_WARNING)
    run->rep->warnings++;
  if (sev == ETL_SEV_ERROR)
    run->rep->errors++;
  if (flags & ETL_DIAG_ITEM_LOST)
    run->rep->failed++;
  host_report_unlock();
  host_progress_clear(run->progress);
  if (!item && message && config_diag(run, sev, message))
    return;
  host_log_msg(run->log, sev, run->rep->name, item, "%s", message ? message : "(no message)");
}

static void svc_count(struct etl_run *run, enum etl_counter counter, int64_t delta) {
  if (!run)
    return;
  struct host_source_report *r = run->rep;
  host_report_lock();
  switch (counter) {
  case ETL_COUNTER_REQUESTS:
    r->requests += delta;
    break;
  case ETL_COUNTER_RETRIES:
    r->retries += delta;
    break;
  case ETL_COUNTER_FILTERED:
    r->filtered += delta;
    break;
  case ETL_COUNTER_BYTES:
    r->bytes += delta;
    break;
  case ETL_COUNTER_THROTTLED:
    r->throttled += delta;
    break;
  default:
    break; /* a counter of a newer minor: ignored */
  }
  host_report_unlock();
}

static int svc_cancelled(struct etl_run *run) {
  return interrupted_now() != 0;
}

static const char *verdict_word(enum etl_test_verdict v) {
  switch (v) {
  case ETL_TEST_PASS:
    return "PASS";
  case ETL_TEST_FAIL:
    return "FAIL";
  default:
    return "SKIP";
  }
}

void host_services_test_step(struct etl_run *run, const char *step, enum etl_test_verdict verdict,
                             const char *message) {
  if (!run || !run->test_out)
    return;
  if (verdict == ETL_TEST_FAIL || (verdict == ETL_TEST_SKIP && run->worst == ETL_TEST_PASS))
    run->worst = verdict;
  char *line = NULL;
  if (asprintf(&line, "  %s  %s%s%s", verdict_word(verdict), step ? step : "(unnamed step)",
               message ? ": " : "", message ? message : "") < 0)
    return;
  char *safe = host_log_redact(run->log, line);
  fprintf(run->test_out, "%s\n", safe ? safe : "  (out of memory)");
  free(safe);
  free(line);
}

static const struct etl_host_services services = {
    .struct_size = sizeof(struct etl_host_services),
    .abi_major = ETL_ABI_MAJOR,
    .abi_minor = ETL_ABI_MINOR,
    .diag = host_services_diag,
    .count = svc_count,
    .cancelled = svc_cancelled,
    .test_step = host_services_test_step,
};

const struct etl_host_services *host_services_table(void) {
  return &services;
}

bool host_interrupted(void) {
  return interrupted_now() != 0;
}

/* ---- open()'s arguments ------------------------------------------------------------------- */

etl_status host_open_args_prepare(struct host_open_args *oa, const struct host_source_cfg *src,
                                  struct etl_run *run, const char *state, size_t state_len) {
  size_t conn_len = 0, scfg_len = 0;
  memset(oa, 0, sizeof *oa);
  oa->config_json = host_node_to_json(src->connection, &conn_len);
  oa->source_config_json = host_node_to_json(src->source_config, &scfg_len);
  if (!oa->config_json || !oa->source_config_json) {
    host_open_args_release(oa);
    return ETL_ERR_NOMEM;
  }
  oa->args = (struct etl_open_args){
      .struct_size = sizeof oa->args,
      .run = run,
      .services = &services,
      .source_name = src->name,
      .config_json = oa->config_json,
      .config_json_len = conn_len,
      .source_config_json = oa->source_config_json,
      .source_config_json_len = scfg_len,
      .state_json = state,
      .state_json_len = state ? state_len : 0,
  };
  return ETL_OK;
}

void host_open_args_release(struct host_open_args *oa) {
  free(oa->config_json);
  free(oa->source_config_json);
  oa->config_json = oa->source_config_json = NULL;
}
