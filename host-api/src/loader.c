/*
 * loader.c -- plugins by name, with libltdl (see loader.h).
 *
 * A plugin is trusted only after its descriptor has been checked in this order: the frozen
 * prefix is there, the major matches ours, the struct is at least as large as our major's
 * first minor, and the mandatory members are set. Only then is it cached and handed out.
 */
#include "config.h"

#include "loader.h"

#include "log.h"

#include <dirent.h>
#include <ltdl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef HOST_PLUGINDIR
#define HOST_PLUGINDIR "/usr/local/lib/etlhost/plugins"
#endif

#define LOADER_MAX_DIRS 64
#define LOADER_MAX_PLUGINS 256

/* libltdl keeps global state and is not thread-safe; every call into it takes this lock. */
static pthread_mutex_t ltdl_lock = PTHREAD_MUTEX_INITIALIZER;

struct loaded {
  struct host_plugin pub;
  lt_dlhandle handle;
};

struct host_loader {
  struct host_log *log;                     /* borrowed */
  const struct etl_host_services *services; /* borrowed */
  char *dirs[LOADER_MAX_DIRS];              /* owned */
  size_t n_dirs;
  char dirs_text[4096];
  struct loaded *plugins[LOADER_MAX_PLUGINS]; /* owned */
  size_t n_plugins;
};

static int add_dir(struct host_loader *l, const char *dir, size_t len) {
  if (len == 0 || l->n_dirs == LOADER_MAX_DIRS)
    return 0;
  char *copy = strndup(dir, len);
  if (!copy)
    return -1;
  l->dirs[l->n_dirs++] = copy;
  size_t used = strlen(l->dirs_text);
  snprintf(l->dirs_text + used, sizeof l->dirs_text - used, "%s%s", used ? ", " : "", copy);
  return 0;
}

struct host_loader *host_loader_new(const char *plugin_dir,
                                    const struct etl_host_services *services,
                                    struct host_log *log) {
  struct host_loader *l = calloc(1, sizeof *l);
  if (!l)
    return NULL;
  l->log = log;
  l->services = services;
  int rc = 0;
  if (plugin_dir)
    rc |= add_dir(l, plugin_dir, strlen(plugin_dir));
  const char *env = getenv("ETL_PLUGIN_PATH");
  while (env && *env) {
    const char *colon = strchr(env, ':');
    size_t len = colon ? (size_t)(colon - env) : strlen(env);
    rc |= add_dir(l, env, len);
    env = colon ? colon + 1 : NULL;
  }
  rc |= add_dir(l, HOST_PLUGINDIR, strlen(HOST_PLUGINDIR));
  pthread_mutex_lock(&ltdl_lock);
  int init = lt_dlinit();
  const char *why = init ? lt_dlerror() : NULL;
  pthread_mutex_unlock(&ltdl_lock);
  if (init) {
    host_log_msg(log, ETL_SEV_ERROR, NULL, NULL, "cannot start libltdl: %s",
                 why ? why : "unknown error");
    for (size_t i = 0; i < l->n_dirs; i++)
      free(l->dirs[i]);
    free(l); /* lt_dlexit is not called: lt_dlinit failed */
    return NULL;
  }
  if (rc != 0)
    host_loader_free(&l);
  return l;
}

const char *host_loader_dirs(const struct host_loader *loader) {
  return loader->dirs_text;
}

