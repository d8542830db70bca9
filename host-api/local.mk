# host-api: the public header, the pkg-config file, and etlhost.
etlincludedir = $(includedir)/etl
etlinclude_HEADERS = host-api/include/etl/plugin.h
pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = host-api/etl-plugin.pc

# Pieces of the host every host module and host test links: diagnostics with redaction.
noinst_LTLIBRARIES += host-api/libhostcommon.la
host_api_libhostcommon_la_SOURCES = host-api/src/log.c host-api/src/log.h host-api/src/sink.h \
	host-api/src/state.h
host_api_libhostcommon_la_CFLAGS = $(AM_CFLAGS)
