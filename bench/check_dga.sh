#!/usr/bin/env bash
# Cross-checks recuento's average over decomposable graphs against the dga package's formula,
# re-implemented in numpy. See check_dga.py.
exec "$(dirname "$0")/run_check.sh" check_dga.py numpy scipy
