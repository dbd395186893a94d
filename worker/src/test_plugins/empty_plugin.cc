// A plugin that defines no kernel.
#include "pfor/kernel.h"

PFOR_PLUGIN("test_empty");
