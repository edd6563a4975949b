"""Per-key value holders: how a state key combines the writes of one step."""

from pausegraph.channels._channels import (
    MISSING,
    BinaryOperatorAggregate,
    Channel,
    LastValue,
    channel_for,
)

__all__ = ["MISSING", "BinaryOperatorAggregate", "Channel", "LastValue", "channel_for"]
