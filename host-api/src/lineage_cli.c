/*
 * lineage_cli.c -- `etlhost lineage`: options to a host_lineage_view, the picture to a file or
 * stdout. Knows neither SQLite nor Graphviz.
 */
#include "config.h"

#include "lineage_cli.h"

#include "lineage.h"
#include "log.h"
#include "runner.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Past this many nodes a whole-graph picture is a texture, not a diagram. */
#define LINEAGE_READABLE_NODES 400

struct lineage_opts {
  struct host_lineage_view view;
  enum host_lineage_format format;
  const char *catalog;
  const char *output; /* NULL: stdout */
  int verbosity;
  bool help;
};

static void usage(FILE *out) {
  fputs("Usage: etlhost lineage CATALOG [OPTIONS]\n"
        "\n"
        "Draws the lineage in an etlhost SQLite catalog: tables -> data models -> charts and\n"
        "dashboards, grouped by database and by service.\n"
        "\n"
        "Focus (one of; default: the whole graph):\n"
        "  --dashboard ID|FQN   a dashboard and its lineage\n"
        "  --table FQN          a table (service.database.schema.name) and what reads it\n"
        "  --column FQN         a column (table or data model FQN + '.' + column); implies\n"
        "                       --columns\n"
        "  --upstream           only what the focus reads from\n"
        "  --downstream         only what reads the focus\n"
        "  --depth N            at most N edges away from the focus (0: no limit)\n"
        "\n"
        "Drawing:\n"
        "  --columns            columns as fields of tables and data models, with column edges\n"
        "  --show-deleted       draw deleted entities, greyed and dashed (default: left out)\n"
        "  --max-fanout N       at most N neighbours per node and direction (default 25); the\n"
        "                       rest become one '... and K more' node, and stderr names them\n"
        "  --format dot|svg|png output format (default svg)\n"
        "  -o, --output FILE    write to FILE (default: stdout; png never to a terminal)\n"
        "  -v, --verbose        more messages; -q, --quiet: errors only\n"
        "  -h, --help           this help\n"
        "\n"
        "Exit status: 0 drawn, 1 could not draw or write it, 2 usage error, unreadable catalog\n"
        "or unknown focus. See etlhost(1).\n",
        out);
}

/* A whole non-negative int, or -1. */
static int parse_count(const char *s) {
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v < 0 || v > INT_MAX)
    return -1;
  return (int)v;
}

static int set_focus(struct lineage_opts *o, enum host_lineage_focus focus, const char *name) {
  if (o->view.focus != HOST_LINEAGE_FOCUS_ALL) {
    fputs("etlhost lineage: give at most one of --dashboard, --table and --column\n", stderr);
    return -1;
  }
  if (!*name) {
    fputs("etlhost lineage: the focus name is empty\n", stderr);
    return -1;
  }
  o->view.focus = focus;
  o->view.focus_name = name;
  return 0;
}

static int parse_format(struct lineage_opts *o, const char *s) {
  if (strcmp(s, "dot") == 0)
    o->format = HOST_LINEAGE_DOT;
  else if (strcmp(s, "svg") == 0)
    o->format = HOST_LINEAGE_SVG;
  else if (strcmp(s, "png") == 0)
    o->format = HOST_LINEAGE_PNG;
  else {
    fprintf(stderr, "etlhost lineage: --format '%s': use dot, svg or png\n", s);
    return -1;
  }
  return 0;
}

static int parse_number(const char *opt, const char *s, int min, int *out) {
  int v = parse_count(s);
  if (v < min) {
    fprintf(stderr, "etlhost lineage: %s '%s': expected a whole number of at least %d\n", opt, s,
            min);
    return -1;
  }
  *out = v;
  return 0;
}

