# tests/plugins: plugins for the host's tests, built as modules that are never installed
# (-rpath makes libtool build a shared module for a check_ library). They land in
# tests/plugins/.libs/NAME.so; tests pass that directory with --plugin-dir.
TEST_PLUGIN_LDFLAGS = -module -avoid-version -no-undefined -rpath /nowhere
TEST_PLUGIN_CFLAGS = $(AM_CFLAGS) $(VISIBILITY_CFLAGS)

check_LTLIBRARIES += tests/plugins/fake.la
tests_plugins_fake_la_SOURCES = tests/plugins/fake.c tests/plugins/test_plugin.h
tests_plugins_fake_la_CFLAGS = $(TEST_PLUGIN_CFLAGS) $(YAJL_CFLAGS)
tests_plugins_fake_la_LIBADD = $(YAJL_LIBS)
tests_plugins_fake_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS) -export-symbols-regex '^etl_plugin_entry$$'

check_LTLIBRARIES += tests/plugins/wrong_major.la tests/plugins/short_desc.la \
	tests/plugins/null_callbacks.la tests/plugins/no_entry.la
tests_plugins_wrong_major_la_SOURCES = tests/plugins/broken.c
tests_plugins_wrong_major_la_CPPFLAGS = $(AM_CPPFLAGS) -DBROKEN_WRONG_MAJOR
tests_plugins_wrong_major_la_CFLAGS = $(TEST_PLUGIN_CFLAGS)
tests_plugins_wrong_major_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_short_desc_la_SOURCES = tests/plugins/broken.c
tests_plugins_short_desc_la_CPPFLAGS = $(AM_CPPFLAGS) -DBROKEN_SHORT
tests_plugins_short_desc_la_CFLAGS = $(TEST_PLUGIN_CFLAGS)
tests_plugins_short_desc_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_null_callbacks_la_SOURCES = tests/plugins/broken.c
tests_plugins_null_callbacks_la_CPPFLAGS = $(AM_CPPFLAGS) -DBROKEN_NULL_CALLBACKS
tests_plugins_null_callbacks_la_CFLAGS = $(TEST_PLUGIN_CFLAGS)
tests_plugins_null_callbacks_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
tests_plugins_no_entry_la_SOURCES = tests/plugins/broken.c
tests_plugins_no_entry_la_CPPFLAGS = $(AM_CPPFLAGS) -DBROKEN_NO_ENTRY
tests_plugins_no_entry_la_CFLAGS = $(TEST_PLUGIN_CFLAGS)
tests_plugins_no_entry_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)

# A plugin written in C++ (ETL_PLUGIN_DEFINE in a .cpp file), when configure found a C++
# compiler; tests/e2e/test_cxx_plugin.sh loads it (and skips without it).
if HAVE_CXX
check_LTLIBRARIES += tests/plugins/cxx_plugin.la
tests_plugins_cxx_plugin_la_SOURCES = tests/plugins/cxx_plugin.cpp
tests_plugins_cxx_plugin_la_CXXFLAGS = -std=c++11 $(WARN_CXXFLAGS) $(VISIBILITY_CFLAGS)
tests_plugins_cxx_plugin_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS) \
	-export-symbols-regex '^etl_plugin_entry$$'
endif

# A plugin with a right descriptor that breaks the runtime rules etl-plugin-check tests.
check_LTLIBRARIES += tests/plugins/rude.la
tests_plugins_rude_la_SOURCES = tests/plugins/rude.c tests/plugins/test_plugin.h
tests_plugins_rude_la_CFLAGS = $(TEST_PLUGIN_CFLAGS)
tests_plugins_rude_la_LDFLAGS = $(TEST_PLUGIN_LDFLAGS)
