"""Read models of the dealer's admin pages: ``program`` (the program, templates, versions) and
``dealership`` (a dealership's holidays, team, measured coefficients and changes)."""
