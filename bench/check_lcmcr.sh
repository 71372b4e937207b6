#!/usr/bin/env bash
# Cross-checks recuento's latent-class model against the LCMCR package's Gibbs sampler,
# re-implemented in numpy. See check_lcmcr.py.
exec "$(dirname "$0")/run_check.sh" check_lcmcr.py numpy
