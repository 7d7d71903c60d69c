"""The harvester stage: brings source records into the record store, over OAI-PMH or from files.

Each source is harvested on its own, checkpointed page by page, so a failing or killed harvest of one
library never loses what was stored and never stops the others.
"""

from harvester.harvest import harvest_all, harvest_source
from harvester.importer import ImportReport, import_files
from harvester.report import HarvestProgress, HarvestReport, ProgressCallback

__all__ = [
    "HarvestProgress",
    "HarvestReport",
    "ImportReport",
    "ProgressCallback",
    "harvest_all",
    "harvest_source",
    "import_files",
]
