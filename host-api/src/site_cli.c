/*
 * site_cli.c -- `etlhost site CATALOG -o DIR`: options, and publishing the site atomically.
 *
 * The site is written into a fresh directory next to DIR ("DIR.tmp-XXXXXX") and only then
 * renamed to DIR, so a run that fails half-way leaves the previous site (or nothing) in place,
 * never half a site. A DIR that already exists is replaced only if it is empty or holds the
 * marker file an earlier `etlhost site` left there (.etlhost-site): a typo in -o must not wipe
 * someone's directory.
 */
#include "config.h"

#include "site_cli.h"

#include "log.h"
#include "site_html.h"
#include "site_lineage.h"
#include "site_model.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SITE_MARKER ".etlhost-site"
#define EXIT_OK 0
#define EXIT_FAILED 1
#define EXIT_USAGE 2

struct site_cli {
  const char *catalog, *out, *title;
  int stale_days;
  int verbosity;
  bool pictures;
};

static void usage(FILE *f) {
  fputs("Usage: etlhost site CATALOG -o DIR [OPTIONS]\n"
        "\n"
        "Writes a static HTML catalog of the sqlite catalog file CATALOG into DIR: an index of\n"
        "dashboards with search and filters, a page per dashboard and per table with its lineage\n"
        "picture, and a \"needs attention\" page. It needs no server: open DIR/index.html.\n"
        "\n"
        "Options:\n"
        "  -o, --output DIR     the site's directory (replaced if it holds an earlier site)\n"
        "  --title TEXT         the site's name in every header (default: etlhost catalog)\n"
        "  --stale-days N       a report last run more than N days ago is stale (default 90)\n"
        "  --no-pictures        leave the lineage pictures out (faster on huge catalogs)\n"
        "  -v, --verbose        more messages\n"
        "  -q, --quiet          errors only\n"
        "  -h, --help           this help\n"
        "\n"
        "Exit status: 0 written, 1 written but some pictures could not be drawn,\n"
        "2 usage error, unreadable catalog or unwritable DIR (nothing replaced). See "
        "docs/catalog.md.\n",
        f);
}

/* 0: parsed; 1: help printed; -1: usage error printed. */
static int parse(int argc, char **argv, struct site_cli *cli) {
  enum { OPT_TITLE = 256, OPT_STALE, OPT_NO_PICTURES };
  static const struct option longopts[] = {
      {"output", required_argument, NULL, 'o'},
      {"title", required_argument, NULL, OPT_TITLE},
      {"stale-days", required_argument, NULL, OPT_STALE},
      {"no-pictures", no_argument, NULL, OPT_NO_PICTURES},
      {"verbose", no_argument, NULL, 'v'},
      {"quiet", no_argument, NULL, 'q'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  int c;
  char *end;
  long days;
  optind = 1;
  while ((c = getopt_long(argc, argv, "o:vqh", longopts, NULL)) != -1) {
    switch (c) {
    case 'o':
      cli->out = optarg;
      break;
    case OPT_TITLE:
      cli->title = optarg;
      break;
    case OPT_STALE:
      errno = 0;
      days = strtol(optarg, &end, 10);
      if (errno || *end || end == optarg || days < 0 || days > 36500) {
        fprintf(stderr, "etlhost site: --stale-days %s: not a number of days (0..36500)\n", optarg);
        return -1;
      }
      cli->stale_days = (int)days;
      break;
    case OPT_NO_PICTURES:
      cli->pictures = false;
      break;
    case 'v':
      cli->verbosity++;
      break;
    case 'q':
      cli->verbosity--;
      break;
    case 'h':
      usage(stdout);
      return 1;
    default:
      fputs("Try `etlhost site --help`.\n", stderr);
      return -1;
    }
  }
  if (optind + 1 != argc || !cli->out || !*cli->out) {
    fputs(optind + 1 != argc ? "etlhost site: expected one CATALOG\n"
                             : "etlhost site: -o DIR is required\n",
          stderr);
    usage(stderr);
    return -1;
  }
  cli->catalog = argv[optind];
  return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

/* Removes a directory this command created (or an earlier site it replaced), depth first,
 * never following symbolic links. */
static void remove_tree(const char *dir) {
  nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Whether DIR may be replaced: it does not exist (*exists false), or it is a directory that is
 * empty or holds an earlier site. Logs why not. */
static bool replaceable(const char *dir, bool *exists, struct host_log *log) {
  struct stat st;
  *exists = false;
  if (lstat(dir, &st) != 0) {
    if (errno == ENOENT)
      return true;
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL, "site: '%s': %s", dir, strerror(errno));
    return false;
  }
  *exists = true;
  if (!S_ISDIR(st.st_mode)) {
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL, "site: '%s' exists and is not a directory", dir);
    return false;
  }
  DIR *d = opendir(dir);
  if (!d) {
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL, "site: '%s': %s", dir, strerror(errno));
    return false;
  }
  bool empty = true, marked = false;
  for (struct dirent *e; (e = readdir(d));) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    empty = false;
    marked = marked || strcmp(e->d_name, SITE_MARKER) == 0;
  }
  closedir(d);
  if (!empty && !marked) {
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL,
                 "site: '%s' exists and is not a site written by etlhost (no " SITE_MARKER
                 "); choose another directory, or empty it",
                 dir);
    return false;
  }
  return true;
}

static char *with_suffix(const char *dir, const char *suffix) {
  size_t len = strlen(dir) + strlen(suffix) + 1;
  char *s = malloc(len);
  if (s)
    snprintf(s, len, "%s%s", dir, suffix);
  return s;
}

