//===- NNOps.td - every op of the nn dialect ---------------*- tablegen -*-===//
#ifndef NNCC_IR_NNOPS_TD
#define NNCC_IR_NNOPS_TD

include "ir/ElementwiseOps.td"
include "ir/TensorOps.td"
include "ir/LayerOps.td"

#endif // NNCC_IR_NNOPS_TD
