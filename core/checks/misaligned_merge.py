"""misaligned-merge: branches merged whose units are not centred on the same input pixels.

At add, mul or concat, each branch's receptive field has a jump and a start (the centre of
its first unit). When they differ, the merge adds up values that look at different places
of the image; netcalc names the branches and the offset in input pixels.

Failing (a 2x2 pool is centred half a pixel off a padded 3x3 stride-2 conv):

    input 4x8x8
    maxpool k=2 name=a
    conv out=4 k=3 s=2 p=1 from=input name=b
    add from=a,b

Passing:

    input 4x8x8
    conv out=4 k=3 s=2 p=1 name=a
    conv out=4 k=3 s=2 p=1 from=input name=b
    add from=a,b
"""

ID = "misaligned-merge"
SEVERITY = "warning"
check = None  # reported by the receptive-field analysis