/* Checks a descriptor; returns NULL when usable, else a malloc'd reason. */
static char *check_descriptor(const struct etl_plugin *d, const char *path) {
  char *why = NULL;
  int n = 0;
  const size_t prefix = offsetof(struct etl_plugin, abi_minor) + sizeof d->abi_minor;
  const size_t v1_size = offsetof(struct etl_plugin, close) + sizeof d->close;
  if (!d)
    n = asprintf(&why, "%s: the entry function returned no descriptor", path);
  else if (d->struct_size < prefix)
    n = asprintf(&why,
                 "%s: malformed descriptor: struct_size %zu is smaller than the frozen prefix "
                 "(%zu bytes)",
                 path, d->struct_size, prefix);
  else if (d->abi_major != ETL_ABI_MAJOR)
    n = asprintf(&why,
                 "%s: plugin ABI %u.%u is not compatible with this host's ABI %d.%d (major "
                 "versions differ); rebuild the plugin against this host's <etl/plugin.h>",
                 path, d->abi_major, d->abi_minor, ETL_ABI_MAJOR, ETL_ABI_MINOR);
  else if (d->struct_size < v1_size)
    n = asprintf(&why,
                 "%s: malformed descriptor: struct_size %zu is smaller than ABI %d.0's %zu "
                 "bytes",
                 path, d->struct_size, ETL_ABI_MAJOR, v1_size);
  else if (!d->name || !*d->name)
    n = asprintf(&why, "%s: malformed descriptor: `name` is NULL or empty", path);
  else if (!d->open)
    n = asprintf(&why, "%s: malformed descriptor: `open` is NULL", path);
  else if (!d->next_entity)
    n = asprintf(&why, "%s: malformed descriptor: `next_entity` is NULL", path);
  else if (!d->close)
    n = asprintf(&why, "%s: malformed descriptor: `close` is NULL", path);
  if (n < 0)
    return strdup("out of memory");
  return why;
}

/* dlopens path and checks what it offers. Returns the loaded plugin, or NULL with *why
 * (malloc'd) set. */
static struct loaded *load_file(struct host_loader *l, const char *name, const char *path,
                                char **why) {
  *why = NULL;
  struct loaded *p = calloc(1, sizeof *p);
  if (!p || !(p->pub.name = strdup(name)) || !(p->pub.path = strdup(path))) {
    *why = strdup("out of memory");
    goto fail;
  }
  pthread_mutex_lock(&ltdl_lock);
  p->handle = lt_dlopen(path);
  const char *err = p->handle ? NULL : lt_dlerror();
  void *sym = p->handle ? lt_dlsym(p->handle, ETL_PLUGIN_ENTRY_SYMBOL) : NULL;
  if (p->handle && !sym)
    err = lt_dlerror();
  pthread_mutex_unlock(&ltdl_lock);
  if (!p->handle) {
    if (asprintf(why, "%s: cannot load: %s", path, err ? err : "unknown error") < 0)
      *why = NULL;
    goto fail;
  }
  if (!sym) {
    if (asprintf(why, "%s: not an etlhost plugin: no `%s` symbol (%s)", path,
                 ETL_PLUGIN_ENTRY_SYMBOL, err ? err : "symbol not found") < 0)
      *why = NULL;
    goto fail;
  }
  etl_plugin_entry_fn entry;
  /* ISO C forbids converting void * to a function pointer; POSIX requires it to work. */
  memcpy(&entry, &sym, sizeof entry);
  p->pub.desc = entry(l->services);
  if ((*why = check_descriptor(p->pub.desc, path)) != NULL)
    goto fail;
  if (strcmp(p->pub.desc->name, name) != 0) {
    if (asprintf(why, "%s: the file is named `%s` but the plugin calls itself `%s`", path, name,
                 p->pub.desc->name) < 0)
      *why = NULL;
    goto fail;
  }
  return p;
fail:
  if (!*why)
    *why = strdup("out of memory");
  if (p && p->handle) {
    pthread_mutex_lock(&ltdl_lock);
    lt_dlclose(p->handle);
    pthread_mutex_unlock(&ltdl_lock);
  }
  if (p) {
    free(p->pub.name);
    free(p->pub.path);
  }
  free(p);
  return NULL;
}

/* The file of plugin name in dir, if there is one (malloc'd), else NULL. */
static char *find_in_dir(const char *dir, const char *name) {
  static const char *const exts[] = {".so", ".la"};
  for (size_t i = 0; i < 2; i++) {
    char *path = NULL;
    if (asprintf(&path, "%s/%s%s", dir, name, exts[i]) < 0)
      return NULL;
    if (access(path, F_OK) == 0)
      return path;
    free(path);
  }
  return NULL;
}

