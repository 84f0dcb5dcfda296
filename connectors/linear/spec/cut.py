"""Cut ``schema.subset.graphql`` from Linear's public schema (run by hand, not by tests).

``python connectors/linear/spec/cut.py <schema.graphql>`` keeps the root fields below (the ones the
simulator answers) and every type they reach, unchanged (descriptions, deprecations, arguments,
input types whole), printed by graphql-core. A document the simulator is sent is validated against
the result: a field or argument Linear does not have fails as it would at Linear; a root field the
simulator does not serve fails as unknown.
"""

from __future__ import annotations

import sys
from pathlib import Path

from graphql import GraphQLObjectType, GraphQLSchema, build_schema, print_schema

QUERIES = ("viewer", "organization", "teams", "team", "users", "user", "issues", "issue", "issueLabels",
           "issueLabel", "workflowStates", "workflowState", "comments", "comment")
MUTATIONS = ("issueCreate", "issueUpdate", "issueArchive", "issueUnarchive", "issueDelete",
             "commentCreate", "commentUpdate", "commentDelete")


def cut(full: GraphQLSchema) -> GraphQLSchema:
    def root(source: GraphQLObjectType, names: tuple[str, ...]) -> GraphQLObjectType:
        return GraphQLObjectType(source.name, {name: source.fields[name] for name in names},
                                 description=source.description)

    assert full.query_type is not None and full.mutation_type is not None
    return GraphQLSchema(query=root(full.query_type, QUERIES), mutation=root(full.mutation_type, MUTATIONS),
                         directives=full.directives)


if __name__ == "__main__":
    schema = cut(build_schema(Path(sys.argv[1]).read_text()))
    out = Path(__file__).with_name("schema.subset.graphql")
    out.write_text(print_schema(schema) + "\n")
    print(f"{out}: {len(schema.type_map)} types")
