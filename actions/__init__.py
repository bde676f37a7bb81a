"""Rasa custom actions (rasa-sdk). Thin: they translate between the tracker and consult/."""
