from pathlib import Path

from unigate.plugins import ConnectorDefinition, hookimpl


@hookimpl
def unigate_connectors() -> list[ConnectorDefinition]:
    return [ConnectorDefinition(service_id="example", mapping=Path(__file__).with_name("example.yaml"))]
