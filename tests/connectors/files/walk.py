"""Objects the role walk (tests/revops/test_role_walk.py) needs for the
file-import pages' path arguments: a file-import connector, a column mapping
and a finished import. Made before the walk, so its snapshots stay still."""

from __future__ import annotations

from connectors.files import services
from connectors.models import Connector
from revops.actors import Actor


def walk_objects(legal_entity) -> dict:
    actor = Actor.for_system("tests", "role walk")
    connector = Connector.objects.create(name="walk-files", kind="file", legal_entity=legal_entity)
    mapping = services.mapping_save(
        connector=connector,
        object_type="customer",
        name="walk",
        columns={"number": "Number", "name": "Name"},
        actor=actor,
        reason="role walk",
    )
    checked = services.import_check(
        file_name="walk.csv", content=b"Number,Name\nW-1,Walker\n", mapping=mapping
    )
    upload = services.import_start(connector=connector, mapping=mapping, checked=checked)
    return {"column_mapping": mapping, "file_import": services.import_run(upload.pk)}