static int write_marker(const char *dir, struct host_log *log) {
  char *path = with_suffix(dir, "/" SITE_MARKER);
  FILE *f = path ? fopen(path, "wx") : NULL;
  int status = -1;
  if (!f) {
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL, "site: cannot create '%s': %s", path ? path : dir,
                 strerror(errno));
    goto out;
  }
  fputs("Written by `etlhost site`; the next run replaces this whole directory.\n", f);
  if (fclose(f) != 0) {
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL, "site: cannot write '%s': %s", path,
                 strerror(errno));
    goto out;
  }
  status = 0;
out:
  free(path);
  return status;
}

/* Moves the finished site at tmp to dir, replacing an earlier one. */
static int publish(const char *tmp, const char *dir, bool exists, struct host_log *log) {
  char *old = NULL; /* owned: where the earlier site goes while the new one moves in */
  int status = -1;
  if (exists) {
    if (!(old = with_suffix(dir, ".old-XXXXXX")) || !mkdtemp(old)) {
      host_log_msg(log, ETL_SEV_ERROR, NULL, NULL, "site: cannot make room next to '%s': %s", dir,
                   strerror(errno));
      goto out;
    }
    /* rename(2) replaces an empty directory */
    if (rename(dir, old) != 0) {
      host_log_msg(log, ETL_SEV_ERROR, NULL, NULL, "site: cannot move '%s' aside: %s", dir,
                   strerror(errno));
      rmdir(old);
      goto out;
    }
  }
  if (rename(tmp, dir) != 0) {
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL, "site: cannot rename '%s' to '%s': %s", tmp, dir,
                 strerror(errno));
    if (old && rename(old, dir) != 0)
      host_log_msg(log, ETL_SEV_ERROR, NULL, NULL, "site: the earlier site is now in '%s'", old);
    goto out;
  }
  if (old)
    remove_tree(old);
  status = 0;
out:
  free(old);
  return status;
}

/* Where the catalog's file name starts (for the footer: no directory of the machine). */
static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash && slash[1] ? slash + 1 : path;
}

static int build(const struct site_cli *cli, struct host_log *log) {
  struct site_catalog *cat = NULL;           /* owned */
  struct site_lineage *lineage = NULL;       /* owned */
  char *dir = strdup(cli->out), *tmp = NULL; /* owned */
  bool exists = false, tmp_made = false;
  int code = EXIT_USAGE;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (!dir)
    goto out;
  for (size_t len = strlen(dir); len > 1 && dir[len - 1] == '/'; len--)
    dir[len - 1] = '\0';
  if (!replaceable(dir, &exists, log) || site_catalog_load(cli->catalog, log, &cat) != 0)
    goto out;
  if (cli->pictures && site_lineage_open(cli->catalog, cat, log, &lineage) != 0)
    goto out;
  if (!(tmp = with_suffix(dir, ".tmp-XXXXXX")) || !mkdtemp(tmp)) {
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL,
                 "site: cannot create a directory next to "
                 "'%s': %s",
                 dir, strerror(errno));
    goto out;
  }
  tmp_made = true;
  if (chmod(tmp, 0755) != 0) /* mkdtemp makes it 0700; a site is for others to read */
    host_log_msg(log, ETL_SEV_WARNING, NULL, NULL, "site: chmod '%s': %s", tmp, strerror(errno));
  struct site_options opts = {
      .title = cli->title,
      .source = base_name(cli->catalog),
      .now = time(NULL),
      .stale_days = cli->stale_days,
      .picture = lineage ? site_lineage_picture : NULL,
      .picture_ctx = lineage,
  };
  /* The reproducible-builds convention: the same catalog then gives the same bytes */
  const char *epoch = getenv("SOURCE_DATE_EPOCH");
  if (epoch && *epoch)
    opts.now = (time_t)strtoll(epoch, NULL, 10);
  struct site_stats stats;
  if (site_write(cat, &opts, tmp, log, &stats) != 0 || write_marker(tmp, log) != 0 ||
      publish(tmp, dir, exists, log) != 0) {
    code = EXIT_FAILED;
    goto out;
  }
  tmp_made = false;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf("site: %s/index.html: %zu pages (%zu dashboards, %zu tables), %zu files, %zu bytes, "
         "%zu lineage pictures, in %.2f s\n",
         dir, stats.pages, cat->n_dashboards, cat->n_tables, stats.files, stats.bytes,
         stats.pictures, secs);
  if (stats.pictures_failed)
    host_log_msg(log, ETL_SEV_WARNING, NULL, NULL,
                 "site: %zu lineage pictures could not be drawn (their pages say so)",
                 stats.pictures_failed);
  code = stats.pictures_failed ? EXIT_FAILED : EXIT_OK;
out:
  if (tmp_made)
    remove_tree(tmp);
  free(tmp);
  free(dir);
  site_lineage_close(&lineage);
  site_catalog_free(&cat);
  return code;
}

int host_site_main(int argc, char **argv, int verbosity) {
  struct site_cli cli = {.stale_days = 90, .pictures = true, .verbosity = verbosity};
  int rc = parse(argc, argv, &cli);
  if (rc != 0)
    return rc > 0 ? EXIT_OK : EXIT_USAGE;
  struct host_log *log = host_log_new(stderr, host_log_level_for(ETL_SEV_WARNING, cli.verbosity));
  if (!log)
    return EXIT_FAILED;
  int code = build(&cli, log);
  host_log_free(&log);
  return code;
}
