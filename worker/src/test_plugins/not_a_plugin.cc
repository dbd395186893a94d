// A shared library without PFOR_PLUGIN.
extern "C" int pfor_test_not_a_plugin(void) { return 42; }
