/*
 * main.c -- etlhost's command line: run, test, plugins, schema, lineage, site.
 */
#include "config.h"

#include "lineage_cli.h"
#include "loader.h"
#include "log.h"
#include "runner.h"
#include "services.h"
#include "site_cli.h"
#include "summary.h"
#include "workflow.h"

#include <getopt.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

struct cli {
  const char *plugin_dir;
  const char *summary_json;
  int verbosity; /* -v adds one, -q subtracts one */
  bool verbosity_set;
  int progress; /* -1 auto (TTY), 0 off, 1 on */
};

static void usage(FILE *out) {
  fputs("Usage: etlhost [OPTIONS] COMMAND [ARG]\n"
        "\n"
        "Runs metadata-ingestion source plugins from an OpenMetadata-style workflow file.\n"
        "\n"
        "Commands:\n"
        "  run CONFIG        ingest every source of CONFIG into its sink\n"
        "  test CONFIG       test each source's connection, step by step\n"
        "  plugins           list the plugins found (name, version, ABI, file)\n"
        "  schema PLUGIN     print the JSON Schema of a plugin's serviceConnection.config\n"
        "  lineage CATALOG   draw the lineage in a catalog (etlhost lineage --help)\n"
        "  site CATALOG -o DIR  write a static HTML catalog (etlhost site --help)\n"
        "\n"
        "Options:\n"
        "  --plugin-dir DIR      look for plugins in DIR first (then $ETL_PLUGIN_PATH, then\n"
        "                        " HOST_PLUGINDIR ")\n"
        "  --summary-json FILE   also write the run's summary as JSON to FILE\n"
        "  --progress            show progress on stderr even when it is not a terminal\n"
        "  --no-progress         never show progress\n"
        "  -v, --verbose         more messages (repeat for debug)\n"
        "  -q, --quiet           errors only\n"
        "  -h, --help            this help\n"
        "  -V, --version         print the version and the plugin ABI version\n"
        "\n"
        "Exit status: 0 success (warnings allowed), 1 finished but some records failed,\n"
        "2 usage or configuration error, 3 connection or authentication failure,\n"
        "130 interrupted. See etlhost(1) and docs/etlhost.md.\n",
        out);
}

/* Parses options; returns the index of the command in argv, or -1 after printing an error,
 * or 0 when the program should exit successfully (help, version). */
