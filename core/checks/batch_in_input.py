"""batch-in-input: an input shape that starts with the batch axis.

netcalc's shapes leave the batch axis out (`--batch N` sets it), so `1x3x224x224`, as
torchinfo's `input_size` is typed, declares a 3-D volume of one channel, not an image.

Failing:

    input 1x3x224x224
    conv out=64 k=7 s=2 p=3

Passing:

    input 3x224x224
    conv out=64 k=7 s=2 p=3
"""

ID = "batch-in-input"
SEVERITY = "warning"
check = None  # reported when the inputs are read
