"""The text of OAI-PMH responses: the envelope, headers, records, tokens and the small verbs' bodies.

Built as strings (values through :func:`unicat.record_xml.escape`) because list responses are
streamed record by record; the tests parse every response and validate it against the OAI-PMH and
metadata schemas.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from search_app.oai.formats import MetadataFormat
from unicat.oai_items import OaiItem
from unicat.oai_protocol import (
    OAI_IDENTIFIER_NS,
    OAI_IDENTIFIER_SCHEMA,
    OAI_NS,
    OAI_SCHEMA,
    SECONDS_GRANULARITY,
    XSI_NS,
)
from unicat.record_xml import escape


def _attributes(attributes: Mapping[str, str]) -> str:
    return "".join(f' {name}="{escape(value)}"' for name, value in attributes.items())


def envelope_start(response_date: str, base_url: str, request: Mapping[str, str] | None) -> str:
    """Up to and including ``<request>``; ``request`` is the verb and arguments to echo (``None`` for
    badVerb and badArgument, which echo the base URL only)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<OAI-PMH xmlns="{OAI_NS}" xmlns:xsi="{XSI_NS}" xsi:schemaLocation="{OAI_NS} {OAI_SCHEMA}">'
        f"<responseDate>{response_date}</responseDate>"
        f"<request{_attributes(request or {})}>{escape(base_url)}</request>"
    )


ENVELOPE_END = "</OAI-PMH>\n"


def error(code: str, message: str) -> str:
    return f'<error code="{code}">{escape(message)}</error>'


def header(item: OaiItem, identifier: str, datestamp: str) -> str:
    status = ' status="deleted"' if item.deleted else ""
    sets = "".join(f"<setSpec>{escape(spec)}</setSpec>" for spec in item.sets)
    return (
        f"<header{status}><identifier>{escape(identifier)}</identifier>"
        f"<datestamp>{datestamp}</datestamp>{sets}</header>"
    )


def record(item: OaiItem, identifier: str, datestamp: str, metadata: str | None) -> str:
    body = f"<metadata>{metadata}</metadata>" if metadata is not None and not item.deleted else ""
    return f"<record>{header(item, identifier, datestamp)}{body}</record>"


def resumption_token(token: str, total: int, cursor: int, expires: str | None) -> str:
    """A token for the next page, or (``token`` empty) the empty one that ends a resumed list."""
    expiry = f' expirationDate="{expires}"' if expires and token else ""
    attributes = f'{expiry} completeListSize="{total}" cursor="{cursor}"'
    return f"<resumptionToken{attributes}>{escape(token)}</resumptionToken>"


def identify(
    *,
    name: str,
    base_url: str,
    admin_email: str,
    earliest: str,
    repository_identifier: str,
    sample_identifier: str,
) -> str:
    return (
        "<Identify>"
        f"<repositoryName>{escape(name)}</repositoryName>"
        f"<baseURL>{escape(base_url)}</baseURL>"
        "<protocolVersion>2.0</protocolVersion>"
        f"<adminEmail>{escape(admin_email)}</adminEmail>"
        f"<earliestDatestamp>{earliest}</earliestDatestamp>"
        "<deletedRecord>persistent</deletedRecord>"
        f"<granularity>{SECONDS_GRANULARITY}</granularity>"
        "<compression>gzip</compression><compression>deflate</compression>"
        "<description>"
        f'<oai-identifier xmlns="{OAI_IDENTIFIER_NS}" '
        f'xsi:schemaLocation="{OAI_IDENTIFIER_NS} {OAI_IDENTIFIER_SCHEMA}">'
        "<scheme>oai</scheme>"
        f"<repositoryIdentifier>{escape(repository_identifier)}</repositoryIdentifier>"
        "<delimiter>:</delimiter>"
        f"<sampleIdentifier>{escape(sample_identifier)}</sampleIdentifier>"
        "</oai-identifier>"
        "</description>"
        "</Identify>"
    )


def metadata_formats(formats: Iterable[MetadataFormat[Any]]) -> str:
    return (
        "<ListMetadataFormats>"
        + "".join(
            f"<metadataFormat><metadataPrefix>{fmt.prefix}</metadataPrefix><schema>{fmt.schema}</schema>"
            f"<metadataNamespace>{fmt.namespace}</metadataNamespace></metadataFormat>"
            for fmt in formats
        )
        + "</ListMetadataFormats>"
    )


def sets(named: Mapping[str, str]) -> str:
    return (
        "<ListSets>"
        + "".join(
            f"<set><setSpec>{escape(spec)}</setSpec><setName>{escape(name)}</setName></set>"
            for spec, name in named.items()
        )
        + "</ListSets>"
    )
