#include "feature_opts.h"

provider interp {
  /*
     interp:::call-entry(classname, methodname, lineno);

     fired before a call. * `classname` (a string)
  */
  probe call__entry(const char *classname, const char *methodname, int lineno);
#if WITH_TRACE_DETAILS
  probe insn(const char *insn_name);
#endif
  probe gc__mark__begin();
};
