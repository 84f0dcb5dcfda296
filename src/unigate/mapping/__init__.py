"""Mapping engine: downstream records <-> unified records, compiled once from mapping files.

- ``paths``: JSONPath compiled to getters/setters (fast path for simple paths)
- ``transforms``: value transforms (timestamps, ids, assignees, tags)
- ``template``: ``{settings.x}``/``{collection_id}`` templates
- ``spec`` + ``checks``: the mapping-file schema and its validation
- ``compiled``: ``RecordMapping``, a generated reader and a partial writer per resource
- ``passthrough``: request-level ``pass_through`` (body JSONPath edits and query params)
- ``fields``: the ``fields=`` response filter
"""
