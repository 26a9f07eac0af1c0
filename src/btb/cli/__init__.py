"""btb's command line (the ``btb`` console script)."""
