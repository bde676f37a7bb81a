"""The consultation logic the Rasa custom actions call (actions/ stays thin).

answers: compose a cited answer from search results; followup: rewrite
elliptical follow-ups with the conversation context; handoff: decide when a
person must take over and create the ticket; forms: validate application
fields; messages: the metadata every bot message carries.
"""
