"""Source text -> Document (the spec as written, with positions) for both syntaxes."""
