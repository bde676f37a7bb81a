"""The human expert desk: routing, SLA clocks, replies into the chat, reusable answers back into the knowledge base."""
