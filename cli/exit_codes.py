"""Exit statuses, the same for every command (yamllint's semantics)."""

OK = 0  # clean
FINDINGS = 1  # a check or budget failed
USAGE_OR_INVALID = 2  # bad usage, unreadable or invalid spec
INTERNAL = 3  # a bug in netcalc: reported as `error: internal error ...`, never a traceback
INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT
