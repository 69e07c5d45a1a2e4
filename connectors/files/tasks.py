"""Django-Q2 task for large file imports. It takes the import's id only (the
bytes are stored on the import) and is idempotent: the engine claims the run,
so a duplicate delivery finds it taken or finished and changes nothing."""

from __future__ import annotations

from connectors.files.services import import_run


def process_file_import(file_import_id: int) -> str:
    upload = import_run(file_import_id)
    return upload.run.status if upload.run_id else "no run"
