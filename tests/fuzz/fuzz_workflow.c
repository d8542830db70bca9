/*
 * fuzz_workflow.c -- libFuzzer target for the workflow loader (host-api/src/workflow.c and
 * yaml_json.c): the bytes are a workflow file. It is written to a temporary file and loaded
 * the way `etlhost run` loads it (substitution, validation, secrets registered), then parsed
 * again as plain YAML and emitted as JSON. Diagnostics go to /dev/null. Any crash, leak or
 * sanitizer report is a bug; so is a hang (libFuzzer's -timeout) or an allocation past
 * -rss_limit_mb (an alias bomb).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "host-api/src/log.h"
#include "host-api/src/workflow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];
static FILE *devnull;

static int write_file(const uint8_t *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (!f)
    return -1;
  size_t w = fwrite(data, 1, size, f);
  return fclose(f) == 0 && w == size ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!path[0]) {
    snprintf(path, sizeof path, "/tmp/fuzz-workflow-%ld.yaml", (long)getpid());
    devnull = fopen("/dev/null", "w");
    if (!devnull)
      abort();
  }
  struct host_log *log = host_log_new(devnull, ETL_SEV_DEBUG);
  if (!log)
    return 0;
  if (write_file(data, size) == 0) {
    struct host_workflow *wf = NULL;
    if (host_workflow_load(path, log, &wf) == 0)
      host_workflow_free(&wf);
    unlink(path);
  }
  struct host_node *node = NULL;
  if (host_yaml_parse("fuzz", (const char *)data, size, log, &node) == 0) {
    size_t len = 0;
    free(host_node_to_json(node, &len));
    host_node_free(node);
  }
  host_log_free(&log);
  return 0;
}