/* 0, 1 for help, -1 after a message. */
static int parse(int argc, char **argv, struct lineage_opts *o) {
  enum {
    O_DASH = 256,
    O_TABLE,
    O_COLUMN,
    O_UP,
    O_DOWN,
    O_DEPTH,
    O_FANOUT,
    O_FORMAT,
    O_COLS,
    O_DELETED
  };
  static const struct option longopts[] = {
      {"dashboard", required_argument, NULL, O_DASH},
      {"table", required_argument, NULL, O_TABLE},
      {"column", required_argument, NULL, O_COLUMN},
      {"upstream", no_argument, NULL, O_UP},
      {"downstream", no_argument, NULL, O_DOWN},
      {"depth", required_argument, NULL, O_DEPTH},
      {"max-fanout", required_argument, NULL, O_FANOUT},
      {"format", required_argument, NULL, O_FORMAT},
      {"columns", no_argument, NULL, O_COLS},
      {"show-deleted", no_argument, NULL, O_DELETED},
      {"output", required_argument, NULL, 'o'},
      {"verbose", no_argument, NULL, 'v'},
      {"quiet", no_argument, NULL, 'q'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  int c, rc = 0;
  optind = 0; /* glibc: start afresh (etlhost's own options were parsed before) */
  opterr = 0;
  while (rc == 0 && (c = getopt_long(argc, argv, ":o:vqh", longopts, NULL)) != -1) {
    switch (c) {
    case O_DASH:
      rc = set_focus(o, HOST_LINEAGE_FOCUS_DASHBOARD, optarg);
      break;
    case O_TABLE:
      rc = set_focus(o, HOST_LINEAGE_FOCUS_TABLE, optarg);
      break;
    case O_COLUMN:
      rc = set_focus(o, HOST_LINEAGE_FOCUS_COLUMN, optarg);
      break;
    case O_UP:
      o->view.upstream = true;
      break;
    case O_DOWN:
      o->view.downstream = true;
      break;
    case O_DEPTH:
      rc = parse_number("--depth", optarg, 0, &o->view.depth);
      break;
    case O_FANOUT:
      rc = parse_number("--max-fanout", optarg, 1, &o->view.max_fanout);
      break;
    case O_FORMAT:
      rc = parse_format(o, optarg);
      break;
    case O_COLS:
      o->view.columns = true;
      break;
    case O_DELETED:
      o->view.show_deleted = true;
      break;
    case 'o':
      o->output = optarg;
      break;
    case 'v':
      o->verbosity++;
      break;
    case 'q':
      o->verbosity--;
      break;
    case 'h':
      return 1;
    case ':':
      fprintf(stderr, "etlhost lineage: %s needs a value\n", argv[optind - 1]);
      return -1;
    default:
      if (optopt > 0 && optopt < 256) /* a short option: optind may not have moved past it */
        fprintf(stderr, "etlhost lineage: unknown option '-%c'\n", optopt);
      else
        fprintf(stderr, "etlhost lineage: unknown option '%s'\n", argv[optind - 1]);
      return -1;
    }
  }
  if (rc != 0)
    return -1;
  if (optind != argc - 1) {
    fputs(optind >= argc ? "etlhost lineage: which catalog? (etlhost lineage CATALOG)\n"
                         : "etlhost lineage: give one catalog file\n",
          stderr);
    return -1;
  }
  o->catalog = argv[optind];
  return 0;
}

static int write_all(const char *path, const char *data, size_t len, struct host_log *log) {
  FILE *f = path ? fopen(path, "wb") : stdout;
  if (!f) {
    host_log_msg(log, ETL_SEV_ERROR, "lineage", NULL, "cannot write '%s': %s", path,
                 strerror(errno));
    return -1;
  }
  bool ok = fwrite(data, 1, len, f) == len;
  ok = (path ? fclose(f) == 0 : fflush(f) == 0) && ok;
  if (!ok)
    host_log_msg(log, ETL_SEV_ERROR, "lineage", NULL, "writing '%s' failed: %s",
                 path ? path : "stdout", strerror(errno));
  return ok ? 0 : -1;
}

int host_lineage_cli(int argc, char **argv, int verbosity) {
  struct lineage_opts o = {.format = HOST_LINEAGE_SVG, .verbosity = verbosity};
  int rc = parse(argc, argv, &o);
  if (rc != 0) {
    if (rc > 0)
      usage(stdout);
    else
      fputs("Try `etlhost lineage --help`.\n", stderr);
    return rc > 0 ? HOST_EXIT_OK : HOST_EXIT_USAGE;
  }
  if (o.format == HOST_LINEAGE_PNG && !o.output && isatty(STDOUT_FILENO)) {
    fputs("etlhost lineage: not writing PNG to a terminal: give -o FILE or redirect stdout\n",
          stderr);
    return HOST_EXIT_USAGE;
  }
  o.view.log_omitted = true;
  struct host_log *log = host_log_new(stderr, host_log_level_for(ETL_SEV_WARNING, o.verbosity));
  struct host_lineage_graph *graph = NULL;
  struct host_lineage_stats stats = {0};
  char *picture = NULL; /* owned */
  size_t len = 0;
  int code = HOST_EXIT_USAGE;
  if (!log)
    return HOST_EXIT_FAILED;
  if (host_lineage_load(o.catalog, log, &graph) != 0)
    goto out;
  if (host_lineage_check_focus(graph, &o.view, log) != 0)
    goto out; /* an unknown focus is the user's to fix */
  code = HOST_EXIT_FAILED;
  if (host_lineage_render(graph, &o.view, o.format, &picture, &len, &stats, log) != 0)
    goto out;
  code = write_all(o.output, picture, len, log) == 0 ? HOST_EXIT_OK : HOST_EXIT_FAILED;
  if (o.view.focus == HOST_LINEAGE_FOCUS_ALL && stats.nodes > LINEAGE_READABLE_NODES)
    host_log_msg(log, ETL_SEV_WARNING, "lineage", NULL,
                 "%zu nodes in one picture: --dashboard, --table or --column with --depth draw"
                 " a readable part of it",
                 stats.nodes);
  host_log_msg(log, ETL_SEV_INFO, "lineage", NULL,
               "%zu nodes and %zu edges drawn, %zu nodes left out%s%s", stats.nodes, stats.edges,
               stats.omitted_nodes, o.output ? ", written to " : "", o.output ? o.output : "");
out:
  free(picture);
  host_lineage_free(&graph);
  host_log_free(&log);
  return code;
}
