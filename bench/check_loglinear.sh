#!/usr/bin/env bash
# Cross-checks recuento's log-linear fits against statsmodels (from PyPI). See check_loglinear.py.
exec "$(dirname "$0")/run_check.sh" check_loglinear.py statsmodels numpy scipy
