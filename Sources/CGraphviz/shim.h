// CGraphviz: Graphviz's libgvc and libcgraph. No stable Swift API; import only from Diagrams.
#include <graphviz/gvc.h>
#include <graphviz/cgraph.h>
