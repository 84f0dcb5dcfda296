"""The connector engine: runs unified operations against a tracker, declaratively by default.

``Connector`` executes what a mapping file declares; quirk connectors subclass it.
"""

from unigate.connector.base import Connector, implements
from unigate.connector.context import OperationContext, OperationResult, UnifiedRequest

__all__ = ["Connector", "OperationContext", "OperationResult", "UnifiedRequest", "implements"]
