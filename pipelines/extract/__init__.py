"""Pull task trackers' APIs into the landing folder: Jira (Cloud and Data Center), GitHub, Linear.

Each pull stores the API's own responses, page by page, in a folder of its own
(``<landing>/<source>/<pull time>/page-0001.json`` and its ``manifest.json``), which the source
adapters in ``pipelines.sources`` then parse like any other landing file. A pull is complete or
absent: it is written into a hidden ``.partial`` folder and renamed into place only once every page
and every history was fetched, and only then does the source's cursor (the high-water mark of the
issues' update times) move forward, so a failed or killed pull changes nothing that ingestion reads.

Modules: ``http`` (the retrying client and one-line errors), ``pulls`` (pull folders, cursors,
locking), ``config`` (``owh.yml``), and one module per tracker.
"""
