# host-api: the public header, the pkg-config file, and etlhost.
etlincludedir = $(includedir)/etl
etlinclude_HEADERS = host-api/include/etl/plugin.h
pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = host-api/etl-plugin.pc

# Pieces of the host every host module and host test links: diagnostics with redaction.
noinst_LTLIBRARIES += host-api/libhostcommon.la
host_api_libhostcommon_la_SOURCES = host-api/src/log.c host-api/src/log.h host-api/src/sink.h \
	host-api/src/state.h host-api/src/cnum.c host-api/src/cnum.h
host_api_libhostcommon_la_CFLAGS = $(AM_CFLAGS)

# The runner's modules, as a library so that the unit tests link the very same code.
noinst_LTLIBRARIES += host-api/libhostcore.la
host_api_libhostcore_la_SOURCES = \
	host-api/src/workflow.c host-api/src/workflow.h host-api/src/yaml_json.c \
	host-api/src/loader.c host-api/src/loader.h \
	host-api/src/services.c host-api/src/services.h \
	host-api/src/runner.c host-api/src/runner.h host-api/src/tester.c \
	host-api/src/spool.c host-api/src/spool.h \
	host-api/src/progress.c host-api/src/progress.h \
	host-api/src/summary.c host-api/src/summary.h
host_api_libhostcore_la_CPPFLAGS = $(AM_CPPFLAGS) -DHOST_PLUGINDIR=\"$(plugindir)\"
host_api_libhostcore_la_CFLAGS = $(AM_CFLAGS) $(YAML_CFLAGS) $(YAJL_CFLAGS)
host_api_libhostcore_la_LIBADD = $(YAML_LIBS) $(YAJL_LIBS) $(LTDL_LIBS) $(PTHREAD_LIBS)

# What a program made of the whole host links (etlhost, and tests that drive the runner).
HOST_ALL_LIBS = host-api/libhostcore.la host-api/libhostsinks.la host-api/libhostcommon.la \
	$(YAML_LIBS) $(YAJL_LIBS) $(SQLITE_LIBS) $(CURL_LIBS) $(LTDL_LIBS) $(PTHREAD_LIBS)

bin_PROGRAMS += host-api/etlhost
host_api_etlhost_SOURCES = host-api/src/main.c
host_api_etlhost_CPPFLAGS = $(AM_CPPFLAGS) -DHOST_PLUGINDIR=\"$(plugindir)\"
host_api_etlhost_CFLAGS = $(AM_CFLAGS)
host_api_etlhost_LDADD = host-api/libhostcatalog.la $(HOST_ALL_LIBS) $(GVC_LIBS)

dist_man_MANS += docs/etlhost.1

# The Python binding: `import etl_plugin` once pythondir is on the path (docs/python.md).
if HAVE_PYTHON
etl_plugin_pydir = $(pythondir)/etl_plugin
etl_plugin_py_PYTHON = host-api/python/etl_plugin/__init__.py \
	host-api/python/etl_plugin/__main__.py
endif