static int valid_name(const char *name) {
  if (!*name)
    return 0;
  for (const char *c = name; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-'))
      return 0;
  return 1;
}

static struct loaded *cached(struct host_loader *l, const char *name) {
  for (size_t i = 0; i < l->n_plugins; i++)
    if (strcmp(l->plugins[i]->pub.name, name) == 0)
      return l->plugins[i];
  return NULL;
}

etl_status host_loader_load(struct host_loader *l, const char *name,
                            const struct host_plugin **out) {
  *out = NULL;
  struct loaded *p = cached(l, name);
  if (p) {
    *out = &p->pub;
    return ETL_OK;
  }
  if (!valid_name(name)) {
    host_log_msg(l->log, ETL_SEV_ERROR, NULL, NULL,
                 "plugin `%s`: not a plugin name (letters a-z, digits, '_' and '-')", name);
    return ETL_ERR_CONFIG;
  }
  char *path = NULL;
  for (size_t i = 0; i < l->n_dirs && !path; i++)
    path = find_in_dir(l->dirs[i], name);
  if (!path) {
    host_log_msg(l->log, ETL_SEV_ERROR, NULL, NULL,
                 "no plugin named `%s` (looked for %s.so in: %s); see `etlhost plugins`", name,
                 name, l->dirs_text);
    return ETL_ERR_CONFIG;
  }
  char *why = NULL;
  if (l->n_plugins == LOADER_MAX_PLUGINS) {
    host_log_msg(l->log, ETL_SEV_ERROR, NULL, NULL, "too many plugins loaded");
    free(path);
    return ETL_ERR_CONFIG;
  }
  p = load_file(l, name, path, &why);
  free(path);
  if (!p) {
    host_log_msg(l->log, ETL_SEV_ERROR, NULL, NULL, "plugin `%s`: %s", name, why);
    free(why);
    return ETL_ERR_CONFIG;
  }
  l->plugins[l->n_plugins++] = p;
  *out = &p->pub;
  return ETL_OK;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The plugin names of the .so files in dir, sorted (malloc'd array of malloc'd strings). */
static size_t list_dir(const char *dir, char ***names_out) {
  *names_out = NULL;
  DIR *d = opendir(dir);
  if (!d)
    return 0;
  char **names = NULL;
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t len = strlen(e->d_name);
    if (len <= 3 || strcmp(e->d_name + len - 3, ".so") != 0)
      continue;
    char **grown = realloc(names, (n + 1) * sizeof *names);
    if (!grown)
      break;
    names = grown;
    if ((names[n] = strndup(e->d_name, len - 3)) != NULL)
      n++;
  }
  closedir(d);
  if (n)
    qsort(names, n, sizeof *names, cmp_str);
  *names_out = names;
  return n;
}

size_t host_loader_each(struct host_loader *l, host_loader_visit_fn fn, void *ctx) {
  size_t seen = 0;
  char **done = NULL; /* names already reported: the first directory wins */
  size_t n_done = 0;
  for (size_t i = 0; i < l->n_dirs; i++) {
    char **names = NULL;
    size_t n = list_dir(l->dirs[i], &names);
    for (size_t j = 0; j < n; j++) {
      int dup = 0;
      for (size_t k = 0; k < n_done && !dup; k++)
        dup = strcmp(done[k], names[j]) == 0;
      char **grown = dup ? NULL : realloc(done, (n_done + 1) * sizeof *done);
      if (dup || !grown) {
        free(names[j]);
        continue;
      }
      done = grown;
      done[n_done++] = names[j];
      char *file = NULL;
      if (asprintf(&file, "%s/%s.so", l->dirs[i], names[j]) < 0)
        continue;
      struct loaded *p = cached(l, names[j]);
      char *why = NULL;
      if (!p) {
        p = load_file(l, names[j], file, &why);
        if (p && l->n_plugins < LOADER_MAX_PLUGINS)
          l->plugins[l->n_plugins++] = p;
      }
      fn(ctx, file, p ? &p->pub : NULL, why);
      seen++;
      free(why);
      free(file);
    }
    free(names);
  }
  for (size_t k = 0; k < n_done; k++)
    free(done[k]);
  free(done);
  return seen;
}

void host_loader_free(struct host_loader **lp) {
  if (!lp || !*lp)
    return;
  struct host_loader *l = *lp;
  pthread_mutex_lock(&ltdl_lock);
  for (size_t i = 0; i < l->n_plugins; i++) {
    lt_dlclose(l->plugins[i]->handle);
    free(l->plugins[i]->pub.name);
    free(l->plugins[i]->pub.path);
    free(l->plugins[i]);
  }
  lt_dlexit();
  pthread_mutex_unlock(&ltdl_lock);
  for (size_t i = 0; i < l->n_dirs; i++)
    free(l->dirs[i]);
  free(l);
  *lp = NULL;
}
