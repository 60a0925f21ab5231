"""The OpenAPI document a client developer reads at /docs: every endpoint is described, and
every JSON request body comes with an example."""

from __future__ import annotations

import httpx


async def test_every_endpoint_has_a_summary_and_every_body_an_example(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]
    missing_summary = []
    missing_example = []
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            if not op.get("summary"):
                missing_summary.append(f"{method.upper()} {path}")
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body is None:
                continue
            ref = body["schema"].get("$ref", "").rsplit("/", 1)[-1]
            schema = schemas.get(ref, body["schema"])
            if not (schema.get("examples") or schema.get("example") or body.get("examples")):
                missing_example.append(f"{method.upper()} {path}")
    assert len(spec["paths"]) > 50
    assert missing_summary == []
    assert missing_example == []
