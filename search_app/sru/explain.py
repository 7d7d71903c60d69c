"""The ZeeRex explain record: what this SRU server answers, built from the tables that answer it.

The context sets and indexes come from :mod:`search_app.sru.cql_search`, the schemas and limits from
:mod:`search_app.sru.request` and the settings, so explain never lists what a search would refuse.
The server's host and port are those the client used.
"""

from __future__ import annotations

from search_app.sru.cql_search import (
    CODE_RELATIONS,
    CONTEXT_SETS,
    INDEX_NAMES,
    INDEXES,
    SORTABLE,
    TEXT_RELATIONS,
    YEAR_RELATIONS,
)
from search_app.sru.request import DC_SCHEMA, FACET_NAMES, MARCXML_SCHEMA, OAI_DC_SCHEMA
from unicat import oai_protocol
from unicat.record_xml import escape
from unicat.settings import Settings

ZEEREX_NS = "http://explain.z3950.org/dtd/2.0/"
_SCHEMAS = (
    (
        MARCXML_SCHEMA,
        "marcxml",
        "MARC21 slim (MARCXML), holdings in 852",
        oai_protocol.MARC_SCHEMA,
    ),
    (DC_SCHEMA, "dc", "Dublin Core (srw_dc)", "http://www.loc.gov/standards/sru/recordSchemas/dc-schema.xsd"),
    (OAI_DC_SCHEMA, "oai_dc", "Dublin Core (oai_dc)", oai_protocol.OAI_DC_SCHEMA),
)
_SORTABLE = {(context, name) for context, indexes in INDEXES.items() for name in indexes if name in SORTABLE}
_RELATIONS = {"text": TEXT_RELATIONS, "ident": TEXT_RELATIONS, "year": YEAR_RELATIONS, "code": CODE_RELATIONS}


def zeerex(settings: Settings, host: str, port: int, database: str, version: str) -> str:
    """The explain record for a client that reached us at ``host:port/database``."""
    parts = [f'<zr:explain xmlns:zr="{ZEEREX_NS}">']
    parts.append(
        f'<zr:serverInfo protocol="SRU" version="{escape(version)}" transport="http" method="GET POST">'
        f"<zr:host>{escape(host)}</zr:host><zr:port>{port}</zr:port>"
        f"<zr:database>{escape(database)}</zr:database></zr:serverInfo>"
    )
    parts.append(
        '<zr:databaseInfo><zr:title lang="en" primary="true">Unicat union catalogue</zr:title>'
        '<zr:description lang="en" primary="true">One record per edition with the holdings of every '
        "library; unicat.library selects the records a library holds.</zr:description></zr:databaseInfo>"
    )
    parts.append("<zr:indexInfo>")
    for name, identifier in CONTEXT_SETS.items():
        parts.append(f'<zr:set name="{name}" identifier="{escape(identifier)}"/>')
    for context, indexes in INDEXES.items():
        for name, index in indexes.items():
            sort = "true" if (context, name) in _SORTABLE else "false"
            parts.append(
                f'<zr:index search="true" scan="false" sort="{sort}">'
                f'<zr:title lang="en">{escape(index.title)}</zr:title><zr:map>'
                f'<zr:name set="{context}">{INDEX_NAMES.get((context, name), name)}</zr:name></zr:map>'
            )
            relations = "".join(
                f'<zr:supports type="relation">{escape(relation)}</zr:supports>'
                for relation in _RELATIONS.get(index.kind, ("=",))
            )
            parts.append(f"<zr:configInfo>{relations}</zr:configInfo></zr:index>")
    parts.append("</zr:indexInfo>")
    parts.append("<zr:schemaInfo>")
    for identifier, name, title, location in _SCHEMAS:
        parts.append(
            f'<zr:schema identifier="{identifier}" name="{name}" location="{location}" sort="false" '
            f'retrieve="true"><zr:title lang="en">{escape(title)}</zr:title></zr:schema>'
        )
    parts.append("</zr:schemaInfo>")
    parts.append(_config(settings))
    parts.append("</zr:explain>")
    return "".join(parts)


def _config(settings: Settings) -> str:
    settings_parts = [
        f'<zr:default type="numberOfRecords">{settings.page_size}</zr:default>',
        f'<zr:setting type="maximumRecords">{settings.max_page_size}</zr:setting>',
        '<zr:default type="contextSet">dc</zr:default>',
        '<zr:default type="index">cql.serverChoice</zr:default>',
        '<zr:default type="relation">=</zr:default>',
        '<zr:default type="retrieveSchema">marcxml</zr:default>',
        '<zr:supports type="sortKeys"/>',
        '<zr:supports type="maskingCharacter">*</zr:supports>',
        '<zr:supports type="relationModifier">relevant</zr:supports>',
        '<zr:supports type="relationModifier">ignoreCase</zr:supports>',
        '<zr:supports type="booleanOperator">and</zr:supports>',
        '<zr:supports type="booleanOperator">or</zr:supports>',
        '<zr:supports type="booleanOperator">not</zr:supports>',
    ]
    settings_parts.extend(
        f'<zr:supports type="facet">{escape(index)}</zr:supports>' for index in FACET_NAMES.values()
    )
    return "<zr:configInfo>" + "".join(settings_parts) + "</zr:configInfo>"
