"""Finding codes of the coverage gate. A code never changes meaning once released."""

from __future__ import annotations

GATE = "coverage"

TOTAL_LINE = "DJG401"  # the whole measurement is below the global line floor
TOTAL_BRANCH = "DJG402"  # ... below the global branch floor
APP_LINE = "DJG403"  # a Django app (all its files together) is below its line floor
APP_BRANCH = "DJG404"  # ... below its branch floor
FILE_LINE = "DJG405"  # a file matched by a glob floor is below its line floor
FILE_BRANCH = "DJG406"  # ... below its branch floor
PATCH_LINE = "DJG407"  # the lines changed since the base are below the patch floor
BASELINE_LINE = "DJG408"  # an app's line coverage dropped below its committed baseline
BASELINE_BRANCH = "DJG409"  # an app's branch coverage dropped below its committed baseline
BASELINE_MISSING = "DJG410"  # a baseline is configured but the file does not exist
BASELINE_STALE = "DJG411"  # (warning) the baseline names an app the project no longer has
PATCH_UNREACHABLE = "DJG412"  # the git base cannot be reached (shallow clone, no history)
WORKERS_LOST = "DJG413"  # xdist workers returned no coverage data: the figures are incomplete

CODES: dict[str, str] = {
    TOTAL_LINE: "total line coverage below the floor",
    TOTAL_BRANCH: "total branch coverage below the floor",
    APP_LINE: "app line coverage below its floor",
    APP_BRANCH: "app branch coverage below its floor",
    FILE_LINE: "file line coverage below its glob floor",
    FILE_BRANCH: "file branch coverage below its glob floor",
    PATCH_LINE: "changed lines below the patch floor",
    BASELINE_LINE: "app line coverage dropped below the baseline",
    BASELINE_BRANCH: "app branch coverage dropped below the baseline",
    BASELINE_MISSING: "coverage baseline file missing",
    BASELINE_STALE: "baseline names an app that no longer exists",
    PATCH_UNREACHABLE: "git base of the patch cannot be reached",
    WORKERS_LOST: "xdist workers returned no coverage data",
}
