"""Element types: bytes per element, the one table the report, the spec's inputs and the
command line share."""

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "float64": 8}
COUNTER_BYTES = 8  # int64: BatchNorm's num_batches_tracked, whatever the dtype
# what an input may be (`128:int64`): PyTorch's names; integers and bool are token ids or masks
TENSOR_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8, "int64": 8, "int32": 4, "bool": 1}
FLOATS = frozenset({"float32", "float16", "bfloat16", "float64"})
