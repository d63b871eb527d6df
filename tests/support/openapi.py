"""What an OpenAPI document leaves unbounded in what clients send (issue 11: every text field
has a length limit stated in the API document)."""

from __future__ import annotations

from typing import Any

# Strings in these formats are parsed, so their length is bounded by the parse.
_PARSED_FORMATS = {"uuid", "date", "date-time", "time", "duration"}
# An anchored pattern without open repetition bounds the length (``^\d{4}-W\d{2}$``).
_REPEATS = {"*", "+", ","}


def unbounded(document: dict[str, Any]) -> list[str]:
    """Every string, list and integer a client sends (bodies, query, path and header
    parameters) without a stated limit, as ``"POST /path body.field: why"``."""
    components = document.get("components", {}).get("schemas", {})
    found: list[str] = []
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            for parameter in operation.get("parameters", []):
                _check(
                    parameter.get("schema", {}),
                    f"{where} {parameter['in']}.{parameter['name']}",
                    components,
                    found,
                    set(),
                )
            body = operation.get("requestBody", {}).get("content", {})
            for media in body.values():
                _check(media.get("schema", {}), f"{where} body", components, found, set())
    return found


def _check(
    schema: dict[str, Any],
    where: str,
    components: dict[str, Any],
    found: list[str],
    seen: set[str],
) -> None:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            _check(components[name], where, components, found, seen | {name})
        return
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(key, []):
            _check(branch, where, components, found, seen)
    kind = schema.get("type")
    if kind == "string":
        pattern = str(schema.get("pattern", ""))
        bounded = (
            "maxLength" in schema
            or (pattern.startswith("^") and pattern.endswith("$") and not _REPEATS & set(pattern))
            or "enum" in schema
            or "const" in schema
            or schema.get("format") in _PARSED_FORMATS
        )
        if not bounded:
            found.append(f"{where}: string without maxLength")
    elif kind == "integer":
        if "maximum" not in schema and "exclusiveMaximum" not in schema:
            found.append(f"{where}: integer without maximum")
    elif kind == "array":
        if "maxItems" not in schema:
            found.append(f"{where}: array without maxItems")
        _check(schema.get("items", {}), f"{where}[]", components, found, seen)
    elif kind == "object" or "properties" in schema:
        for name, child in schema.get("properties", {}).items():
            _check(child, f"{where}.{name}", components, found, seen)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            _check(extra, f"{where}.*", components, found, seen)
