/* CPetrel: the C module over include/petrel.h (the C API) and include/petrel_plugin.h (the plugin
 * ABI). SwiftPM builds a C target only when it has a source file; the C API's functions are
 * implemented in Swift (Sources/PetrelC) and exported from libpetrel.so. Including the headers here
 * makes the build check that they compile as C. */
#include "../../include/petrel.h"
#include "../../include/petrel_plugin.h"
