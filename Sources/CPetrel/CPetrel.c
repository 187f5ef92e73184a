// CPetrel is a header-only module over include/*.h; SwiftPM needs one source file to build the target.
#include "../../include/petrel_plugin.h"
