"""Validates OCDS 1.1.5 packages against the official schemas and
compiles each record's releases with PyPI ocdsmerge.

Usage: check_packages.py SCHEMA_DIR (the directory of the OCDS 1.1.5
schemas, ../shared/conformance/ocds beside the repository). Reads one JSON object from stdin: {"release_packages": [...],
"record_packages": [...]}. Prints one JSON object: {"errors": [...],
"compiled": [...]} where errors lists every schema violation (package
kind, index, path, message) and compiled holds ocdsmerge's compiled
release of each record of each record package, in order. Nothing is
downloaded: the schemas are read from SCHEMA_DIR.
"""
import json
import sys
from pathlib import Path

import jsonschema
import ocdsmerge
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SCHEMAS = Path(sys.argv[1])


def load(name):
    return json.loads((SCHEMAS / name).read_text(encoding="utf-8"))


release_schema = load("release-schema.json")
resource = Resource.from_contents(release_schema, default_specification=DRAFT4)
registry = Registry().with_resources(
    [(release_schema["id"], resource), ("release-schema.json", resource)]
)
validators = {
    kind: jsonschema.Draft4Validator(
        load(f"{kind}-package-schema.json"),
        registry=registry,
        format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER,
    )
    for kind in ("release", "record")
}

data = json.load(sys.stdin)
errors = []
compiled = []
merger = ocdsmerge.Merger(schema=release_schema)
for kind in ("release", "record"):
    for i, package in enumerate(data[f"{kind}_packages"]):
        for e in validators[kind].iter_errors(package):
            errors.append(
                {"package": kind, "index": i, "path": "/".join(map(str, e.absolute_path)), "message": e.message}
            )
        if kind == "record":
            for record in package["records"]:
                compiled.append(merger.create_compiled_release(record["releases"]))
json.dump({"errors": errors, "compiled": compiled}, sys.stdout)
