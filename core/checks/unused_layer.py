"""unused-layer: a layer whose output reaches no output of the network.

A layer inside a block is reported at the line that uses the block at top level (each use
has its own line, and the layer may be dead in one use only), naming the layer
(`layer1.0.b`) and its line in the block.

Failing (branch `a` is computed and thrown away):

    input 3x8x8
    conv out=3 k=1 name=a
    conv out=3 k=1 from=input name=b

Passing:

    input 3x8x8
    conv out=3 k=1 name=a
    conv out=3 k=1 from=input name=b
    add from=a,b
"""

ID = "unused-layer"
SEVERITY = "warning"
check = None  # reported when the graph is built
