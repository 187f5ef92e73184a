/* CPetrel: the C module over include/petrel.h. SwiftPM builds a C target only when it has a source
 * file; the functions themselves are implemented in Swift (Sources/PetrelC) and exported from
 * libpetrel.so. Including the header here makes the build check that it compiles as C. */
#include "../../include/petrel.h"
