"""kernel-exceeds-input: a window larger than its padded input.

PyTorch refuses such a layer, so netcalc reports it as an error of the spec itself
(exit status 2), at the layer, with the sizes.

Failing:

    input 3x8x8
    conv out=4 k=9

Passing:

    input 3x8x8
    conv out=4 k=9 p=1
"""

ID = "kernel-exceeds-input"
SEVERITY = "error"
check = None  # reported by the shape analysis
