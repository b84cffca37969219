"""unused-layer: a layer whose output reaches no output of the network.

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
