// CPNG: libpng 1.6. No stable Swift API; import only from the Imaging module (and its tests).
#include <png.h>
