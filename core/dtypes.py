"""Element types: bytes per element, the one table the report and the command line share."""

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "float64": 8}
COUNTER_BYTES = 8  # int64: BatchNorm's num_batches_tracked, whatever the dtype
