"""Validate the Teams app manifest and its language files offline against Microsoft's schemas.

Both schemas are JSON Schema draft-04 with only local references; the registry refuses to
retrieve anything, so a reference to another document fails the test instead of fetching it.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource

SCHEMAS = Path(__file__).parent / "schemas"
MANIFEST_SCHEMA = SCHEMAS / "MicrosoftTeams.v1.30.schema.json"
LOCALIZATION_SCHEMA = SCHEMAS / "MicrosoftTeams.Localization.v1.30.schema.json"
MANIFEST_SCHEMA_URL = (
    "https://developer.microsoft.com/en-us/json-schemas/teams/v1.30/MicrosoftTeams.schema.json"
)
LOCALIZATION_SCHEMA_URL = (
    "https://developer.microsoft.com/en-us/json-schemas/teams/v1.30/MicrosoftTeams.Localization.schema.json"
)


def _no_network(uri: str) -> Resource[Any]:
    raise NoSuchResource(ref=uri)


@cache
def _validator(path: Path, url: str) -> Draft4Validator:
    schema = json.loads(path.read_text(encoding="utf-8"))
    # A valid draft-04 schema (its patterns use ECMA-262's \p{L}, which Python's `re` lacks, so the
    # metaschema's "regex" format is not checked; the manifest uses no property with such a pattern).
    problems = list(Draft4Validator(Draft4Validator.META_SCHEMA).iter_errors(schema))
    assert not problems, f"{path.name} is not a draft-04 schema: {problems[0].message}"
    # The schema is also known under its public URL, so a reference to it resolves locally.
    resource = Resource.from_contents(schema, default_specification=_draft4())
    registry: Registry[Any] = Registry(retrieve=_no_network).with_resource(url, resource)
    return Draft4Validator(schema, registry=registry)


def _draft4() -> Any:
    from referencing.jsonschema import DRAFT4

    return DRAFT4


def _errors(validator: Draft4Validator, instance: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:300]}"
        for e in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    ]


def manifest_errors(manifest: dict[str, Any]) -> list[str]:
    """Every way the manifest breaks the Teams manifest 1.30 schema (draft-04 has no `const`,
    so the manifest version is checked by hand)."""
    errors = _errors(_validator(MANIFEST_SCHEMA, MANIFEST_SCHEMA_URL), manifest)
    if manifest.get("manifestVersion") != "1.30":
        errors.append(f"manifestVersion is {manifest.get('manifestVersion')!r}, not '1.30'")
    return errors


def localization_errors(strings: dict[str, Any]) -> list[str]:
    return _errors(_validator(LOCALIZATION_SCHEMA, LOCALIZATION_SCHEMA_URL), strings)
