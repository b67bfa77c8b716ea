#pragma once
// Told during a backward pass when a part of the network has finished it: that part's
// parameters then hold this step's whole gradient. A data-parallel run starts summing them over
// the processes while backward goes on through the earlier layers (distributed/gradient_averager.hpp),
// as PyTorch's DistributedDataParallel does. A seq reports each child after its backward
// (graph/seq.hpp); parts it does not report are complete when backward returns.
#include "hush/core/parameter.hpp"

namespace hush {

/// Told during backward when a parameter's gradient for the step is complete, so a data-parallel
/// run can start summing it across processes while backward goes on. A context points at one
/// through its gradients member (none: nobody is told).
class gradient_watch {
 public:
  /// `p`'s gradient is complete for this step (it may be reported again, by an enclosing seq).
  /// graph/visit.hpp's report_complete(watch, layer) reports a layer's whole subtree.
  virtual void complete(parameter& p) = 0;

 protected:
  ~gradient_watch() = default;
};

}  // namespace hush