static int parse_options(int argc, char **argv, struct cli *cli) {
  enum { OPT_PLUGIN_DIR = 256, OPT_SUMMARY_JSON, OPT_PROGRESS, OPT_NO_PROGRESS };
  static const struct option longopts[] = {
      {"plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR},
      {"summary-json", required_argument, NULL, OPT_SUMMARY_JSON},
      {"progress", no_argument, NULL, OPT_PROGRESS},
      {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
      {"verbose", no_argument, NULL, 'v'},
      {"quiet", no_argument, NULL, 'q'},
      {"help", no_argument, NULL, 'h'},
      {"version", no_argument, NULL, 'V'},
      {NULL, 0, NULL, 0},
  };
  int c;
  while ((c = getopt_long(argc, argv, "vqhV", longopts, NULL)) != -1) {
    switch (c) {
    case OPT_PLUGIN_DIR:
      cli->plugin_dir = optarg;
      break;
    case OPT_SUMMARY_JSON:
      cli->summary_json = optarg;
      break;
    case OPT_PROGRESS:
      cli->progress = 1;
      break;
    case OPT_NO_PROGRESS:
      cli->progress = 0;
      break;
    case 'v':
      cli->verbosity++;
      cli->verbosity_set = true;
      break;
    case 'q':
      cli->verbosity--;
      cli->verbosity_set = true;
      break;
    case 'h':
      usage(stdout);
      return 0;
    case 'V':
      printf("etlhost %s (plugin ABI %d.%d)\n", PACKAGE_VERSION, ETL_ABI_MAJOR, ETL_ABI_MINOR);
      return 0;
    default:
      fputs("Try `etlhost --help`.\n", stderr);
      return -1;
    }
  }
  if (optind >= argc) {
    usage(stderr);
    return -1;
  }
  return optind;
}

/* Commands with options of their own, which etlhost's getopt_long (it permutes argv) must not
 * see: etlhost's options stand before the command word, the command's own after it. */
static bool has_own_options(const char *cmd) {
  return strcmp(cmd, "lineage") == 0 || strcmp(cmd, "site") == 0;
}

/* Where such a command stands in argv, or -1. Skips etlhost's options and their values. */
static int own_options_command_at(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--plugin-dir") == 0 || strcmp(argv[i], "--summary-json") == 0)
      i++;
    else if (strcmp(argv[i], "--") == 0)
      return i + 1 < argc && has_own_options(argv[i + 1]) ? i + 1 : -1;
    else if (argv[i][0] != '-' || argv[i][1] == '\0')
      return has_own_options(argv[i]) ? i : -1;
  }
  return -1;
}

static enum etl_severity level_of(const struct cli *cli, const char *logger_level) {
  enum etl_severity base = ETL_SEV_WARNING;
  if (logger_level && !cli->verbosity_set) {
    if (strcasecmp(logger_level, "DEBUG") == 0)
      base = ETL_SEV_DEBUG;
    else if (strcasecmp(logger_level, "INFO") == 0)
      base = ETL_SEV_INFO;
    else if (strcasecmp(logger_level, "ERROR") == 0)
      base = ETL_SEV_ERROR;
  }
  return host_log_level_for(base, cli->verbosity);
}

static void print_plugin(void *ctx, const char *file, const struct host_plugin *p,
                         const char *error) {
  struct host_log *log = ctx;
  if (!p) {
    host_log_msg(log, ETL_SEV_WARNING, NULL, NULL, "%s", error ? error : file);
    return;
  }
  printf("%-16s %-10s %u.%-4u %s\n", p->desc->name, p->desc->version ? p->desc->version : "-",
         p->desc->abi_major, p->desc->abi_minor, file);
}

static int cmd_plugins(struct host_loader *loader, struct host_log *log) {
  printf("%-16s %-10s %-6s %s\n", "NAME", "VERSION", "ABI", "FILE");
  fflush(stdout);
  size_t n = host_loader_each(loader, print_plugin, log);
  fflush(stdout);
  if (n == 0) {
    host_log_msg(log, ETL_SEV_WARNING, NULL, NULL, "no plugins found in: %s",
                 host_loader_dirs(loader));
  }
  return HOST_EXIT_OK;
}

static int cmd_schema(struct host_loader *loader, const char *name) {
  const struct host_plugin *p = NULL;
  if (host_loader_load(loader, name, &p) != ETL_OK)
    return HOST_EXIT_USAGE;
  const char *schema = p->desc->config_schema;
  printf("%s\n", schema && *schema ? schema : "{}");
  return HOST_EXIT_OK;
}

static int cmd_run(const struct host_workflow *wf, const struct cli *cli, struct host_log *log,
                   struct host_loader *loader) {
  struct host_runner_opts opts = {
      .log = log,
      .loader = loader,
      .progress = cli->progress == 1 || (cli->progress == -1 && isatty(STDERR_FILENO)),
  };
  struct host_run_report report;
  char dir[4096];
  /* Found out before the run, not after an hour of ingestion. */
  if (cli->summary_json && !host_parent_dir_exists(cli->summary_json, dir, sizeof dir)) {
    host_log_msg(log, ETL_SEV_ERROR, "--summary-json", NULL,
                 "the directory '%s' of '%s' does not exist", dir, cli->summary_json);
    return HOST_EXIT_USAGE;
  }
  int code = host_run_workflow(wf, &opts, &report);
  if (report.n_sources) {
    /* The stdout sink owns stdout: its records must not be mixed with the summary. */
    FILE *out = strcmp(wf->sink_type, "stdout") == 0 ? stderr : stdout;
    host_summary_print(out, &report, log);
    if (cli->summary_json && host_summary_write_json(cli->summary_json, &report, log) != 0 &&
        code == HOST_EXIT_OK)
      code = HOST_EXIT_FAILED;
  }
  host_run_report_free(&report);
  return code;
}

int main(int argc, char **argv) {
  /* The user's locale, as Python, GTK and Qt hosts set it: plugins must cope (a config number
   * means the same under LC_NUMERIC=de_DE.UTF-8), and the host's own numbers go through cnum.h. */
  setlocale(LC_ALL, "");
  struct cli cli = {.progress = -1};
  int code = HOST_EXIT_USAGE;
  int own = own_options_command_at(argc, argv);
  int cmd_at = parse_options(own > 0 ? own + 1 : argc, argv, &cli);
  if (cmd_at <= 0)
    return cmd_at == 0 ? HOST_EXIT_OK : HOST_EXIT_USAGE;
  const char *cmd = argv[cmd_at];
  if (own > 0 && strcmp(cmd, "site") == 0)
    return host_site_main(argc - cmd_at, argv + cmd_at, cli.verbosity);
  if (own > 0)
    return host_lineage_cli(argc - cmd_at, argv + cmd_at, cli.verbosity);
  const char *arg = cmd_at + 1 < argc ? argv[cmd_at + 1] : NULL;
  bool needs_arg =
      strcmp(cmd, "run") == 0 || strcmp(cmd, "test") == 0 || strcmp(cmd, "schema") == 0;
  if (strcmp(cmd, "help") == 0) {
    usage(stdout);
    return HOST_EXIT_OK;
  }
  if (!needs_arg && strcmp(cmd, "plugins") != 0) {
    fprintf(stderr, "etlhost: unknown command `%s`\n", cmd);
    usage(stderr);
    return HOST_EXIT_USAGE;
  }
  if ((needs_arg && (!arg || cmd_at + 2 < argc)) || (!needs_arg && arg)) {
    fprintf(stderr, "etlhost: wrong arguments for `%s`\n", cmd);
    usage(stderr);
    return HOST_EXIT_USAGE;
  }

  struct stat st;
  if (cli.plugin_dir && (stat(cli.plugin_dir, &st) != 0 || !S_ISDIR(st.st_mode))) {
    fprintf(stderr, "etlhost: --plugin-dir %s: not a directory\n", cli.plugin_dir);
    return HOST_EXIT_USAGE;
  }
  struct host_log *log = host_log_new(stderr, level_of(&cli, NULL));
  struct host_workflow *wf = NULL;
  struct host_loader *loader = NULL;
  if (!log)
    return HOST_EXIT_FAILED;
  if (strcmp(cmd, "run") == 0 || strcmp(cmd, "test") == 0) {
    /* Secrets of the file are registered while it loads, before anything else is logged. */
    if (host_workflow_load(arg, log, &wf) != 0)
      goto out;
    host_log_set_level(log, level_of(&cli, wf->logger_level));
  }
  loader = host_loader_new(cli.plugin_dir, host_services_table(), log);
  if (!loader) {
    code = HOST_EXIT_FAILED;
    goto out;
  }
  host_signals_install();
  if (strcmp(cmd, "plugins") == 0)
    code = cmd_plugins(loader, log);
  else if (strcmp(cmd, "schema") == 0)
    code = cmd_schema(loader, arg);
  else if (strcmp(cmd, "test") == 0)
    code = host_test_workflow(wf, &(struct host_runner_opts){.log = log, .loader = loader}, stdout);
  else
    code = cmd_run(wf, &cli, log, loader);
out:
  host_loader_free(&loader);
  host_workflow_free(&wf);
  host_log_free(&log);
  return code;
}
