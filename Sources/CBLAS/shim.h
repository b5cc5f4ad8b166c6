// CBLAS: OpenBLAS's C interface. No stable Swift API; import only from the Tensors module.
#include <cblas.h>
// OpenBLAS's own thread pool; Tensors sets it so BLAS and our workers never oversubscribe the cores.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
