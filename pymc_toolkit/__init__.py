__version__ = "0.1.0"

# Importing the fleets attaches them to PymcModel (model.production_fleet(), model.recovery_fleet(), ...), as the
# user guide calls them. This file is not exported from a notebook: nbdev only updates the version line above.
from . import fleets, recovery_fleet, stability_fleet, forecast_fleet  # noqa: E402,F401
